// Group and instance normalization on the CPU: X [N, C, ...] seen as
// [N, groups, C / groups, inner]; statistics per (sample, group) in double,
// then a per-channel affine. InstanceNormalization has a group per channel.
#include "exec/cpu/norm_kernels.h"
#include "exec/cuda/norm_device.h"

#include <algorithm>

namespace salus::cpu {

namespace {

int64_t num_groups(const NodeDesc &node, int64_t channels) {
    return node.op.rfind("Instance", 0) == 0 ? channels : node.get_int("num_groups");
}

struct Group {
    int64_t c0 = 0, cn = 0; // first channel and channel count
    int64_t base = 0;       // element offset of (n, c0)
    int64_t size = 0;       // elements
};

Group group_at(const ChannelSplit &s, int64_t groups, int64_t n, int64_t g) {
    Group gr;
    gr.cn = s.channels / groups;
    gr.c0 = g * gr.cn;
    gr.base = (n * s.channels + gr.c0) * s.inner;
    gr.size = gr.cn * s.inner;
    return gr;
}

} // namespace

Status group_norm(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_norm_f32(ctx, 3, 1));
    const ChannelSplit s = split_channels(ctx.inputs[0].shape);
    const int64_t groups = num_groups(*ctx.node, s.channels);
    const float eps = static_cast<float>(ctx.node->get_float("epsilon"));
    const float *scale = ctx.inputs[1].f32();
    const float *bias = ctx.inputs[2].f32();
    for (int64_t n = 0; n < s.outer; ++n) {
        for (int64_t g = 0; g < groups; ++g) {
            const Group gr = group_at(s, groups, n, g);
            const float *x = ctx.inputs[0].f32() + gr.base;
            float *y = ctx.outputs[0].f32() + gr.base;
            double mean = 0.0, var = 0.0;
            contiguous_stats(x, gr.size, &mean, &var);
            const float m = static_cast<float>(mean);
            const float inv_std = cuda::norm_inv_std(var, eps);
            for (int64_t c = 0; c < gr.cn; ++c) {
                const int64_t ch = gr.c0 + c;
                for (int64_t i = 0; i < s.inner; ++i) {
                    const int64_t j = c * s.inner + i;
                    y[j] = cuda::norm_apply(x[j], m, inv_std, scale[ch], bias[ch]);
                }
            }
        }
    }
    return {};
}

size_t group_norm_grad_workspace(const KernelInit &init) {
    // Double accumulators of dScale and dBias.
    return 2 * static_cast<size_t>(init.inputs[1].shape[1]) * sizeof(double);
}

Status group_norm_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_norm_f32(ctx, 3, 3));
    const ChannelSplit s = split_channels(ctx.inputs[1].shape);
    if (ctx.workspace_bytes < 2 * static_cast<size_t>(s.channels) * sizeof(double)) {
        return Status(SALUS_EEXEC, ctx.node->op + ": workspace too small");
    }
    const int64_t groups = num_groups(*ctx.node, s.channels);
    const float eps = static_cast<float>(ctx.node->get_float("epsilon"));
    const float *scale = ctx.inputs[2].f32();
    auto *d_scale = static_cast<double *>(ctx.workspace);
    double *d_bias = d_scale + s.channels;
    std::fill(d_scale, d_scale + 2 * s.channels, 0.0);
    for (int64_t n = 0; n < s.outer; ++n) {
        for (int64_t g = 0; g < groups; ++g) {
            const Group gr = group_at(s, groups, n, g);
            const float *x = ctx.inputs[1].f32() + gr.base;
            const float *dy = ctx.inputs[0].f32() + gr.base;
            float *dx = ctx.outputs[0].f32() + gr.base;
            double mean_d = 0.0, var = 0.0;
            contiguous_stats(x, gr.size, &mean_d, &var);
            const float mean = static_cast<float>(mean_d);
            const float inv_std = cuda::norm_inv_std(var, eps);
            // Per channel Σ dY and Σ dY · x̂: the parameter gradients' terms,
            // and (times the channel's scale) the group's sums of g = dY · scale.
            double sum_g = 0.0, sum_gx = 0.0;
            for (int64_t c = 0; c < gr.cn; ++c) {
                const int64_t ch = gr.c0 + c;
                const float *dyc = dy + c * s.inner;
                const float *xc = x + c * s.inner;
                double sum_dy = 0.0, sum_dy_xhat = 0.0;
                lane_sum2(
                    s.inner,
                    [&](int64_t i, double *a, double *b) {
                        *a += dyc[i];
                        *b += static_cast<double>(dyc[i]) * ((xc[i] - mean) * inv_std);
                    },
                    &sum_dy, &sum_dy_xhat);
                sum_g += sum_dy * scale[ch];
                sum_gx += sum_dy_xhat * scale[ch];
                d_scale[ch] += sum_dy_xhat;
                d_bias[ch] += sum_dy;
            }
            const double size = static_cast<double>(gr.size);
            for (int64_t c = 0; c < gr.cn; ++c) {
                const int64_t ch = gr.c0 + c;
                for (int64_t i = 0; i < s.inner; ++i) {
                    const int64_t j = c * s.inner + i;
                    const float xhat = (x[j] - mean) * inv_std;
                    dx[j] = cuda::norm_grad_input(dy[j] * scale[ch], xhat, inv_std, sum_g / size,
                                                  sum_gx / size);
                }
            }
        }
    }
    for (int64_t c = 0; c < s.channels; ++c) {
        ctx.outputs[1].f32()[c] = static_cast<float>(d_scale[c]);
        ctx.outputs[2].f32()[c] = static_cast<float>(d_bias[c]);
    }
    return {};
}

} // namespace salus::cpu
