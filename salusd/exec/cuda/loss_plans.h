// Host-side plans of the loss family's kernels (ops/loss.cpp): shape checks
// and parameters from the canonical attributes. Plain C++ shared by the CPU
// kernels (exec/cpu/loss_*.cpp), the CUDA ones (loss_kernels.cpp) and the
// tests, so that both backends read a node the same way.
#pragma once

#include "exec/cuda/kernel_plans.h"
#include "exec/cuda/loss_device.h"

namespace salus::cuda {

// SGDUpdate: var, grad[, lr]; SGDMomentumUpdate: var, grad, buf, step[, lr].
Status plan_sgd(const KernelContext &ctx, bool momentum, int64_t *elements, SgdParams *params,
                LrSource *lr);
// AdamUpdate, AdamWUpdate: var, grad, m, v, step[, lr].
Status plan_adam(const KernelContext &ctx, int64_t *elements, AdamParams *params, LrSource *lr);

// ReduceMax/ReduceMin (input 0) and their grads (dY, X, Y: reduced over X).
Status plan_extremum(const KernelContext &ctx, ReducePlan *plan);
Status plan_extremum_grad(const KernelContext &ctx, ReducePlan *plan);
// ArgMax/ArgMin: X split around `axis`, an i64 output per line.
Status plan_arg(const KernelContext &ctx, AxisPlan *plan);
// LogSoftmax and LogSoftmaxGrad are Softmax's plans (kernel_plans.h).

// The losses: the input and label tensors start at `first` (0 forward, 1 for
// the grads after dLoss), weight optional after them.
Status plan_labels(const KernelContext &ctx, size_t first, LabelPlan *plan);
// The message of a label outside [0, C) that is not ignore_index.
Status bad_label(const KernelContext &ctx, const LabelPlan &plan, int64_t position, int64_t label);

// The CUDA losses' scratch (LabelScratch, then the forward's terms).
size_t label_loss_workspace(const KernelInit &init);      // the forward losses
size_t label_loss_grad_workspace(const KernelInit &init); // their grads

} // namespace salus::cuda
