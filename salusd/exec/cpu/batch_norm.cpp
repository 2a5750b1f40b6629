// Batch normalization on the CPU: per-channel statistics over [N, ·, inner],
// accumulated in double, two passes (mean, then centred squares) as torch does.
// Our loops rather than oneDNN's: its NCHW batch norm took about twice their
// time on ResNet-18's shapes, and its jit one needs the channel-blocked layout
// and reorders that cost more (bench-cpu-kernels, bench/README.md).
#include "exec/cpu/helpers.h"
#include "exec/cpu/norm_kernels.h"
#include "exec/cuda/norm_device.h"

namespace salus::cpu {

using cuda::norm_apply;
using cuda::norm_inv_std;

namespace {

// Y = scale · (X − mean) · inv_std + B for channel c.
SALUS_CPU_CLONES void normalize_channel(const ChannelSplit &s, int64_t c, const float *x, float *y,
                                        float mean, float inv_std, float scale, float bias) {
    for (int64_t n = 0; n < s.outer; ++n) {
        const int64_t base = (n * s.channels + c) * s.inner;
        for (int64_t i = 0; i < s.inner; ++i) {
            y[base + i] = norm_apply(x[base + i], mean, inv_std, scale, bias);
        }
    }
}

// Mean and biased variance of channel c, two passes.
SALUS_CPU_CLONES void channel_stats(const ChannelSplit &s, int64_t c, const float *x, double *mean,
                                    double *var) {
    const double m = static_cast<double>(s.outer * s.inner);
    double sum = 0.0;
    for (int64_t n = 0; n < s.outer; ++n) {
        const float *row = x + (n * s.channels + c) * s.inner;
        sum += lane_sum(s.inner, [&](int64_t i) { return double{row[i]}; });
    }
    *mean = m > 0 ? sum / m : 0.0;
    const double mu = *mean;
    double sq = 0.0;
    for (int64_t n = 0; n < s.outer; ++n) {
        const float *row = x + (n * s.channels + c) * s.inner;
        sq += lane_sum(s.inner, [&](int64_t i) {
            const double d = row[i] - mu;
            return d * d;
        });
    }
    *var = m > 0 ? sq / m : 0.0;
}

// Σ dY and Σ dY · (X − mean) of channel c.
SALUS_CPU_CLONES void grad_sums(const ChannelSplit &s, int64_t c, const float *dy, const float *x,
                                float mean, double *sum_dy, double *sum_dy_xc) {
    double a = 0.0, b = 0.0;
    for (int64_t n = 0; n < s.outer; ++n) {
        const int64_t base = (n * s.channels + c) * s.inner;
        double ra = 0.0, rb = 0.0;
        lane_sum2(
            s.inner,
            [&](int64_t i, double *pa, double *pb) {
                *pa += dy[base + i];
                *pb += static_cast<double>(dy[base + i]) * (x[base + i] - mean);
            },
            &ra, &rb);
        a += ra;
        b += rb;
    }
    *sum_dy = a;
    *sum_dy_xc = b;
}

} // namespace

Status batch_norm(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_norm_f32(ctx, 5, 1));
    const ChannelSplit s = split_channels(ctx.inputs[0].shape);
    const float *x = ctx.inputs[0].f32();
    const float eps = static_cast<float>(ctx.node->get_float("epsilon"));
    for (int64_t c = 0; c < s.channels; ++c) {
        const float inv_std = norm_inv_std(ctx.inputs[4].f32()[c], eps);
        normalize_channel(s, c, x, ctx.outputs[0].f32(), ctx.inputs[3].f32()[c], inv_std,
                          ctx.inputs[1].f32()[c], ctx.inputs[2].f32()[c]);
    }
    return {};
}

Status batch_norm_training(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_norm_f32(ctx, 5, 1));
    const ChannelSplit s = split_channels(ctx.inputs[0].shape);
    const float *x = ctx.inputs[0].f32();
    const float eps = static_cast<float>(ctx.node->get_float("epsilon"));
    const double momentum = ctx.node->get_float("momentum");
    const int64_t m = s.outer * s.inner; // > 1: the schema refuses one value per channel
    float *running_mean = ctx.inputs[3].f32();
    float *running_var = ctx.inputs[4].f32();
    for (int64_t c = 0; c < s.channels; ++c) {
        double mean = 0.0, var = 0.0;
        channel_stats(s, c, x, &mean, &var);
        const float inv_std = norm_inv_std(var, eps);
        normalize_channel(s, c, x, ctx.outputs[0].f32(), static_cast<float>(mean), inv_std,
                          ctx.inputs[1].f32()[c], ctx.inputs[2].f32()[c]);
        const double unbiased = var * static_cast<double>(m) / static_cast<double>(m - 1);
        running_mean[c] = cuda::running_update(running_mean[c], mean, momentum);
        running_var[c] = cuda::running_update(running_var[c], unbiased, momentum);
        if (ctx.outputs.size() > 1) ctx.outputs[1].f32()[c] = static_cast<float>(mean);
        if (ctx.outputs.size() > 2) ctx.outputs[2].f32()[c] = inv_std;
    }
    return {};
}

namespace {

// dX of channel c given its statistics; `batch_stats` says whether the
// mean and inv_std were computed from X (their gradient flows) or fixed.
SALUS_CPU_CLONES void channel_grad(const KernelContext &ctx, const ChannelSplit &s, int64_t c,
                                   float mean, float inv_std, bool batch_stats) {
    const float *dy = ctx.inputs[0].f32();
    const float *x = ctx.inputs[1].f32();
    const float scale = ctx.inputs[2].f32()[c];
    double sum_dy = 0.0, sum_dy_xc = 0.0;
    grad_sums(s, c, dy, x, mean, &sum_dy, &sum_dy_xc);
    const double sum_dy_xhat = sum_dy_xc * inv_std;
    ctx.outputs[1].f32()[c] = static_cast<float>(sum_dy_xhat);
    ctx.outputs[2].f32()[c] = static_cast<float>(sum_dy);
    float *dx = ctx.outputs[0].f32();
    const double m = static_cast<double>(s.outer * s.inner);
    const double mean_g = batch_stats ? sum_dy * scale / m : 0.0;
    const double mean_gx = batch_stats ? sum_dy_xhat * scale / m : 0.0;
    for (int64_t n = 0; n < s.outer; ++n) {
        const int64_t base = (n * s.channels + c) * s.inner;
        for (int64_t i = 0; i < s.inner; ++i) {
            const float xhat = (x[base + i] - mean) * inv_std;
            dx[base + i] =
                cuda::norm_grad_input(dy[base + i] * scale, xhat, inv_std, mean_g, mean_gx);
        }
    }
}

} // namespace

Status batch_norm_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_norm_f32(ctx, 5, 3));
    const ChannelSplit s = split_channels(ctx.inputs[1].shape);
    for (int64_t c = 0; c < s.channels; ++c) {
        channel_grad(ctx, s, c, ctx.inputs[3].f32()[c], ctx.inputs[4].f32()[c], true);
    }
    return {};
}

Status batch_norm_inference_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_norm_f32(ctx, 5, 3));
    const ChannelSplit s = split_channels(ctx.inputs[1].shape);
    const float eps = static_cast<float>(ctx.node->get_float("epsilon"));
    for (int64_t c = 0; c < s.channels; ++c) {
        const float inv_std = norm_inv_std(ctx.inputs[4].f32()[c], eps);
        channel_grad(ctx, s, c, ctx.inputs[3].f32()[c], inv_std, false);
    }
    return {};
}

} // namespace salus::cpu
