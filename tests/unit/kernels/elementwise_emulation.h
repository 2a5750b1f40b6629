// The elementwise CUDA kernels (exec/cuda/elementwise.cu) emulated on the
// CPU: the same plans (elementwise_plans.h) and formulas
// (elementwise_device.h) with each grid-stride loop written as a plain loop.
#pragma once

#include "exec/cuda/elementwise_plans.h"
#include "exec/cuda/kernel_plans.h"

#include <cmath>
#include <cstdint>
#include <string>

namespace salus::test {

namespace ew_emulation {

using namespace salus::cuda;

template <typename T>
const T *in(const KernelContext &ctx, size_t i) {
    return static_cast<const T *>(ctx.inputs[i].data);
}

template <typename T>
T *out(const KernelContext &ctx, size_t i = 0) {
    return static_cast<T *>(ctx.outputs[i].data);
}

template <typename T>
void compare_all(CompareOp op, const StridedIndex &ix, int64_t n, const KernelContext &ctx) {
    for (int64_t i = 0; i < n; ++i) {
        out<bool>(ctx)[i] = compare(op, in<T>(ctx, 0)[strided_offset(ix, 1, i)],
                                    in<T>(ctx, 1)[strided_offset(ix, 2, i)]);
    }
}

template <typename T>
void arith_all(BinaryOp op, const StridedIndex &ix, int64_t n, const KernelContext &ctx) {
    for (int64_t i = 0; i < n; ++i) {
        out<T>(ctx)[i] = arith(op, in<T>(ctx, 0)[strided_offset(ix, 1, i)],
                               in<T>(ctx, 1)[strided_offset(ix, 2, i)]);
    }
}

// elementwise_kernels.cpp's binary_kernel: f32 by `binary`, others by `arith`.
inline Status binary_all(BinaryOp op, const KernelContext &ctx) {
    StridedIndex ix;
    int64_t n = 0;
    if (ctx.outputs.size() == 1 && ctx.outputs[0].dtype != DType::F32) {
        EwDType type;
        SALUS_RETURN_IF_ERROR(plan_arith(ctx, op, &ix, &n, &type));
        if (type == EwDType::F64) arith_all<double>(op, ix, n, ctx);
        if (type == EwDType::I32) arith_all<int32_t>(op, ix, n, ctx);
        if (type == EwDType::I64) arith_all<int64_t>(op, ix, n, ctx);
        return {};
    }
    SALUS_RETURN_IF_ERROR(plan_binary(ctx, &ix, &n));
    for (int64_t i = 0; i < n; ++i) {
        out<float>(ctx)[i] = binary(op, in<float>(ctx, 0)[strided_offset(ix, 1, i)],
                                    in<float>(ctx, 1)[strided_offset(ix, 2, i)]);
    }
    return {};
}

template <typename T>
void where_all(const StridedIndex &ix, int64_t n, const KernelContext &ctx) {
    for (int64_t i = 0; i < n; ++i) {
        out<T>(ctx)[i] = in<bool>(ctx, 0)[strided_offset(ix, 1, i)]
                             ? in<T>(ctx, 1)[strided_offset(ix, 2, i)]
                             : in<T>(ctx, 2)[strided_offset(ix, 3, i)];
    }
}

template <typename To, typename From>
void cast_all(int64_t n, const KernelContext &ctx) {
    for (int64_t i = 0; i < n; ++i) out<To>(ctx)[i] = cast_value<To, From>(in<From>(ctx, 0)[i]);
}

template <typename From>
void cast_from(EwDType to, int64_t n, const KernelContext &ctx) {
    switch (to) {
    case EwDType::F32:
        return cast_all<float, From>(n, ctx);
    case EwDType::I32:
        return cast_all<int32_t, From>(n, ctx);
    case EwDType::I64:
        return cast_all<int64_t, From>(n, ctx);
    case EwDType::Bool:
        return cast_all<bool, From>(n, ctx);
    case EwDType::F64:
        return cast_all<double, From>(n, ctx);
    }
}

} // namespace ew_emulation

// True when ctx.node->op is an elementwise op emulated here; *st is then its
// result.
inline bool emulate_elementwise(const KernelContext &ctx, Status *st) {
    using namespace ew_emulation;
    const std::string &op = ctx.node->op;
    const EwParams p = ew_params(*ctx.node);
    StridedIndex ix;
    int64_t n = 0;
#define SALUS_EMU_UNARY(Op, formula)                                                               \
    if (op == #Op) {                                                                               \
        *st = plan_same_size(ctx, 1, &n);                                                          \
        for (int64_t i = 0; st->ok() && i < n; ++i)                                                \
            out<float>(ctx)[i] = unary(UnaryOp::Op, in<float>(ctx, 0)[i], p);                      \
        return true;                                                                               \
    }
#define SALUS_EMU_GRAD(Op, formula)                                                                \
    if (op == #Op "Grad") {                                                                        \
        *st = plan_same_size(ctx, 2, &n);                                                          \
        for (int64_t i = 0; st->ok() && i < n; ++i)                                                \
            out<float>(ctx)[i] = grad(GradOp::Op, in<float>(ctx, 0)[i], in<float>(ctx, 1)[i], p);  \
        return true;                                                                               \
    }
#define SALUS_EMU_BINARY(Op, formula)                                                              \
    if (op == #Op) {                                                                               \
        *st = binary_all(BinaryOp::Op, ctx);                                                       \
        return true;                                                                               \
    }
#define SALUS_EMU_COMPARE(Op, formula)                                                             \
    if (op == #Op) {                                                                               \
        EwDType type;                                                                              \
        *st = plan_compare(ctx, &ix, &n, &type);                                                   \
        if (!st->ok()) return true;                                                                \
        if (type == EwDType::F32) compare_all<float>(CompareOp::Op, ix, n, ctx);                   \
        if (type == EwDType::I32) compare_all<int32_t>(CompareOp::Op, ix, n, ctx);                 \
        if (type == EwDType::I64) compare_all<int64_t>(CompareOp::Op, ix, n, ctx);                 \
        if (type == EwDType::F64) compare_all<double>(CompareOp::Op, ix, n, ctx);                  \
        return true;                                                                               \
    }
#define SALUS_EMU_LOGIC(Op, formula)                                                               \
    if (op == #Op) {                                                                               \
        *st = plan_logic(ctx, &ix, &n);                                                            \
        const bool *b = ctx.inputs.size() > 1 ? in<bool>(ctx, 1) : in<bool>(ctx, 0);               \
        for (int64_t i = 0; st->ok() && i < n; ++i)                                                \
            out<bool>(ctx)[i] = logic(LogicOp::Op, in<bool>(ctx, 0)[strided_offset(ix, 1, i)],     \
                                      b[strided_offset(ix, 2, i)]);                                \
        return true;                                                                               \
    }
    SALUS_EW_UNARY_OPS(SALUS_EMU_UNARY)
    SALUS_EW_GRAD_OPS(SALUS_EMU_GRAD)
    SALUS_EW_BINARY_OPS(SALUS_EMU_BINARY)
    SALUS_EW_COMPARE_OPS(SALUS_EMU_COMPARE)
    SALUS_EW_LOGIC_OPS(SALUS_EMU_LOGIC)
#undef SALUS_EMU_UNARY
#undef SALUS_EMU_GRAD
#undef SALUS_EMU_BINARY
#undef SALUS_EMU_COMPARE
#undef SALUS_EMU_LOGIC
    if (op == "Where") {
        size_t size = 0;
        *st = plan_where(ctx, &ix, &n, &size);
        if (!st->ok()) return true;
        if (size == 1) where_all<uint8_t>(ix, n, ctx);
        if (size == 4) where_all<uint32_t>(ix, n, ctx);
        if (size == 8) where_all<uint64_t>(ix, n, ctx);
        return true;
    }
    if (op == "Cast") {
        EwDType from, to;
        *st = plan_cast(ctx, &n, &from, &to);
        if (!st->ok()) return true;
        switch (from) {
        case EwDType::F32:
            cast_from<float>(to, n, ctx);
            break;
        case EwDType::I32:
            cast_from<int32_t>(to, n, ctx);
            break;
        case EwDType::I64:
            cast_from<int64_t>(to, n, ctx);
            break;
        case EwDType::Bool:
            cast_from<bool>(to, n, ctx);
            break;
        case EwDType::F64:
            cast_from<double>(to, n, ctx);
            break;
        }
        return true;
    }
    if (op == "Clip" || op == "ClipGrad") {
        const bool g = op == "ClipGrad";
        int lo = -1, hi = -1;
        *st = plan_clip(ctx, g, &n, &lo, &hi);
        if (!st->ok()) return true;
        const float l = lo >= 0 ? in<float>(ctx, static_cast<size_t>(lo))[0] : -INFINITY;
        const float h = hi >= 0 ? in<float>(ctx, static_cast<size_t>(hi))[0] : INFINITY;
        for (int64_t i = 0; i < n; ++i) {
            out<float>(ctx)[i] = g ? clip_grad(in<float>(ctx, 0)[i], in<float>(ctx, 1)[i], l, h)
                                   : clip(in<float>(ctx, 0)[i], l, h);
        }
        return true;
    }
    if (op == "PReluGrad") {
        SlopeSumPlan sums;
        *st = plan_prelu_grad(ctx, &ix, &n, &sums);
        if (!st->ok()) return true;
        const float *dy = in<float>(ctx, 0), *x = in<float>(ctx, 1), *slope = in<float>(ctx, 2);
        for (int64_t i = 0; i < n; ++i) {
            out<float>(ctx, 0)[i] = prelu_grad_x(dy[i], x[i], slope[strided_offset(ix, 1, i)]);
        }
        for (int64_t o = 0; o < sums.slopes; ++o) {
            double sum = 0.0;
            for (int64_t k = 0; k < sums.count; ++k) {
                const int64_t at = slope_term_offset(sums, o, k);
                sum += prelu_grad_slope(dy[at], x[at]);
            }
            out<float>(ctx, 1)[o] = static_cast<float>(sum);
        }
        return true;
    }
    return false;
}

} // namespace salus::test
