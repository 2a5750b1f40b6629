// ReduceMax/ReduceMin, their gradient and ArgMax/ArgMin, on the CUDA
// kernels' plans (exec/cuda/loss_plans.h) so both backends walk the same
// elements.
#include "exec/cpu/loss.h"
#include "exec/cuda/loss_plans.h"

#include <cstdint>

namespace salus::cpu {

namespace {

Status reduce_extremum(const KernelContext &ctx, bool max) {
    cuda::ReducePlan p;
    SALUS_RETURN_IF_ERROR(cuda::plan_extremum(ctx, &p));
    const float *x = ctx.inputs[0].f32();
    float *y = ctx.outputs[0].f32();
    for (int64_t o = 0; o < p.outputs; ++o) {
        float acc = x[cuda::reduce_offset(p, o, 0)];
        for (int64_t k = 1; k < p.count; ++k) {
            const float v = x[cuda::reduce_offset(p, o, k)];
            if (cuda::extremum_takes(max, v, acc)) acc = v;
        }
        y[o] = acc;
    }
    return {};
}

Status arg_extremum(const KernelContext &ctx, bool max) {
    cuda::AxisPlan p;
    SALUS_RETURN_IF_ERROR(cuda::plan_arg(ctx, &p));
    const bool last = ctx.node->get_int("select_last_index") != 0;
    const float *x = ctx.inputs[0].f32();
    auto *y = static_cast<int64_t *>(ctx.outputs[0].data);
    for (int64_t line = 0; line < cuda::axis_lines(p); ++line) {
        int64_t best = 0;
        float best_value = x[cuda::axis_offset(p, line, 0)];
        for (int64_t k = 1; k < p.n; ++k) {
            const float v = x[cuda::axis_offset(p, line, k)];
            if (cuda::arg_takes(max, last, v, best_value)) {
                best = k;
                best_value = v;
            }
        }
        y[line] = best;
    }
    return {};
}

} // namespace

Status reduce_max(const KernelContext &ctx) {
    return reduce_extremum(ctx, true);
}
Status reduce_min(const KernelContext &ctx) {
    return reduce_extremum(ctx, false);
}
Status arg_max(const KernelContext &ctx) {
    return arg_extremum(ctx, true);
}
Status arg_min(const KernelContext &ctx) {
    return arg_extremum(ctx, false);
}

Status reduce_extremum_grad(const KernelContext &ctx) {
    cuda::ReducePlan p;
    SALUS_RETURN_IF_ERROR(cuda::plan_extremum_grad(ctx, &p));
    const float *dy = ctx.inputs[0].f32();
    const float *x = ctx.inputs[1].f32();
    const float *y = ctx.inputs[2].f32();
    float *dx = ctx.outputs[0].f32();
    for (int64_t o = 0; o < p.outputs; ++o) {
        int64_t ties = 0;
        for (int64_t k = 0; k < p.count; ++k) ties += x[cuda::reduce_offset(p, o, k)] == y[o];
        const float share = ties > 0 ? dy[o] / static_cast<float>(ties) : 0.0f;
        for (int64_t k = 0; k < p.count; ++k) {
            const int64_t at = cuda::reduce_offset(p, o, k);
            dx[at] = x[at] == y[o] ? share : 0.0f;
        }
    }
    return {};
}

} // namespace salus::cpu
