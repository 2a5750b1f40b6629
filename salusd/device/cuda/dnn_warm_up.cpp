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

// A 1x1 max pooling over UnitConv's tensor, and batch normalization over
// [1, 1, 2, 1] (training needs two values) with [1, 1, 1, 1] statistics.
struct UnitOps {
    cudnnPoolingDescriptor_t pool = nullptr;
    cudnnTensorDescriptor_t two = nullptr;

    Status create() {
        SALUS_RETURN_IF_ERROR(
            check(cudnnCreatePoolingDescriptor(&pool), "cudnnCreatePoolingDescriptor"));
        SALUS_RETURN_IF_ERROR(
            check(cudnnSetPooling2dDescriptor(pool, CUDNN_POOLING_MAX_DETERMINISTIC,
                                              CUDNN_PROPAGATE_NAN, 1, 1, 0, 0, 1, 1),
                  "cudnnSetPooling2dDescriptor"));
        SALUS_RETURN_IF_ERROR(
            check(cudnnCreateTensorDescriptor(&two), "cudnnCreateTensorDescriptor"));
        return check(
            cudnnSetTensor4dDescriptor(two, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 1, 2, 1),
            "cudnnSetTensor4dDescriptor");
    }
    ~UnitOps() {
        if (two) (void)cudnnDestroyTensorDescriptor(two);
        if (pool) (void)cudnnDestroyPoolingDescriptor(pool);
    }
};

Status ops_warm_up(cudnnHandle_t dnn, const UnitConv &u, float *scratch) {
    UnitOps o;
    SALUS_RETURN_IF_ERROR(o.create());
    const float one = 1.0f, zero = 0.0f;
    float *x = scratch, *y = scratch + 1, *dx = scratch + 2;
    SALUS_RETURN_IF_ERROR(check(cudnnPoolingForward(dnn, o.pool, &one, u.t, x, &zero, u.t, y),
                                "cudnnPoolingForward (warm-up)"));
    SALUS_RETURN_IF_ERROR(
        check(cudnnPoolingBackward(dnn, o.pool, &one, u.t, y, u.t, y, u.t, x, &zero, u.t, dx),
              "cudnnPoolingBackward (warm-up)"));
    // [1, 1, 2, 1] X, Y, dY, dX, then one float per statistic.
    float *bx = scratch + 3, *by = scratch + 5, *bdy = scratch + 7, *bdx = scratch + 9;
    float *scale = scratch + 11, *bias = scratch + 12, *mean = scratch + 13, *var = scratch + 14;
    float *inv_std = scratch + 15;
    const double eps = 1e-5;
    SALUS_RETURN_IF_ERROR(check(
        cudnnBatchNormalizationForwardInference(dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, o.two,
                                                bx, o.two, by, u.t, scale, bias, mean, var, eps),
        "cudnnBatchNormalizationForwardInference (warm-up)"));
    // The saved mean in the pooling's X, done with by now (one stream).
    float *saved_mean = x;
    SALUS_RETURN_IF_ERROR(check(cudnnBatchNormalizationForwardTraining(
                                    dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, o.two, bx, o.two, by,
                                    u.t, scale, bias, 0.1, mean, var, eps, saved_mean, inv_std),
                                "cudnnBatchNormalizationForwardTraining (warm-up)"));
    // dScale and dBias land in bias and var, read no more.
    return check(cudnnBatchNormalizationBackward(dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one,
                                                 &zero, o.two, bx, o.two, bdy, o.two, bdx, u.t,
                                                 scale, bias, var, eps, saved_mean, inv_std),
                 "cudnnBatchNormalizationBackward (warm-up)");
}

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
    SALUS_RETURN_IF_ERROR(check(cudnnConvolutionBackwardFilter(dnn, &one, u.t, x, u.t, y, u.c,
                                                               CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0,
                                                               nullptr, 0, &zero, u.f, w),
                                "cudnnConvolutionBackwardFilter (warm-up)"));
    return ops_warm_up(dnn, u, scratch);
}

} // namespace salus::cuda
