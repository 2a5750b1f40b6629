// Conv, ConvTranspose and ConvGradWeight on cuDNN (dnn_conv_plans.h says how
// each maps onto a cuDNN convolution pass), prepared once per session:
// descriptors, algorithm and workspace (dnn_conv_algo.h) in init; run() only
// queues cuDNN calls on the lane's handle, with the workspace planned in T.
#pragma once

#include "exec/kernel.h"

#include <memory>

namespace salus::cuda {

Status make_dnn_conv_kernel(const KernelInit &init, std::unique_ptr<OpKernel> *out);

} // namespace salus::cuda
