#include "exec/cuda/dnn_conv_descriptors.h"

#include "device/cuda/cuda_check.h"

namespace salus::cuda {

namespace {

bool has_elements(const int d[4]) {
    return d[0] > 0 && d[1] > 0 && d[2] > 0 && d[3] > 0;
}

} // namespace

Status dnn_tensor_descriptor(const int d[4], cudnnTensorDescriptor_t *out) {
    if (!has_elements(d)) return {};
    SALUS_RETURN_IF_ERROR(check(cudnnCreateTensorDescriptor(out), "cudnnCreateTensorDescriptor"));
    return check(cudnnSetTensor4dDescriptor(*out, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, d[0], d[1],
                                            d[2], d[3]),
                 "cudnnSetTensor4dDescriptor");
}

Status DnnConvDescriptors::create(const DnnConvPlan &p) {
    SALUS_RETURN_IF_ERROR(dnn_tensor_descriptor(p.x, &x));
    SALUS_RETURN_IF_ERROR(dnn_tensor_descriptor(p.y, &y));
    if (p.bias > 0) {
        const int b[4] = {1, p.bias, 1, 1};
        SALUS_RETURN_IF_ERROR(dnn_tensor_descriptor(b, &bias));
    }
    if (p.empty) return {};
    SALUS_RETURN_IF_ERROR(check(cudnnCreateFilterDescriptor(&w), "cudnnCreateFilterDescriptor"));
    SALUS_RETURN_IF_ERROR(check(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                           p.w[0], p.w[1], p.w[2], p.w[3]),
                                "cudnnSetFilter4dDescriptor"));
    SALUS_RETURN_IF_ERROR(
        check(cudnnCreateConvolutionDescriptor(&conv), "cudnnCreateConvolutionDescriptor"));
    SALUS_RETURN_IF_ERROR(
        check(cudnnSetConvolution2dDescriptor(conv, p.pad[0], p.pad[1], p.stride[0], p.stride[1],
                                              p.dilation[0], p.dilation[1], CUDNN_CROSS_CORRELATION,
                                              CUDNN_DATA_FLOAT),
              "cudnnSetConvolution2dDescriptor"));
    SALUS_RETURN_IF_ERROR(
        check(cudnnSetConvolutionGroupCount(conv, p.group), "cudnnSetConvolutionGroupCount"));
    // FMA only: CUDNN_DEFAULT_MATH still lets cuDNN use TF32 tensor cores on
    // Ampere and later (10 mantissa bits), far outside the CPU's rounding.
    return check(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
}

DnnConvDescriptors::~DnnConvDescriptors() {
    if (bias) (void)cudnnDestroyTensorDescriptor(bias);
    if (conv) (void)cudnnDestroyConvolutionDescriptor(conv);
    if (w) (void)cudnnDestroyFilterDescriptor(w);
    if (y) (void)cudnnDestroyTensorDescriptor(y);
    if (x) (void)cudnnDestroyTensorDescriptor(x);
}

} // namespace salus::cuda
