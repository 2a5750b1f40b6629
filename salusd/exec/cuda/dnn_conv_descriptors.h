// The cuDNN descriptors of a planned convolution (dnn_conv_plans.h),
// created once when the session is prepared and destroyed with its kernel.
#pragma once

#include "exec/cuda/dnn_conv_plans.h"

#include <cudnn.h>

namespace salus::cuda {

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
