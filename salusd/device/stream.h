// A stream of execution: the order in which one lane's copies and kernels run
// on the device. Work queued on one stream runs in order; work on different
// streams may overlap. The CPU backend's stream runs everything at once on
// the calling thread; the CUDA backend's wraps a cudaStream_t and a cuBLAS
// handle bound to it (device/cuda/cuda_stream.h).
//
// A stream is used by one thread at a time: its lane's.
#pragma once

#include "common/status.h"

#include <cstddef>
#include <string>

namespace salus {

class Stream {
  public:
    virtual ~Stream() = default;

    // Binds the calling thread to the stream's device (cudaSetDevice); a lane
    // thread calls it once before running anything.
    virtual Status attach_thread() = 0;
    // How operators find it, e.g. "cuda stream 3"; empty when there is
    // nothing to name beyond the thread (the CPU backend).
    virtual std::string name() const = 0;

    // Queued copies. Host memory must stay valid and unchanged until
    // synchronize() returns: on CUDA, pass staging memory
    // (Device::allocate_staging) so that the copy is truly asynchronous.
    virtual Status copy_to_device(void *dst, const void *src, size_t bytes) = 0;
    virtual Status copy_to_host(void *dst, const void *src, size_t bytes) = 0;
    // Waits for everything queued so far; reports the first asynchronous
    // error of that work.
    virtual Status synchronize() = 0;
};

} // namespace salus
