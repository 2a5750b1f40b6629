#include "device/cuda/dnn_warm_up.h"

#include "device/cuda/cuda_check.h"

namespace salus::cuda {

namespace {

// The descriptors of a 1x1x1x1 convolution, destroyed with it.
struct UnitConv {
    cudnnTensorDescriptor_t t = nullptr;
    cudnnFilterDescriptor_t f = nullptr;
    cudnnConvolutionDescriptor_t c = nullptr;

    Status create() {
        SALUS_RETURN_IF_ERROR(
            check(cudnnCreateTensorDescriptor(&t), "cudnnCreateTensorDescriptor"));
        SALUS_RETURN_IF_ERROR(
            check(cudnnCreateFilterDescriptor(&f), "cudnnCreateFilterDescriptor"));
        SALUS_RETURN_IF_ERROR(
            check(cudnnCreateConvolutionDescriptor(&c), "cudnnCreateConvolutionDescriptor"));
        SALUS_RETURN_IF_ERROR(
            check(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 1, 1, 1),
                  "cudnnSetTensor4dDescriptor"));
        SALUS_RETURN_IF_ERROR(
            check(cudnnSetFilter4dDescriptor(f, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 1, 1, 1, 1),
                  "cudnnSetFilter4dDescriptor"));
        return check(cudnnSetConvolution2dDescriptor(c, 0, 0, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION,
                                                     CUDNN_DATA_FLOAT),
                     "cudnnSetConvolution2dDescriptor");
    }
    ~UnitConv() {
        if (c) (void)cudnnDestroyConvolutionDescriptor(c);
        if (f) (void)cudnnDestroyFilterDescriptor(f);
        if (t) (void)cudnnDestroyTensorDescriptor(t);
    }
};

} // namespace

Status dnn_warm_up(cudnnHandle_t dnn, float *scratch) {
    UnitConv u;
    SALUS_RETURN_IF_ERROR(u.create());
    const float one = 1.0f, zero = 0.0f;
    float *x = scratch, *w = scratch + 1, *y = scratch + 2;
    // The algorithms that need no workspace.
    SALUS_RETURN_IF_ERROR(check(cudnnConvolutionForward(dnn, &one, u.t, x, u.f, w, u.c,
                                                        CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
                                                        nullptr, 0, &zero, u.t, y),
                                "cudnnConvolutionForward (warm-up)"));
    SALUS_RETURN_IF_ERROR(check(cudnnConvolutionBackwardData(dnn, &one, u.f, w, u.t, y, u.c,
                                                             CUDNN_CONVOLUTION_BWD_DATA_ALGO_0,
                                                             nullptr, 0, &zero, u.t, x),
                                "cudnnConvolutionBackwardData (warm-up)"));
    return check(cudnnConvolutionBackwardFilter(dnn, &one, u.t, x, u.t, y, u.c,
                                                CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, nullptr, 0,
                                                &zero, u.f, w),
                 "cudnnConvolutionBackwardFilter (warm-up)");
}

} // namespace salus::cuda
