// Softmax along any axis, its grad, and the fused softmax cross-entropy.
// A tensor is seen as [outer, n, inner] around the softmax axis; when inner
// is 1 each row is contiguous, otherwise columns are processed in chunks of
// kChunk so that the per-column state lives on the stack.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"
#include "exec/cpu/norm_kernels.h"
#include "exec/cuda/device_code.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace salus::cpu {

namespace {

constexpr int64_t kChunk = 256;

struct AxisSplit {
    int64_t outer = 1;
    int64_t n = 1;
    int64_t inner = 1;
};

bool split_axis(const KernelContext &ctx, const Shape &shape, AxisSplit *split) {
    const int rank = static_cast<int>(shape.size());
    const int axis = normalize_axis(ctx.node->attr_int("axis", -1), rank);
    if (axis < 0) return false;
    for (int d = 0; d < rank; ++d) {
        if (d < axis) split->outer *= shape[d];
        if (d == axis) split->n = shape[d];
        if (d > axis) split->inner *= shape[d];
    }
    return true;
}

Status axis_error(const char *op) {
    return Status(SALUS_EEXEC, std::string(op) + ": axis out of range");
}

// One contiguous row: exp_poly (device_code.h) rather than a call to expf
// per element, and the double sum in four lanes, so that the loops vectorize.
SALUS_CPU_CLONES void softmax_row(const float *x, float *y, int64_t n) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < n; ++i) m = m < x[i] ? x[i] : m; // std::max(m, x[i])
    for (int64_t i = 0; i < n; ++i) y[i] = cuda::exp_poly(x[i] - m);
    const double sum = lane_sum(n, [&](int64_t i) { return double{y[i]}; });
    const float scale = static_cast<float>(1.0 / sum);
    for (int64_t i = 0; i < n; ++i) y[i] *= scale;
}

// Softmax over `n` rows of `w` adjacent columns whose rows are `inner` apart.
void softmax_columns(const float *x, float *y, int64_t n, int64_t inner, int64_t w) {
    float m[kChunk];
    double sum[kChunk];
    std::fill(m, m + w, -std::numeric_limits<float>::infinity());
    std::fill(sum, sum + w, 0.0);
    for (int64_t i = 0; i < n; ++i) {
        const float *xr = x + i * inner;
        for (int64_t j = 0; j < w; ++j) m[j] = std::max(m[j], xr[j]);
    }
    for (int64_t i = 0; i < n; ++i) {
        const float *xr = x + i * inner;
        float *yr = y + i * inner;
        for (int64_t j = 0; j < w; ++j) {
            yr[j] = std::exp(xr[j] - m[j]);
            sum[j] += yr[j];
        }
    }
    float scale[kChunk];
    for (int64_t j = 0; j < w; ++j) scale[j] = static_cast<float>(1.0 / sum[j]);
    for (int64_t i = 0; i < n; ++i) {
        float *yr = y + i * inner;
        for (int64_t j = 0; j < w; ++j) yr[j] *= scale[j];
    }
}

// dX = Y * (dY - sum(dY * Y)) for one contiguous row.
SALUS_CPU_CLONES void softmax_grad_row(const float *dy, const float *y, float *dx, int64_t n) {
    const double dot = lane_sum(n, [&](int64_t i) { return static_cast<double>(dy[i]) * y[i]; });
    const float d = static_cast<float>(dot);
    for (int64_t i = 0; i < n; ++i) dx[i] = y[i] * (dy[i] - d);
}

void softmax_grad_columns(const float *dy, const float *y, float *dx, int64_t n, int64_t inner,
                          int64_t w) {
    double dot[kChunk];
    std::fill(dot, dot + w, 0.0);
    for (int64_t i = 0; i < n; ++i) {
        const float *dyr = dy + i * inner;
        const float *yr = y + i * inner;
        for (int64_t j = 0; j < w; ++j) dot[j] += static_cast<double>(dyr[j]) * yr[j];
    }
    float d[kChunk];
    for (int64_t j = 0; j < w; ++j) d[j] = static_cast<float>(dot[j]);
    for (int64_t i = 0; i < n; ++i) {
        const float *dyr = dy + i * inner;
        const float *yr = y + i * inner;
        float *dxr = dx + i * inner;
        for (int64_t j = 0; j < w; ++j) dxr[j] = yr[j] * (dyr[j] - d[j]);
    }
}

// The max of a row and sum(exp(x - max)): log_softmax(x) = x - max - log(sum).
void row_max_sum(const float *x, int64_t c, float *max, double *sum) {
    float m = -std::numeric_limits<float>::infinity();
    for (int64_t i = 0; i < c; ++i) m = std::max(m, x[i]);
    double s = 0.0;
    for (int64_t i = 0; i < c; ++i) s += std::exp(x[i] - m);
    *max = m;
    *sum = s;
}

// Checks logits/labels [N,C]; sets N and C.
Status check_xent(const KernelContext &ctx, const char *op, int64_t *rows, int64_t *cols) {
    const Shape &logits = ctx.inputs[0].shape;
    if (logits.size() != 2 || ctx.inputs[1].shape != logits) {
        return Status(SALUS_EEXEC, std::string(op) + ": logits and labels must both be [N, C]");
    }
    *rows = logits[0];
    *cols = logits[1];
    return Status();
}

} // namespace

Status softmax(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 1, 1));
    const TensorView &x = ctx.inputs[0];
    AxisSplit s;
    if (!split_axis(ctx, x.shape, &s)) return axis_error("Softmax");
    if (ctx.outputs[0].numel() != x.numel()) {
        return Status(SALUS_EEXEC, "Softmax: input and output differ in size");
    }
    const float *px = x.f32();
    float *py = ctx.outputs[0].f32();
    const int64_t block = s.n * s.inner;
    for (int64_t o = 0; o < s.outer; ++o) {
        if (s.inner == 1) {
            softmax_row(px + o * block, py + o * block, s.n);
            continue;
        }
        for (int64_t j = 0; j < s.inner; j += kChunk) {
            const int64_t off = o * block + j;
            softmax_columns(px + off, py + off, s.n, s.inner, std::min(kChunk, s.inner - j));
        }
    }
    return Status();
}

Status softmax_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 1));
    const TensorView &y = ctx.inputs[1];
    AxisSplit s;
    if (!split_axis(ctx, y.shape, &s)) return axis_error("SoftmaxGrad");
    if (ctx.inputs[0].numel() != y.numel() || ctx.outputs[0].numel() != y.numel()) {
        return Status(SALUS_EEXEC, "SoftmaxGrad: inputs and output differ in size");
    }
    const float *pdy = ctx.inputs[0].f32();
    const float *py = y.f32();
    float *pdx = ctx.outputs[0].f32();
    const int64_t block = s.n * s.inner;
    for (int64_t o = 0; o < s.outer; ++o) {
        if (s.inner == 1) {
            const int64_t off = o * block;
            softmax_grad_row(pdy + off, py + off, pdx + off, s.n);
            continue;
        }
        for (int64_t j = 0; j < s.inner; j += kChunk) {
            const int64_t off = o * block + j;
            softmax_grad_columns(pdy + off, py + off, pdx + off, s.n, s.inner,
                                 std::min(kChunk, s.inner - j));
        }
    }
    return Status();
}

Status softmax_cross_entropy(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 1));
    int64_t rows = 0, cols = 0;
    SALUS_RETURN_IF_ERROR(check_xent(ctx, "SoftmaxCrossEntropy", &rows, &cols));
    if (ctx.outputs[0].numel() != 1) {
        return Status(SALUS_EEXEC, "SoftmaxCrossEntropy: the loss must be a scalar");
    }
    const float *logits = ctx.inputs[0].f32();
    const float *labels = ctx.inputs[1].f32();
    double total = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
        const float *x = logits + r * cols;
        const float *t = labels + r * cols;
        float m;
        double sum;
        row_max_sum(x, cols, &m, &sum);
        const double lse = std::log(sum);
        for (int64_t c = 0; c < cols; ++c) {
            // A zero label contributes nothing, even where log_softmax is -inf.
            if (t[c] != 0.0f) total -= t[c] * (static_cast<double>(x[c]) - m - lse);
        }
    }
    ctx.outputs[0].f32()[0] = rows > 0 ? static_cast<float>(total / static_cast<double>(rows)) : 0;
    return Status();
}

Status softmax_cross_entropy_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 1));
    int64_t rows = 0, cols = 0;
    SALUS_RETURN_IF_ERROR(check_xent(ctx, "SoftmaxCrossEntropyGrad", &rows, &cols));
    if (ctx.outputs[0].numel() != rows * cols) {
        return Status(SALUS_EEXEC, "SoftmaxCrossEntropyGrad: dLogits must be [N, C]");
    }
    double scale = rows > 0 ? 1.0 / static_cast<double>(rows) : 0.0;
    if (ctx.inputs.size() > 2) {
        if (ctx.inputs[2].numel() != 1) {
            return Status(SALUS_EEXEC, "SoftmaxCrossEntropyGrad: dLoss must be a scalar");
        }
        scale *= ctx.inputs[2].f32()[0];
    }
    const float *logits = ctx.inputs[0].f32();
    const float *labels = ctx.inputs[1].f32();
    float *dlogits = ctx.outputs[0].f32();
    for (int64_t r = 0; r < rows; ++r) {
        const float *x = logits + r * cols;
        const float *t = labels + r * cols;
        float *dx = dlogits + r * cols;
        float m;
        double sum;
        row_max_sum(x, cols, &m, &sum);
        const double inv_sum = 1.0 / sum;
        for (int64_t c = 0; c < cols; ++c) {
            const double p = std::exp(x[c] - m) * inv_sum;
            dx[c] = static_cast<float>((p - t[c]) * scale);
        }
    }
    return Status();
}

} // namespace salus::cpu
