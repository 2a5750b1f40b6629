// Layer normalization on the CPU: X seen as [rows, K], K the product of the
// normalized axes [axis, rank); statistics per row in double, two passes.
#include "exec/cpu/helpers.h"
#include "exec/cpu/norm_kernels.h"
#include "exec/cuda/norm_device.h"

#include <algorithm>

namespace salus::cpu {

LayerRows split_layer_rows(const NodeDesc &node, const Shape &x) {
    const int rank = static_cast<int>(x.size());
    const int axis = normalize_axis(node.get_int("axis"), rank);
    LayerRows r;
    for (int d = 0; d < rank; ++d) (d < axis ? r.rows : r.k) *= x[d];
    return r;
}

Status layer_norm(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_norm_f32(ctx, 2, 1));
    const LayerRows r = split_layer_rows(*ctx.node, ctx.inputs[0].shape);
    const float eps = static_cast<float>(ctx.node->get_float("epsilon"));
    const float *scale = ctx.inputs[1].f32();
    const float *bias = ctx.inputs.size() > 2 ? ctx.inputs[2].f32() : nullptr;
    for (int64_t i = 0; i < r.rows; ++i) {
        const float *x = ctx.inputs[0].f32() + i * r.k;
        float *y = ctx.outputs[0].f32() + i * r.k;
        double mean = 0.0, var = 0.0;
        contiguous_stats(x, r.k, &mean, &var);
        const float m = static_cast<float>(mean);
        const float inv_std = cuda::norm_inv_std(var, eps);
        for (int64_t j = 0; j < r.k; ++j) {
            y[j] = cuda::norm_apply(x[j], m, inv_std, scale[j], bias ? bias[j] : 0.0f);
        }
        if (ctx.outputs.size() > 1) ctx.outputs[1].f32()[i] = m;
        if (ctx.outputs.size() > 2) ctx.outputs[2].f32()[i] = inv_std;
    }
    return {};
}

size_t layer_norm_grad_workspace(const KernelInit &init) {
    // Double accumulators of dScale and dB.
    return 2 * static_cast<size_t>(split_layer_rows(*init.node, init.inputs[1].shape).k) *
           sizeof(double);
}

Status layer_norm_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_norm_f32(ctx, 5, 2));
    const LayerRows r = split_layer_rows(*ctx.node, ctx.inputs[1].shape);
    if (ctx.workspace_bytes < 2 * static_cast<size_t>(r.k) * sizeof(double)) {
        return Status(SALUS_EEXEC, ctx.node->op + ": workspace too small");
    }
    const float *scale = ctx.inputs[2].f32();
    auto *d_scale = static_cast<double *>(ctx.workspace);
    double *d_bias = d_scale + r.k;
    std::fill(d_scale, d_scale + 2 * r.k, 0.0);
    for (int64_t i = 0; i < r.rows; ++i) {
        const float *dy = ctx.inputs[0].f32() + i * r.k;
        const float *x = ctx.inputs[1].f32() + i * r.k;
        float *dx = ctx.outputs[0].f32() + i * r.k;
        const float mean = ctx.inputs[3].f32()[i];
        const float inv_std = ctx.inputs[4].f32()[i];
        double sum_g = 0.0, sum_gx = 0.0;
        lane_sum2(
            r.k,
            [&](int64_t j, double *g_acc, double *gx_acc) {
                const float xhat = (x[j] - mean) * inv_std;
                const float g = dy[j] * scale[j];
                *g_acc += g;
                *gx_acc += static_cast<double>(g) * xhat;
            },
            &sum_g, &sum_gx);
        for (int64_t j = 0; j < r.k; ++j) {
            // Independent per column: these vectorize.
            d_scale[j] += static_cast<double>(dy[j]) * ((x[j] - mean) * inv_std);
            d_bias[j] += dy[j];
        }
        const double k = static_cast<double>(r.k);
        for (int64_t j = 0; j < r.k; ++j) {
            const float xhat = (x[j] - mean) * inv_std;
            dx[j] = cuda::norm_grad_input(dy[j] * scale[j], xhat, inv_std, sum_g / k, sum_gx / k);
        }
    }
    for (int64_t j = 0; j < r.k; ++j) {
        ctx.outputs[1].f32()[j] = static_cast<float>(d_scale[j]);
        if (ctx.outputs.size() > 2) ctx.outputs[2].f32()[j] = static_cast<float>(d_bias[j]);
    }
    return {};
}

} // namespace salus::cpu
