// SGDUpdate: plain stochastic gradient descent, in place on the variable.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"

namespace salus::cpu {

Status sgd_update(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 0));
    const TensorView &var = ctx.inputs[0];
    const TensorView &grad = ctx.inputs[1];
    const int64_t n = var.numel();
    if (grad.numel() != n) {
        return Status(SALUS_EEXEC, "SGDUpdate: variable and gradient differ in size");
    }
    const float lr = static_cast<float>(ctx.node->attr_float("lr", 0.0));
    float *w = var.f32();
    const float *g = grad.f32();
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
    return Status();
}

} // namespace salus::cpu
