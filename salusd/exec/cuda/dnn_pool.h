// MaxPool, AveragePool and their gradients on cuDNN's pooling where it pools
// as ONNX says (dnn_pool_plans.h), prepared once per session: descriptors in
// init, destroyed with the kernel; run() only queues cuDNN calls on the
// lane's handle. MaxPoolGrad recomputes the maxima into its workspace in T.
#pragma once

#include "exec/cuda/dnn_pool_plans.h"

#include <memory>

namespace salus::cuda {

// Fails (SALUS_ENOTSUP) where plan_dnn_pool does: the caller chooses first.
Status make_dnn_pool_kernel(const KernelInit &init, std::unique_ptr<OpKernel> *out);

} // namespace salus::cuda
