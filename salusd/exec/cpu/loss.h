// The CPU kernels of the loss family (ops/loss.cpp); loss.cpp registers them.
#pragma once

#include "exec/kernel.h"

namespace salus::cpu {

// loss_reduce.cpp
Status reduce_max(const KernelContext &ctx);
Status reduce_min(const KernelContext &ctx);
Status reduce_extremum_grad(const KernelContext &ctx); // ReduceMaxGrad, ReduceMinGrad
Status arg_max(const KernelContext &ctx);
Status arg_min(const KernelContext &ctx);

// loss_softmax.cpp
Status log_softmax(const KernelContext &ctx);
Status log_softmax_grad(const KernelContext &ctx);
Status nll_loss(const KernelContext &ctx);
Status nll_loss_grad(const KernelContext &ctx);
Status sce_loss(const KernelContext &ctx);
Status sce_loss_grad(const KernelContext &ctx);

// loss_optim.cpp
Status sgd_update(const KernelContext &ctx);
Status sgd_momentum_update(const KernelContext &ctx);
Status adam_update(const KernelContext &ctx); // AdamUpdate, AdamWUpdate

} // namespace salus::cpu
