// The device interface: where a session's memory lives and how bytes move
// between the host and it. The CPU backend implements it with mapped host
// memory; the CUDA backend with device memory and streams.
#pragma once

#include "common/device_type.h"
#include "common/status.h"
#include "device/stream.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace salus {

// What operators are told about the device (status reply, salusctl status).
struct DeviceFacts {
    std::string name;         // the CPU model, or the GPU's name
    int index = -1;           // CUDA device ordinal; -1 for the CPU
    uint64_t total_bytes = 0; // the device's memory
    uint64_t free_bytes = 0;  // free right now, as the system or driver says
};

class Device {
  public:
    virtual ~Device() = default;

    virtual DeviceType type() const = 0;
    // e.g. "cpu (2 cores)"
    virtual std::string description() const = 0;
    virtual DeviceFacts facts() const = 0;
    // The pool claimed when --pool-bytes is not given; `reserve` is what to
    // leave to the rest of the system where the backend honours it.
    // Measured when called: on CUDA, call it after every stream exists (see
    // create_stream) so that the pool leaves exactly `reserve` free.
    virtual uint64_t default_pool_bytes(uint64_t reserve, Status *status) const = 0;
    // True when device memory is host memory (the CPU backend): the host
    // reads and writes it directly, so iterations need no staging buffers.
    virtual bool host_visible() const = 0;

    // Device memory, 64-byte aligned and zero-filled; nullptr with *status
    // set when it cannot be had. bytes may be 0 (returns nullptr, OK status).
    virtual void *allocate(size_t bytes, Status *status) = 0;
    virtual void release(void *ptr, size_t bytes) = 0;
    // Host memory the device copies from and to asynchronously (pinned on
    // CUDA), never taken from the device pool; same contract as allocate().
    virtual void *allocate_staging(size_t bytes, Status *status) = 0;
    virtual void release_staging(void *ptr, size_t bytes) = 0;

    // A stream of execution (with, on CUDA, a cuBLAS handle bound to it).
    // Creating one may take device memory of the driver's: the daemon creates
    // every stream it will use before it claims the pool.
    virtual std::unique_ptr<Stream> create_stream(Status *status) = 0;

    // Synchronous copies outside every stream, used between iterations (no
    // stream has work queued then): initial values, and re-partitioning.
    virtual Status copy_to_device(void *dst, const void *src, size_t bytes) = 0;
    virtual Status copy_to_host(void *dst, const void *src, size_t bytes) = 0;
    // Device to device with memmove semantics (the ranges may overlap): how
    // re-partitioning moves persistent blocks between iterations.
    virtual Status move_within(void *dst, const void *src, size_t bytes) = 0;
};

std::unique_ptr<Device> make_cpu_device();

// Whether spec is a --device value open_device() understands.
bool is_device_spec(const std::string &spec);
// "cuda" is device 0; "cuda:N" device N. -1 when spec names no CUDA device.
int cuda_spec_index(const std::string &spec);

// Opens the device a --device value names: "cpu", "cuda", "cuda:N" or "auto"
// (the first CUDA device when this build has the backend and a device is
// present, else the CPU). *why says, for the log, how auto decided.
Status open_device(const std::string &spec, std::unique_ptr<Device> *out, std::string *why);

#ifdef SALUS_HAVE_CUDA
// The CUDA backend (device/cuda/): how many devices the driver sees (0 with
// *why set when it cannot tell, e.g. no driver), and one of them opened.
int cuda_device_count(std::string *why);
Status open_cuda_device(int index, std::unique_ptr<Device> *out);
#endif

} // namespace salus
