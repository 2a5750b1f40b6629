// BatchNormalization, BatchNormalizationTraining and BatchNormalizationGrad
// on cuDNN where it computes them as our ops say (dnn_batch_norm_plans.h),
// prepared once per session: descriptors in init, destroyed with the kernel;
// run() only queues cuDNN calls on the lane's handle.
#pragma once

#include "exec/cuda/dnn_batch_norm_plans.h"

#include <memory>

namespace salus::cuda {

// Fails (SALUS_ENOTSUP) where plan_dnn_batch_norm does: the caller chooses
// first.
Status make_dnn_batch_norm_kernel(const KernelInit &init, std::unique_ptr<OpKernel> *out);

} // namespace salus::cuda
