// LogSoftmax, its grad, and the losses with class indices, on the CUDA
// kernels' plans (exec/cuda/loss_plans.h). Sums run in double, like
// softmax.cpp's. A label outside [0, C) that is not ignore_index fails the
// iteration before anything is written.
#include "exec/cpu/helpers.h"
#include "exec/cpu/loss.h"
#include "exec/cuda/loss_plans.h"

#include <algorithm>
#include <cmath>

namespace salus::cpu {

namespace {

// What a loss node with class indices reads beside its scores: its
// labels (input first + 1) and class weights (first + 2, optional).
struct Labels {
    cuda::LabelPlan p;
    const void *labels = nullptr;
    const float *weight = nullptr;
    double total_weight = 0.0; // of the counted labels
};

// Plans the node's labels and checks every one before anything is written.
Status read_labels(const KernelContext &ctx, size_t first, Labels *out) {
    cuda::LabelPlan &p = out->p;
    SALUS_RETURN_IF_ERROR(cuda::plan_labels(ctx, first, &p));
    out->labels = ctx.inputs[first + 1].data;
    out->weight = p.has_weight ? ctx.inputs[first + 2].f32() : nullptr;
    double total = 0.0;
    for (int64_t pos = 0; pos < cuda::label_positions(p); ++pos) {
        const int64_t t = cuda::label_at(p, out->labels, pos);
        if (cuda::label_ignored(p, t)) continue;
        if (!cuda::label_valid(p, t)) return cuda::bad_label(ctx, p, pos, t);
        total += cuda::label_weight(p, out->weight, t);
    }
    out->total_weight = total;
    return {};
}

// line_max_lse, built for AVX2 too (one call per line).
SALUS_CPU_CLONES void max_lse(const cuda::AxisPlan p, const float *x, int64_t line, float *max,
                              double *lse) {
    cuda::line_max_lse(p, x, line, max, lse);
}

// SoftmaxCrossEntropyLossGrad of one [N, C] row of `classes` contiguous
// logits whose label is t.
SALUS_CPU_CLONES void sce_grad_row(const float *x, float *dx, int64_t classes, int64_t t, float m,
                                   double inv_sum, double scale) {
    for (int64_t c = 0; c < classes; ++c) {
        dx[c] = cuda::sce_grad_value(x[c], m, inv_sum, false, scale);
    }
    dx[t] = cuda::sce_grad_value(x[t], m, inv_sum, true, scale);
}

} // namespace

Status log_softmax(const KernelContext &ctx) {
    cuda::AxisPlan p;
    SALUS_RETURN_IF_ERROR(cuda::plan_softmax(ctx, &p));
    const float *x = ctx.inputs[0].f32();
    float *y = ctx.outputs[0].f32();
    for (int64_t line = 0; line < cuda::axis_lines(p); ++line) {
        float m;
        double lse;
        max_lse(p, x, line, &m, &lse);
        const int64_t base = cuda::axis_offset(p, line, 0);
        for (int64_t k = 0; k < p.n; ++k) {
            const int64_t at = base + k * p.inner;
            y[at] = static_cast<float>(cuda::log_softmax_value(x[at], m, lse));
        }
    }
    return {};
}

Status log_softmax_grad(const KernelContext &ctx) {
    cuda::AxisPlan p;
    SALUS_RETURN_IF_ERROR(cuda::plan_softmax_grad(ctx, &p));
    const float *dy = ctx.inputs[0].f32();
    const float *y = ctx.inputs[1].f32();
    float *dx = ctx.outputs[0].f32();
    for (int64_t line = 0; line < cuda::axis_lines(p); ++line) {
        double sum = 0.0;
        const int64_t base = cuda::axis_offset(p, line, 0);
        for (int64_t k = 0; k < p.n; ++k) sum += dy[base + k * p.inner];
        const auto s = static_cast<float>(sum);
        for (int64_t k = 0; k < p.n; ++k) {
            const int64_t at = base + k * p.inner;
            dx[at] = cuda::log_softmax_grad_value(dy[at], y[at], s);
        }
    }
    return {};
}

Status nll_loss(const KernelContext &ctx) {
    Labels in;
    SALUS_RETURN_IF_ERROR(read_labels(ctx, 0, &in));
    const cuda::LabelPlan &p = in.p;
    const float *x = ctx.inputs[0].f32();
    float *loss = ctx.outputs[0].f32();
    double total = 0.0;
    for (int64_t pos = 0; pos < cuda::label_positions(p); ++pos) {
        const int64_t t = cuda::label_at(p, in.labels, pos);
        float l = 0.0f;
        if (!cuda::label_ignored(p, t)) {
            l = -cuda::label_weight(p, in.weight, t) * x[cuda::class_offset(p, pos, t)];
        }
        if (p.reduction == 2) loss[pos] = l;
        total += l;
    }
    if (p.reduction != 2) loss[0] = cuda::reduce_loss(p, total, in.total_weight);
    return {};
}

Status nll_loss_grad(const KernelContext &ctx) {
    Labels in;
    SALUS_RETURN_IF_ERROR(read_labels(ctx, 1, &in));
    const cuda::LabelPlan &p = in.p;
    const float *dloss = ctx.inputs[0].f32();
    float *dx = ctx.outputs[0].f32();
    std::fill(dx, dx + ctx.outputs[0].numel(), 0.0f);
    for (int64_t pos = 0; pos < cuda::label_positions(p); ++pos) {
        const int64_t t = cuda::label_at(p, in.labels, pos);
        if (cuda::label_ignored(p, t)) continue;
        const double scale = cuda::loss_grad_scale(p, dloss, pos, in.total_weight);
        dx[cuda::class_offset(p, pos, t)] =
            static_cast<float>(-cuda::label_weight(p, in.weight, t) * scale);
    }
    return {};
}

Status sce_loss(const KernelContext &ctx) {
    Labels in;
    SALUS_RETURN_IF_ERROR(read_labels(ctx, 0, &in));
    const cuda::LabelPlan &p = in.p;
    const float *x = ctx.inputs[0].f32();
    float *loss = ctx.outputs[0].f32();
    float *log_prob = ctx.outputs.size() > 1 ? ctx.outputs[1].f32() : nullptr;
    const cuda::AxisPlan lines = cuda::class_lines(p);
    double total = 0.0;
    for (int64_t pos = 0; pos < cuda::label_positions(p); ++pos) {
        float m;
        double lse;
        max_lse(lines, x, pos, &m, &lse);
        if (log_prob) {
            for (int64_t c = 0; c < p.c; ++c) {
                const int64_t at = cuda::class_offset(p, pos, 0) + c * p.d;
                log_prob[at] = static_cast<float>(cuda::log_softmax_value(x[at], m, lse));
            }
        }
        const int64_t t = cuda::label_at(p, in.labels, pos);
        double l = 0.0;
        if (!cuda::label_ignored(p, t)) {
            const double lp = cuda::log_softmax_value(x[cuda::class_offset(p, pos, t)], m, lse);
            l = -static_cast<double>(cuda::label_weight(p, in.weight, t)) * lp;
        }
        if (p.reduction == 2) loss[pos] = static_cast<float>(l);
        total += l;
    }
    if (p.reduction != 2) loss[0] = cuda::reduce_loss(p, total, in.total_weight);
    return {};
}

Status sce_loss_grad(const KernelContext &ctx) {
    Labels in;
    SALUS_RETURN_IF_ERROR(read_labels(ctx, 1, &in));
    const cuda::LabelPlan &p = in.p;
    const float *dloss = ctx.inputs[0].f32();
    const float *x = ctx.inputs[1].f32();
    float *dx = ctx.outputs[0].f32();
    const cuda::AxisPlan lines = cuda::class_lines(p);
    for (int64_t pos = 0; pos < cuda::label_positions(p); ++pos) {
        const int64_t t = cuda::label_at(p, in.labels, pos);
        if (cuda::label_ignored(p, t)) {
            for (int64_t c = 0; c < p.c; ++c) dx[cuda::class_offset(p, pos, c)] = 0.0f;
            continue;
        }
        float m;
        double lse;
        max_lse(lines, x, pos, &m, &lse);
        const double scale = cuda::loss_grad_scale(p, dloss, pos, in.total_weight) *
                             cuda::label_weight(p, in.weight, t);
        const double inv_sum = exp(-lse);
        const int64_t base = cuda::class_offset(p, pos, 0);
        if (p.d == 1) { // [N, C]: the classes are contiguous, a loop that vectorizes
            sce_grad_row(x + base, dx + base, p.c, t, m, inv_sum, scale);
            continue;
        }
        for (int64_t c = 0; c < p.c; ++c) {
            const int64_t at = base + c * p.d;
            dx[at] = cuda::sce_grad_value(x[at], m, inv_sum, c == t, scale);
        }
    }
    return {};
}

} // namespace salus::cpu
