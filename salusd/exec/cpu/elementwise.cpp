// Elementwise ops: broadcasting Add/Sub/Mul, activations and their grads.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"

#include <cmath>

namespace salus::cpu {

namespace {

struct AddOp {
    float operator()(float a, float b) const { return a + b; }
};
struct SubOp {
    float operator()(float a, float b) const { return a - b; }
};
struct MulOp {
    float operator()(float a, float b) const { return a * b; }
};

// True when `s` holds exactly one row of `y`'s last dimension ([C] or [1,C]
// against [..., C]), the bias case of a fully connected layer.
bool is_row(const Shape &s, const Shape &y) {
    return !s.empty() && !y.empty() && s.back() == y.back() && num_elements(s) == y.back();
}

Status shape_error(const KernelContext &ctx) {
    return Status(SALUS_EEXEC, ctx.node->op + ": input shapes do not broadcast to the output");
}

template <typename Op>
Status binary(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 1));
    const TensorView &a = ctx.inputs[0];
    const TensorView &b = ctx.inputs[1];
    const TensorView &y = ctx.outputs[0];
    const float *pa = a.f32();
    const float *pb = b.f32();
    float *py = y.f32();
    const int64_t n = y.numel();
    const Op op;
    if (n == 0) return Status();

    const bool a_full = a.shape == y.shape;
    const bool b_full = b.shape == y.shape;
    if (a_full && b_full) {
        for (int64_t i = 0; i < n; ++i) py[i] = op(pa[i], pb[i]);
        return Status();
    }
    if (a_full && b.numel() == 1) {
        const float s = pb[0];
        for (int64_t i = 0; i < n; ++i) py[i] = op(pa[i], s);
        return Status();
    }
    if (b_full && a.numel() == 1) {
        const float s = pa[0];
        for (int64_t i = 0; i < n; ++i) py[i] = op(s, pb[i]);
        return Status();
    }
    if ((a_full && is_row(b.shape, y.shape)) || (b_full && is_row(a.shape, y.shape))) {
        const int64_t cols = y.shape.back();
        const int64_t rows = n / cols;
        for (int64_t r = 0; r < rows; ++r) {
            const float *ar = a_full ? pa + r * cols : pa;
            const float *br = b_full ? pb + r * cols : pb;
            float *yr = py + r * cols;
            for (int64_t c = 0; c < cols; ++c) yr[c] = op(ar[c], br[c]);
        }
        return Status();
    }

    int64_t strides[3][kMaxRank];
    if (!broadcast_strides(y.shape, y.shape, strides[0]) ||
        !broadcast_strides(a.shape, y.shape, strides[1]) ||
        !broadcast_strides(b.shape, y.shape, strides[2])) {
        return shape_error(ctx);
    }
    const StridedLoop loop = make_loop(y.shape, 3, strides);
    const int64_t len = loop.inner_dim();
    const int64_t sy = loop.inner_stride(0);
    const int64_t sa = loop.inner_stride(1);
    const int64_t sb = loop.inner_stride(2);
    for_each_row(loop, [&](const int64_t *off) {
        float *yr = py + off[0];
        const float *ar = pa + off[1];
        const float *br = pb + off[2];
        for (int64_t j = 0; j < len; ++j) yr[j * sy] = op(ar[j * sa], br[j * sb]);
    });
    return Status();
}

Status size_error(const KernelContext &ctx) {
    return Status(SALUS_EEXEC, ctx.node->op + ": inputs and output differ in size");
}

// Y = f(X), same shape.
template <typename Fn>
Status unary(const KernelContext &ctx, Fn f) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 1, 1));
    const int64_t n = ctx.outputs[0].numel();
    if (ctx.inputs[0].numel() != n) return size_error(ctx);
    const float *x = ctx.inputs[0].f32();
    float *y = ctx.outputs[0].f32();
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
    return Status();
}

// dX = f(dY, Z) where Z is the forward input or output; same shapes.
template <typename Fn>
Status grad(const KernelContext &ctx, Fn f) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 1));
    const int64_t n = ctx.outputs[0].numel();
    if (ctx.inputs[0].numel() != n || ctx.inputs[1].numel() != n) return size_error(ctx);
    const float *dy = ctx.inputs[0].f32();
    const float *z = ctx.inputs[1].f32();
    float *dx = ctx.outputs[0].f32();
    for (int64_t i = 0; i < n; ++i) dx[i] = f(dy[i], z[i]);
    return Status();
}

// Never evaluates exp of a large positive number, so it cannot overflow.
float stable_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + std::exp(-x));
    const float e = std::exp(x);
    return e / (1.0f + e);
}

} // namespace

Status add(const KernelContext &ctx) {
    return binary<AddOp>(ctx);
}
Status sub(const KernelContext &ctx) {
    return binary<SubOp>(ctx);
}
Status mul(const KernelContext &ctx) {
    return binary<MulOp>(ctx);
}

Status relu(const KernelContext &ctx) {
    return unary(ctx, [](float x) { return x > 0.0f ? x : 0.0f; });
}

Status relu_grad(const KernelContext &ctx) {
    return grad(ctx, [](float dy, float x) { return x > 0.0f ? dy : 0.0f; });
}

Status sigmoid(const KernelContext &ctx) {
    return unary(ctx, stable_sigmoid);
}

Status sigmoid_grad(const KernelContext &ctx) {
    return grad(ctx, [](float dy, float y) { return dy * y * (1.0f - y); });
}

Status tanh(const KernelContext &ctx) {
    return unary(ctx, [](float x) { return std::tanh(x); });
}

Status tanh_grad(const KernelContext &ctx) {
    return grad(ctx, [](float dy, float y) { return dy * (1.0f - y * y); });
}

void register_elementwise_kernels(KernelRegistry *registry) {
    (void)registry;
}

} // namespace salus::cpu
