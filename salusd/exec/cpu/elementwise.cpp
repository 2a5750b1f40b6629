// Elementwise kernels: the loops around the formulas of
// exec/cuda/elementwise_device.h (shared with the CUDA kernels), one kernel
// registered per line of its op lists.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"
#include "exec/cuda/elementwise_plans.h"

#include <cstring>

namespace salus::cpu {

namespace {

using cuda::BinaryOp;
using cuda::CompareOp;
using cuda::EwDType;
using cuda::EwParams;
using cuda::GradOp;
using cuda::LogicOp;
using cuda::UnaryOp;

// True when `s` holds exactly one row of `y`'s last dimension ([C] or [1,C]
// against [..., C]), the bias case of a fully connected layer.
bool is_row(const Shape &s, const Shape &y) {
    return !s.empty() && !y.empty() && s.back() == y.back() && num_elements(s) == y.back();
}

Status size_error(const KernelContext &ctx) {
    return Status(SALUS_EEXEC, ctx.node->op + ": inputs and output differ in size");
}

// Output 0 walked against `inputs` broadcast inputs, any dtypes.
Status broadcast_loop(const KernelContext &ctx, size_t inputs, StridedLoop *loop) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, inputs, 1));
    const Shape &y = ctx.outputs[0].shape;
    int64_t strides[kMaxOperands][kMaxRank];
    bool ok = broadcast_strides(y, y, strides[0]);
    for (size_t i = 0; ok && i < inputs; ++i) {
        ok = broadcast_strides(ctx.inputs[i].shape, y, strides[i + 1]);
    }
    if (!ok) {
        return Status(SALUS_EEXEC, ctx.node->op + ": input shapes do not broadcast to the output");
    }
    *loop = make_loop(y, static_cast<int>(inputs) + 1, strides);
    return {};
}

// y = f(a, b) over a broadcast walk of element types Y, A, B.
template <typename Y, typename A, typename B, typename Fn>
void apply2(const StridedLoop &loop, const KernelContext &ctx, Fn f) {
    Y *py = static_cast<Y *>(ctx.outputs[0].data);
    const A *pa = static_cast<const A *>(ctx.inputs[0].data);
    const B *pb = static_cast<const B *>(ctx.inputs[1].data);
    const int64_t len = loop.inner_dim();
    const int64_t sy = loop.inner_stride(0), sa = loop.inner_stride(1), sb = loop.inner_stride(2);
    for_each_row(loop, [&](const int64_t *off) {
        Y *yr = py + off[0];
        const A *ar = pa + off[1];
        const B *br = pb + off[2];
        for (int64_t j = 0; j < len; ++j) yr[j * sy] = f(ar[j * sa], br[j * sb]);
    });
}

// y = f(a, b) over `rows` rows of `cols`, each operand's row `step` apart
// (0: one row for all, a bias).
template <BinaryOp op>
SALUS_CPU_CLONES void binary_rows(const float *a, int64_t a_step, const float *b, int64_t b_step,
                                  float *y, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) {
        const float *ar = a + r * a_step;
        const float *br = b + r * b_step;
        float *yr = y + r * cols;
        for (int64_t c = 0; c < cols; ++c) yr[c] = cuda::binary(op, ar[c], br[c]);
    }
}

template <BinaryOp op>
SALUS_CPU_CLONES void binary_vs(const float *a, float s, float *y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = cuda::binary(op, a[i], s);
}

template <BinaryOp op>
SALUS_CPU_CLONES void binary_sv(float s, const float *b, float *y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) y[i] = cuda::binary(op, s, b[i]);
}

// Add, Sub, Mul, Div of f64, i32 and i64: one broadcast walk (f32, the
// dtype of networks, has binary_kernel's vectorized layouts).
template <BinaryOp op>
Status arith_kernel(const KernelContext &ctx) {
    cuda::StridedIndex ix;
    int64_t n = 0;
    EwDType type;
    SALUS_RETURN_IF_ERROR(cuda::plan_arith(ctx, op, &ix, &n, &type));
    StridedLoop loop;
    SALUS_RETURN_IF_ERROR(broadcast_loop(ctx, 2, &loop));
    auto f = [](auto a, auto b) { return cuda::arith(op, a, b); };
    switch (type) {
    case EwDType::F64:
        apply2<double, double, double>(loop, ctx, f);
        break;
    case EwDType::I32:
        apply2<int32_t, int32_t, int32_t>(loop, ctx, f);
        break;
    case EwDType::I64:
        apply2<int64_t, int64_t, int64_t>(loop, ctx, f);
        break;
    case EwDType::F32:
    case EwDType::Bool:
        break;
    }
    return Status();
}

template <BinaryOp op>
Status binary_kernel(const KernelContext &ctx) {
    if (ctx.outputs.size() == 1 && ctx.outputs[0].dtype != DType::F32) {
        return arith_kernel<op>(ctx);
    }
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 1));
    const TensorView &a = ctx.inputs[0];
    const TensorView &b = ctx.inputs[1];
    const TensorView &y = ctx.outputs[0];
    const float *pa = a.f32();
    const float *pb = b.f32();
    float *py = y.f32();
    const int64_t n = y.numel();
    if (n == 0) return Status();
    auto f = [](float u, float v) { return cuda::binary(op, u, v); };

    // The common layouts of a network get plain loops the compiler vectorizes.
    const bool a_full = a.shape == y.shape;
    const bool b_full = b.shape == y.shape;
    if (a_full && b_full) {
        binary_rows<op>(pa, 0, pb, 0, py, 1, n);
        return Status();
    }
    if (a_full && b.numel() == 1) {
        binary_vs<op>(pa, pb[0], py, n);
        return Status();
    }
    if (b_full && a.numel() == 1) {
        binary_sv<op>(pa[0], pb, py, n);
        return Status();
    }
    if ((a_full && is_row(b.shape, y.shape)) || (b_full && is_row(a.shape, y.shape))) {
        const int64_t cols = y.shape.back();
        binary_rows<op>(pa, a_full ? cols : 0, pb, b_full ? cols : 0, py, n / cols, cols);
        return Status();
    }
    StridedLoop loop;
    SALUS_RETURN_IF_ERROR(broadcast_loop(ctx, 2, &loop));
    apply2<float, float, float>(loop, ctx, f);
    return Status();
}

// The loops of the unary and grad ops, with p.tanh a compile-time constant
// (the kernels pick kTanh), so that a formula's choice of variant (Gelu's)
// is made once, not per element: a loop with the branch inside does not
// vectorize.
template <UnaryOp op, bool kTanh>
SALUS_CPU_CLONES void unary_loop(const float *x, float *y, int64_t n, EwParams p) {
    p.tanh = kTanh;
    for (int64_t i = 0; i < n; ++i) y[i] = cuda::unary(op, x[i], p);
}

template <GradOp op, bool kTanh>
SALUS_CPU_CLONES void grad_loop(const float *dy, const float *z, float *dx, int64_t n, EwParams p) {
    p.tanh = kTanh;
    for (int64_t i = 0; i < n; ++i) dx[i] = cuda::grad(op, dy[i], z[i], p);
}

// Y = f(X), same size.
template <UnaryOp op>
Status unary_kernel(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 1, 1));
    const int64_t n = ctx.outputs[0].numel();
    if (ctx.inputs[0].numel() != n) return size_error(ctx);
    const float *x = ctx.inputs[0].f32();
    float *y = ctx.outputs[0].f32();
    const EwParams p = cuda::ew_params(*ctx.node);
    if (p.tanh) {
        unary_loop<op, true>(x, y, n, p);
    } else {
        unary_loop<op, false>(x, y, n, p);
    }
    return Status();
}

// dX = f(dY, Z), same sizes.
template <GradOp op>
Status grad_kernel(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 1));
    const int64_t n = ctx.outputs[0].numel();
    if (ctx.inputs[0].numel() != n || ctx.inputs[1].numel() != n) return size_error(ctx);
    const float *dy = ctx.inputs[0].f32();
    const float *z = ctx.inputs[1].f32();
    float *dx = ctx.outputs[0].f32();
    const EwParams p = cuda::ew_params(*ctx.node);
    if (p.tanh) {
        grad_loop<op, true>(dy, z, dx, n, p);
    } else {
        grad_loop<op, false>(dy, z, dx, n, p);
    }
    return Status();
}

template <CompareOp op>
Status compare_kernel(const KernelContext &ctx) {
    cuda::StridedIndex ix;
    int64_t n = 0;
    EwDType type;
    SALUS_RETURN_IF_ERROR(cuda::plan_compare(ctx, &ix, &n, &type));
    StridedLoop loop;
    SALUS_RETURN_IF_ERROR(broadcast_loop(ctx, 2, &loop));
    switch (type) {
    case EwDType::F32:
        apply2<bool, float, float>(loop, ctx,
                                   [](float a, float b) { return cuda::compare(op, a, b); });
        break;
    case EwDType::I32:
        apply2<bool, int32_t, int32_t>(
            loop, ctx, [](int32_t a, int32_t b) { return cuda::compare(op, a, b); });
        break;
    case EwDType::I64:
        apply2<bool, int64_t, int64_t>(
            loop, ctx, [](int64_t a, int64_t b) { return cuda::compare(op, a, b); });
        break;
    case EwDType::F64:
        apply2<bool, double, double>(loop, ctx,
                                     [](double a, double b) { return cuda::compare(op, a, b); });
        break;
    case EwDType::Bool:
        break;
    }
    return Status();
}

template <LogicOp op>
Status logic_kernel(const KernelContext &ctx) {
    cuda::StridedIndex ix;
    int64_t n = 0;
    SALUS_RETURN_IF_ERROR(cuda::plan_logic(ctx, &ix, &n));
    if (op == LogicOp::Not) {
        const bool *x = static_cast<const bool *>(ctx.inputs[0].data);
        bool *y = static_cast<bool *>(ctx.outputs[0].data);
        for (int64_t i = 0; i < n; ++i) y[i] = cuda::logic(op, x[i], false);
        return Status();
    }
    StridedLoop loop;
    SALUS_RETURN_IF_ERROR(broadcast_loop(ctx, 2, &loop));
    apply2<bool, bool, bool>(loop, ctx, [](bool a, bool b) { return cuda::logic(op, a, b); });
    return Status();
}

template <typename T>
void where_loop(const StridedLoop &loop, const KernelContext &ctx) {
    T *py = static_cast<T *>(ctx.outputs[0].data);
    const bool *pc = static_cast<const bool *>(ctx.inputs[0].data);
    const T *px = static_cast<const T *>(ctx.inputs[1].data);
    const T *pv = static_cast<const T *>(ctx.inputs[2].data);
    const int64_t len = loop.inner_dim();
    const int64_t sy = loop.inner_stride(0), sc = loop.inner_stride(1);
    const int64_t sx = loop.inner_stride(2), sv = loop.inner_stride(3);
    for_each_row(loop, [&](const int64_t *off) {
        for (int64_t j = 0; j < len; ++j) {
            py[off[0] + j * sy] = pc[off[1] + j * sc] ? px[off[2] + j * sx] : pv[off[3] + j * sv];
        }
    });
}

// Element bytes are copied as they are: Where moves values, of any dtype.
Status where(const KernelContext &ctx) {
    cuda::StridedIndex ix;
    int64_t n = 0;
    size_t size = 0;
    SALUS_RETURN_IF_ERROR(cuda::plan_where(ctx, &ix, &n, &size));
    StridedLoop loop;
    SALUS_RETURN_IF_ERROR(broadcast_loop(ctx, 3, &loop));
    if (size == 1) where_loop<uint8_t>(loop, ctx);
    if (size == 4) where_loop<uint32_t>(loop, ctx);
    if (size == 8) where_loop<uint64_t>(loop, ctx);
    return Status();
}

template <typename To, typename From>
void cast_n(const void *x, void *y, int64_t n) {
    const From *in = static_cast<const From *>(x);
    To *out = static_cast<To *>(y);
    for (int64_t i = 0; i < n; ++i) out[i] = cuda::cast_value<To, From>(in[i]);
}

template <typename From>
void cast_from(EwDType to, const void *x, void *y, int64_t n) {
    switch (to) {
    case EwDType::F32:
        return cast_n<float, From>(x, y, n);
    case EwDType::I32:
        return cast_n<int32_t, From>(x, y, n);
    case EwDType::I64:
        return cast_n<int64_t, From>(x, y, n);
    case EwDType::Bool:
        return cast_n<bool, From>(x, y, n);
    case EwDType::F64:
        return cast_n<double, From>(x, y, n);
    }
}

Status cast(const KernelContext &ctx) {
    int64_t n = 0;
    EwDType from, to;
    SALUS_RETURN_IF_ERROR(cuda::plan_cast(ctx, &n, &from, &to));
    const void *x = ctx.inputs[0].data;
    void *y = ctx.outputs[0].data;
    switch (from) {
    case EwDType::F32:
        cast_from<float>(to, x, y, n);
        break;
    case EwDType::I32:
        cast_from<int32_t>(to, x, y, n);
        break;
    case EwDType::I64:
        cast_from<int64_t>(to, x, y, n);
        break;
    case EwDType::Bool:
        cast_from<bool>(to, x, y, n);
        break;
    case EwDType::F64:
        cast_from<double>(to, x, y, n);
        break;
    }
    return Status();
}

// Clip and ClipGrad: an absent bound does not bound.
template <bool kGrad>
Status clip_kernel(const KernelContext &ctx) {
    int64_t n = 0;
    int lo_at = -1, hi_at = -1;
    SALUS_RETURN_IF_ERROR(cuda::plan_clip(ctx, kGrad, &n, &lo_at, &hi_at));
    const float lo = lo_at >= 0 ? ctx.inputs[static_cast<size_t>(lo_at)].f32()[0] : -INFINITY;
    const float hi = hi_at >= 0 ? ctx.inputs[static_cast<size_t>(hi_at)].f32()[0] : INFINITY;
    float *y = ctx.outputs[0].f32();
    if (kGrad) {
        const float *dy = ctx.inputs[0].f32();
        const float *x = ctx.inputs[1].f32();
        for (int64_t i = 0; i < n; ++i) y[i] = cuda::clip_grad(dy[i], x[i], lo, hi);
    } else {
        const float *x = ctx.inputs[0].f32();
        for (int64_t i = 0; i < n; ++i) y[i] = cuda::clip(x[i], lo, hi);
    }
    return Status();
}

Status prelu_grad(const KernelContext &ctx) {
    cuda::StridedIndex ix;
    int64_t n = 0;
    cuda::SlopeSumPlan sums;
    SALUS_RETURN_IF_ERROR(cuda::plan_prelu_grad(ctx, &ix, &n, &sums));
    const float *dy = ctx.inputs[0].f32();
    const float *x = ctx.inputs[1].f32();
    const float *slope = ctx.inputs[2].f32();
    float *dx = ctx.outputs[0].f32();
    float *dslope = ctx.outputs[1].f32();
    for (int64_t i = 0; i < n; ++i) {
        dx[i] = cuda::prelu_grad_x(dy[i], x[i], slope[cuda::strided_offset(ix, 1, i)]);
    }
    for (int64_t o = 0; o < sums.slopes; ++o) {
        double sum = 0.0;
        for (int64_t k = 0; k < sums.count; ++k) {
            const int64_t at = cuda::slope_term_offset(sums, o, k);
            sum += cuda::prelu_grad_slope(dy[at], x[at]);
        }
        dslope[o] = static_cast<float>(sum);
    }
    return Status();
}

} // namespace

void register_elementwise_kernels(KernelRegistry *registry) {
    const DeviceType cpu = DeviceType::CPU;
#define SALUS_REG_UNARY(Op, formula) registry->add(cpu, #Op, unary_kernel<UnaryOp::Op>);
#define SALUS_REG_GRAD(Op, formula) registry->add(cpu, #Op "Grad", grad_kernel<GradOp::Op>);
#define SALUS_REG_BINARY(Op, formula) registry->add(cpu, #Op, binary_kernel<BinaryOp::Op>);
#define SALUS_REG_COMPARE(Op, formula) registry->add(cpu, #Op, compare_kernel<CompareOp::Op>);
#define SALUS_REG_LOGIC(Op, formula) registry->add(cpu, #Op, logic_kernel<LogicOp::Op>);
    SALUS_EW_UNARY_OPS(SALUS_REG_UNARY)
    SALUS_EW_GRAD_OPS(SALUS_REG_GRAD)
    SALUS_EW_BINARY_OPS(SALUS_REG_BINARY)
    SALUS_EW_COMPARE_OPS(SALUS_REG_COMPARE)
    SALUS_EW_LOGIC_OPS(SALUS_REG_LOGIC)
#undef SALUS_REG_UNARY
#undef SALUS_REG_GRAD
#undef SALUS_REG_BINARY
#undef SALUS_REG_COMPARE
#undef SALUS_REG_LOGIC
    registry->add(cpu, "Where", where);
    registry->add(cpu, "Cast", cast);
    registry->add(cpu, "Clip", clip_kernel<false>);
    registry->add(cpu, "ClipGrad", clip_kernel<true>);
    registry->add(cpu, "PReluGrad", prelu_grad);
}

} // namespace salus::cpu
