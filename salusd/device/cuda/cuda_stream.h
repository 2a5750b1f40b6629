// A lane's stream on a CUDA device: a non-blocking cudaStream_t (it never
// waits for the legacy default stream, so lanes overlap) and the cuBLAS and
// cuDNN handles bound to it. Kernels reach them through KernelContext::stream.
#pragma once

#include "device/stream.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <memory>
#include <string>

namespace salus::cuda {

class CudaStream final : public Stream {
  public:
    // On `device`; `number` names it in the status reply ("cuda stream 3").
    static std::unique_ptr<CudaStream> create(int device, int number, Status *status);
    ~CudaStream() override;
    CudaStream(const CudaStream &) = delete;
    CudaStream &operator=(const CudaStream &) = delete;

    Status attach_thread() override;
    std::string name() const override { return "cuda stream " + std::to_string(number_); }
    Status copy_to_device(void *dst, const void *src, size_t bytes) override;
    Status copy_to_host(void *dst, const void *src, size_t bytes) override;
    Status synchronize() override;

    cudaStream_t handle() const { return stream_; }
    // Bound to handle(); its workspace is whatever the last MatMul set.
    cublasHandle_t blas() const { return blas_; }
    // Bound to handle(); convolutions pass their planned workspace per call.
    cudnnHandle_t dnn() const { return dnn_; }

  private:
    CudaStream(int device, int number) : device_(device), number_(number) {}
    Status warm_up();

    const int device_;
    const int number_;
    cudaStream_t stream_ = nullptr;
    cublasHandle_t blas_ = nullptr;
    cudnnHandle_t dnn_ = nullptr;
};

// The lane's stream of a CUDA kernel's context.
inline CudaStream &lane_stream(Stream *stream) {
    return *static_cast<CudaStream *>(stream);
}

} // namespace salus::cuda
