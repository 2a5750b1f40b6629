// AdamUpdate: Adam with bias correction, in place on the variable, its two
// moment estimates and its step count, computed as torch.optim.Adam does with
// its default settings (no weight decay, no amsgrad).
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"

#include <cmath>

namespace salus::cpu {

Status adam_update(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 5, 0));
    const TensorView &var = ctx.inputs[0];
    const int64_t n = var.numel();
    for (size_t i = 1; i < 4; ++i) {
        if (ctx.inputs[i].numel() != n) {
            return Status(SALUS_EEXEC, "AdamUpdate: var, grad, m and v differ in size");
        }
    }
    if (ctx.inputs[4].numel() != 1) {
        return Status(SALUS_EEXEC, "AdamUpdate: step is not a scalar");
    }
    const double lr = ctx.node->attr_float("lr", 0.0);
    const double beta1 = ctx.node->attr_float("beta1", 0.9);
    const double beta2 = ctx.node->attr_float("beta2", 0.999);
    const auto eps = static_cast<float>(ctx.node->attr_float("eps", 1e-8));

    float *step = ctx.inputs[4].f32();
    *step += 1.0f;
    // Per-step scalars in double, as torch computes them in Python floats.
    const double t = *step;
    const auto step_size = static_cast<float>(lr / (1.0 - std::pow(beta1, t)));
    const auto bias2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, t)));
    const auto b1 = static_cast<float>(beta1);
    const auto b2 = static_cast<float>(beta2);
    const auto c1 = static_cast<float>(1.0 - beta1);
    const auto c2 = static_cast<float>(1.0 - beta2);

    float *w = var.f32();
    const float *g = ctx.inputs[1].f32();
    float *m = ctx.inputs[2].f32();
    float *v = ctx.inputs[3].f32();
    for (int64_t i = 0; i < n; ++i) {
        m[i] = b1 * m[i] + c1 * g[i];
        v[i] = b2 * v[i] + c2 * (g[i] * g[i]);
        const float denom = std::sqrt(v[i]) / bias2_sqrt + eps;
        w[i] -= step_size * (m[i] / denom);
    }
    return Status();
}

} // namespace salus::cpu
