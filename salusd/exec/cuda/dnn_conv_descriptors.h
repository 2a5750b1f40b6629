// The cuDNN descriptors of a planned convolution (dnn_conv_plans.h),
// created once when the session is prepared and destroyed with its kernel,
// and the 4-d tensor descriptor every cuDNN kernel makes the same way.
#pragma once

#include "exec/cuda/dnn_conv_plans.h"

#include <cudnn.h>

namespace salus::cuda {

// An f32 NCHW descriptor of sizes d, made into *out; a tensor without
// elements keeps it null (cuDNN refuses zero sizes). The caller destroys it.
Status dnn_tensor_descriptor(const int d[4], cudnnTensorDescriptor_t *out);

class DnnConvDescriptors {
  public:
    DnnConvDescriptors() = default;
    ~DnnConvDescriptors();
    DnnConvDescriptors(const DnnConvDescriptors &) = delete;
    DnnConvDescriptors &operator=(const DnnConvDescriptors &) = delete;

    // Describes p. A tensor without elements keeps a null descriptor (cuDNN
    // refuses zero sizes): only the empty plan's output zeroing needs none.
    Status create(const DnnConvPlan &p);

    cudnnTensorDescriptor_t x = nullptr, y = nullptr;
    cudnnFilterDescriptor_t w = nullptr;
    cudnnConvolutionDescriptor_t conv = nullptr;
    cudnnTensorDescriptor_t bias = nullptr; // [1, channels, 1, 1]
};

} // namespace salus::cuda
