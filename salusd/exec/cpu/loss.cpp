// CPU kernels of the loss family (ops/loss.cpp).
#include "exec/cpu/loss.h"

#include "exec/cpu/cpu_kernels.h"

namespace salus::cpu {

void register_loss_kernels(KernelRegistry *registry) {
    struct Entry {
        const char *op;
        KernelFn fn;
        WorkspaceFn workspace;
    };
    static constexpr Entry kKernels[] = {
        {"ReduceMax", reduce_max, nullptr},
        {"ReduceMin", reduce_min, nullptr},
        {"ReduceMaxGrad", reduce_extremum_grad, nullptr},
        {"ReduceMinGrad", reduce_extremum_grad, nullptr},
        {"ArgMax", arg_max, nullptr},
        {"ArgMin", arg_min, nullptr},
        {"LogSoftmax", log_softmax, nullptr},
        {"LogSoftmaxGrad", log_softmax_grad, nullptr},
        {"NegativeLogLikelihoodLoss", nll_loss, nullptr},
        {"NegativeLogLikelihoodLossGrad", nll_loss_grad, nullptr},
        {"SoftmaxCrossEntropyLoss", sce_loss, nullptr},
        {"SoftmaxCrossEntropyLossGrad", sce_loss_grad, nullptr},
        {"SGDUpdate", sgd_update, nullptr},
        {"SGDMomentumUpdate", sgd_momentum_update, nullptr},
        {"AdamUpdate", adam_update, nullptr},
        {"AdamWUpdate", adam_update, nullptr},
    };
    for (const Entry &e : kKernels) registry->add(DeviceType::CPU, e.op, e.fn, e.workspace);
}

} // namespace salus::cpu
