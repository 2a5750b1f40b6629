#include "device/cuda/cuda_stream.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/dnn_warm_up.h"

namespace salus::cuda {

std::unique_ptr<CudaStream> CudaStream::create(int device, int number, Status *status) {
    std::unique_ptr<CudaStream> s(new CudaStream(device, number));
    *status = check(cudaSetDevice(device), "cudaSetDevice");
    if (status->ok()) {
        *status = check(cudaStreamCreateWithFlags(&s->stream_, cudaStreamNonBlocking),
                        "cudaStreamCreateWithFlags");
    }
    if (status->ok()) *status = check(cublasCreate(&s->blas_), "cublasCreate");
    if (status->ok()) *status = check(cublasSetStream(s->blas_, s->stream_), "cublasSetStream");
    // cublasSetStream falls back to cuBLAS's own workspace pool; no GEMM runs
    // without the one the planner gave its MatMul (exec/cuda/matmul.cpp).
    if (status->ok()) {
        *status = check(cublasSetWorkspace(s->blas_, nullptr, 0), "cublasSetWorkspace");
    }
    if (status->ok()) *status = check(cudnnCreate(&s->dnn_), "cudnnCreate");
    if (status->ok()) *status = check(cudnnSetStream(s->dnn_, s->stream_), "cudnnSetStream");
    if (status->ok()) *status = s->warm_up();
    if (!status->ok()) return nullptr;
    return s;
}

// One 1x1x1 GEMM and cuDNN's unit passes (dnn_warm_up.h), so
// that whatever cuBLAS and cuDNN set up on a handle's first call takes its
// device memory now, before the daemon measures the free memory and claims
// its pool, and never while serving.
Status CudaStream::warm_up() {
    void *scratch = nullptr;
    const size_t bytes = kDnnWarmUpFloats * sizeof(float);
    SALUS_RETURN_IF_ERROR(check(cudaMalloc(&scratch, bytes), "cudaMalloc"));
    float *m = static_cast<float *>(scratch);
    const float one = 1.0f, zero = 0.0f;
    Status st = check(cudaMemsetAsync(m, 0, bytes, stream_), "cudaMemsetAsync");
    if (st.ok()) {
        st = check(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, &one, m, 1, m + 1, 1,
                               &zero, m + 2, 1),
                   "cublasSgemm (warm-up)");
    }
    if (st.ok()) st = dnn_warm_up(dnn_, m);
    if (st.ok()) st = synchronize();
    Status freed = check(cudaFree(scratch), "cudaFree");
    return st.ok() ? freed : st;
}

CudaStream::~CudaStream() {
    // Errors here only repeat what the daemon already knows (a lost
    // context); there is nobody left to tell.
    if (dnn_) (void)cudnnDestroy(dnn_);
    if (blas_) (void)cublasDestroy(blas_);
    if (stream_) (void)cudaStreamDestroy(stream_);
}

Status CudaStream::attach_thread() {
    return check(cudaSetDevice(device_), "cudaSetDevice");
}

Status CudaStream::copy_to_device(void *dst, const void *src, size_t bytes) {
    return check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_),
                 "copying an input to the device");
}

Status CudaStream::copy_to_host(void *dst, const void *src, size_t bytes) {
    return check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_),
                 "copying an output to the host");
}

Status CudaStream::synchronize() {
    return check(cudaStreamSynchronize(stream_), "cudaStreamSynchronize");
}

} // namespace salus::cuda
