// The optimizers, in place on their variables, as torch.optim computes them
// (the per-element code is exec/cuda/loss_device.h, shared with CUDA).
#include "exec/cpu/helpers.h"
#include "exec/cpu/loss.h"
#include "exec/cuda/loss_plans.h"

namespace salus::cpu {

namespace {

double lr_of(const cuda::LrSource &lr) {
    return lr.input ? static_cast<double>(*lr.input) : lr.value;
}

SALUS_CPU_CLONES void adam_loop(const cuda::AdamParams p, const cuda::AdamStep s, const float *g,
                                float *w, float *m, float *v, int64_t n) {
    for (int64_t i = 0; i < n; ++i) cuda::adam_element(p, s, g[i], &w[i], &m[i], &v[i]);
}

SALUS_CPU_CLONES void sgd_momentum_loop(const cuda::SgdParams p, float rate, bool first,
                                        const float *g, float *w, float *buf, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        cuda::sgd_momentum_element(p, rate, first, g[i], &w[i], &buf[i]);
}

} // namespace

Status sgd_update(const KernelContext &ctx) {
    int64_t n = 0;
    cuda::SgdParams p;
    cuda::LrSource lr;
    SALUS_RETURN_IF_ERROR(cuda::plan_sgd(ctx, false, &n, &p, &lr));
    const auto rate = static_cast<float>(lr_of(lr));
    float *w = ctx.inputs[0].f32();
    const float *g = ctx.inputs[1].f32();
    for (int64_t i = 0; i < n; ++i) w[i] = cuda::sgd_element(p, rate, g[i], w[i]);
    return {};
}

Status sgd_momentum_update(const KernelContext &ctx) {
    int64_t n = 0;
    cuda::SgdParams p;
    cuda::LrSource lr;
    SALUS_RETURN_IF_ERROR(cuda::plan_sgd(ctx, true, &n, &p, &lr));
    const auto rate = static_cast<float>(lr_of(lr));
    float *step = ctx.inputs[3].f32();
    const bool first = *step == 0.0f;
    float *w = ctx.inputs[0].f32();
    const float *g = ctx.inputs[1].f32();
    float *buf = ctx.inputs[2].f32();
    sgd_momentum_loop(p, rate, first, g, w, buf, n);
    *step += 1.0f;
    return {};
}

Status adam_update(const KernelContext &ctx) {
    int64_t n = 0;
    cuda::AdamParams p;
    cuda::LrSource lr;
    SALUS_RETURN_IF_ERROR(cuda::plan_adam(ctx, &n, &p, &lr));
    float *step = ctx.inputs[4].f32();
    const cuda::AdamStep s = cuda::adam_step(p, *step, lr_of(lr));
    float *w = ctx.inputs[0].f32();
    const float *g = ctx.inputs[1].f32();
    float *m = ctx.inputs[2].f32();
    float *v = ctx.inputs[3].f32();
    adam_loop(p, s, g, w, m, v, n);
    *step += 1.0f;
    return {};
}

} // namespace salus::cpu
