// Every elementwise formula, written once: SALUS_HD functions that the CPU
// kernels (exec/cpu/elementwise.cpp) and the CUDA kernels (elementwise.cu)
// both call, so the two backends differ by nothing but the loop around them.
//
// The op lists below are X-macros: each line names an op and its formula, and
// both backends register a kernel per line (exec/cpu/elementwise.cpp,
// elementwise_kernels.cpp). A new unary op with its gradient is one line in
// SALUS_EW_UNARY_OPS and one in SALUS_EW_GRAD_OPS (registered as <Op>Grad),
// besides its schema entry (ops/elementwise.cpp).
//
// Formulas read attributes through EwParams, filled from the node's
// canonical attributes by name (elementwise_plans.h: ew_params), so no
// default is repeated here.
#pragma once

#include "exec/cuda/device_code.h"

#include <type_traits>

namespace salus::cuda {

struct EwParams {
    float alpha = 0.0f; // LeakyRelu, Elu, Selu, HardSigmoid
    float beta = 0.0f;  // HardSigmoid
    float gamma = 0.0f; // Selu
    bool tanh = false;  // Gelu: approximate == "tanh"
};

// --- formulas that need more than an expression -------------------------------

constexpr float kSqrt1_2 = 0.70710678118654752440f;     // 1/sqrt(2)
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1/sqrt(2 pi)
constexpr float kSqrt2OverPi = 0.79788456080286535588f; // sqrt(2/pi)
constexpr float kGeluKappa = 0.044715f;
// Softplus is x itself beyond this (torch's threshold), where exp would
// overflow and log1p(exp(x)) == x in float anyway.
constexpr float kSoftplusThreshold = 20.0f;

// The standard normal CDF Φ(x) = (1 + erf(x/√2)) / 2 and its density e^(-x²/2)
// / √(2π) for exact GELU, by Abramowitz & Stegun 7.1.26 (erfc(z) = poly(t) ·
// t · e^(-z²), t = 1 / (1 + p·z), |error| <= 1.5e-7), the approximation
// torch's vectorized GELU uses too. Φ of a negative x is computed as the
// small erfc itself (no 1 − 1 cancellation), and Φ and the density share
// one exp_poly: no call and no branch, so CPU loops of GELU vectorize
// (glibc's erff is a call per element).
SALUS_HD inline float normal_cdf_pdf(float x, float *pdf) {
    const float z = fabsf(x) * kSqrt1_2;
    const float t = 1.0f / (0.3275911f * z + 1.0f);
    float r = 1.061405429f;
    r = r * t + -1.453152027f;
    r = r * t + 1.421413741f;
    r = r * t + -0.284496736f;
    r = r * t + 0.254829592f;
    const float e = exp_poly(-0.5f * x * x);
    *pdf = e * kInvSqrt2Pi;
    const float tail = 0.5f * r * t * e; // Φ(-|x|) = erfc(|x|/√2) / 2
    return x < 0.0f ? tail : 1.0f - tail;
}

SALUS_HD inline float gelu(float x, bool approx) {
    if (approx) {
        const float inner = kSqrt2OverPi * (x + kGeluKappa * x * x * x);
        return 0.5f * x * (1.0f + tanhf(inner));
    }
    float pdf;
    return x * normal_cdf_pdf(x, &pdf);
}

// As torch's GeluBackward for both variants.
SALUS_HD inline float gelu_grad(float dy, float x, bool approx) {
    if (approx) {
        const float x2 = x * x;
        const float t = tanhf(kSqrt2OverPi * (x + kGeluKappa * x2 * x));
        const float left = 0.5f * x;
        const float right = 1.0f + t;
        const float d_right =
            left * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluKappa * x2);
        return dy * (0.5f * right + d_right);
    }
    float pdf;
    const float cdf = normal_cdf_pdf(x, &pdf);
    return dy * (cdf + x * pdf);
}

SALUS_HD inline float softplus(float x) {
    return x > kSoftplusThreshold ? x : log1pf(expf(x));
}

SALUS_HD inline float softplus_grad(float dy, float x) {
    if (x > kSoftplusThreshold) return dy;
    const float z = expf(x);
    return dy * z / (z + 1.0f);
}

SALUS_HD inline float silu_grad(float dy, float x) {
    const float s = stable_sigmoid(x);
    return dy * s * (1.0f + x * (1.0f - s));
}

SALUS_HD inline float hard_sigmoid_grad(float dy, float x, float alpha, float beta) {
    const float v = alpha * x + beta;
    return v > 0.0f && v < 1.0f ? dy * alpha : 0.0f;
}

SALUS_HD inline float hard_swish_grad(float dy, float x) {
    if (x < -3.0f) return 0.0f;
    return x <= 3.0f ? dy * (x / 3.0f + 0.5f) : dy;
}

// 0 for ±0 and NaN, as torch.sign.
SALUS_HD inline float sign(float x) {
    return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f;
}

// NaN wins, as in torch.maximum/minimum.
SALUS_HD inline float maximum(float a, float b) {
    return a != a || a > b ? a : b;
}
SALUS_HD inline float minimum(float a, float b) {
    return a != a || a < b ? a : b;
}

// --- the op lists ---------------------------------------------------------------
// (clang-format reads the formulas as declarations: `x *stable_sigmoid(x)`.)
// clang-format off
// X(Op, formula): `x` the input, `p` the EwParams.
#define SALUS_EW_UNARY_OPS(X)                                                                      \
    X(Relu, x > 0.0f ? x : 0.0f)                                                                   \
    X(Sigmoid, stable_sigmoid(x))                                                                  \
    X(Tanh, tanhf(x))                                                                              \
    X(Neg, -x)                                                                                     \
    X(Abs, fabsf(x))                                                                               \
    X(Sign, sign(x))                                                                               \
    X(Exp, expf(x))                                                                                \
    X(Log, logf(x))                                                                                \
    X(Sqrt, sqrtf(x))                                                                              \
    X(Reciprocal, 1.0f / x)                                                                        \
    X(Rsqrt, 1.0f / sqrtf(x))                                                                      \
    X(Erf, erff(x))                                                                                \
    X(Sin, sinf(x))                                                                                \
    X(Cos, cosf(x))                                                                                \
    X(LeakyRelu, x > 0.0f ? x : p.alpha * x)                                                       \
    X(Elu, x > 0.0f ? x : p.alpha * expm1f(x))                                                     \
    X(Selu, p.gamma * (x > 0.0f ? x : p.alpha * expm1f(x)))                                        \
    X(Softplus, softplus(x))                                                                       \
    X(Gelu, gelu(x, p.tanh))                                                                       \
    X(Silu, x * stable_sigmoid(x))                                                                 \
    X(HardSigmoid, fmaxf(0.0f, fminf(1.0f, p.alpha * x + p.beta)))                                 \
    X(HardSwish, x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f)

// X(Op, formula) of the op <Op>Grad(dY, Z) -> dX: `dy`, `z` (the forward
// input, or its output for Sigmoid and Tanh), `p`.
#define SALUS_EW_GRAD_OPS(X)                                                                       \
    X(Relu, z > 0.0f ? dy : 0.0f)                                                                  \
    X(Sigmoid, dy * z * (1.0f - z))                                                                \
    X(Tanh, dy * (1.0f - z * z))                                                                   \
    X(LeakyRelu, z > 0.0f ? dy : dy * p.alpha)                                                     \
    X(Elu, z > 0.0f ? dy : dy * p.alpha * expf(z))                                                 \
    X(Selu, z > 0.0f ? dy * p.gamma : dy * p.gamma * p.alpha * expf(z))                            \
    X(Softplus, softplus_grad(dy, z))                                                              \
    X(Gelu, gelu_grad(dy, z, p.tanh))                                                              \
    X(Silu, silu_grad(dy, z))                                                                      \
    X(HardSigmoid, hard_sigmoid_grad(dy, z, p.alpha, p.beta))                                      \
    X(HardSwish, hard_swish_grad(dy, z))

// X(Op, formula) of the arithmetic that every numeric dtype has (`arith`
// below); on floats these formulas are the ones computed.
#define SALUS_EW_ARITH_OPS(X)                                                                      \
    X(Add, a + b)                                                                                  \
    X(Sub, a - b)                                                                                  \
    X(Mul, a * b)                                                                                  \
    X(Div, a / b)

// X(Op, formula) of broadcasting f32 binary ops: `a`, `b`. PRelu is X, slope.
#define SALUS_EW_BINARY_OPS(X)                                                                     \
    SALUS_EW_ARITH_OPS(X)                                                                          \
    X(Pow, powf(a, b))                                                                             \
    X(Max, maximum(a, b))                                                                          \
    X(Min, minimum(a, b))                                                                          \
    X(PRelu, a < 0.0f ? b * a : a)

// X(Op, formula) of comparisons of two numbers of one dtype, giving bool.
#define SALUS_EW_COMPARE_OPS(X)                                                                    \
    X(Equal, a == b)                                                                               \
    X(Less, a < b)                                                                                 \
    X(LessOrEqual, a <= b)                                                                         \
    X(Greater, a > b)                                                                              \
    X(GreaterOrEqual, a >= b)

// X(Op, formula) of bool logic (bytes 0/1); Not reads only `a`.
#define SALUS_EW_LOGIC_OPS(X)                                                                      \
    X(Not, !a)                                                                                     \
    X(And, a && b)                                                                                 \
    X(Or, a || b)                                                                                  \
    X(Xor, a != b)

// clang-format on

#define SALUS_EW_ENUM(Op, formula) Op,
enum class UnaryOp : int { SALUS_EW_UNARY_OPS(SALUS_EW_ENUM) };
enum class GradOp : int { SALUS_EW_GRAD_OPS(SALUS_EW_ENUM) };
enum class BinaryOp : int { SALUS_EW_BINARY_OPS(SALUS_EW_ENUM) };
enum class CompareOp : int { SALUS_EW_COMPARE_OPS(SALUS_EW_ENUM) };
enum class LogicOp : int { SALUS_EW_LOGIC_OPS(SALUS_EW_ENUM) };
#undef SALUS_EW_ENUM

#define SALUS_EW_CASE(Op, formula)                                                                 \
    case decltype(op)::Op:                                                                         \
        return formula;

SALUS_HD inline float unary(UnaryOp op, float x, const EwParams &p) {
    (void)p;
    switch (op) { SALUS_EW_UNARY_OPS(SALUS_EW_CASE) }
    return 0.0f;
}

SALUS_HD inline float grad(GradOp op, float dy, float z, const EwParams &p) {
    (void)p;
    switch (op) { SALUS_EW_GRAD_OPS(SALUS_EW_CASE) }
    return 0.0f;
}

SALUS_HD inline float binary(BinaryOp op, float a, float b) {
    switch (op) { SALUS_EW_BINARY_OPS(SALUS_EW_CASE) }
    return 0.0f;
}

// Whether `op` is one of SALUS_EW_ARITH_OPS.
SALUS_HD constexpr bool is_arith(BinaryOp op) {
#define SALUS_EW_IS(Op, formula) op == BinaryOp::Op ||
    return SALUS_EW_ARITH_OPS(SALUS_EW_IS) false;
#undef SALUS_EW_IS
}

// Add, Sub, Mul and Div of T: double, int32_t or int64_t (float takes
// `binary`). Integers compute in their unsigned type so that overflow wraps
// (two's complement, as numpy and torch) instead of being undefined; Div
// truncates toward zero (ONNX, C) and gives 0 for x/0 and MIN for MIN/-1,
// the two divisions that would otherwise trap the daemon (x86's idiv).
template <typename T>
SALUS_HD inline T arith(BinaryOp op, T a, T b) {
    if constexpr (std::is_integral_v<T>) {
        using U = std::make_unsigned_t<T>;
        const U ua = static_cast<U>(a), ub = static_cast<U>(b);
        switch (op) {
        case BinaryOp::Add:
            return static_cast<T>(ua + ub);
        case BinaryOp::Sub:
            return static_cast<T>(ua - ub);
        case BinaryOp::Mul:
            return static_cast<T>(ua * ub);
        case BinaryOp::Div:
            if (b == 0) return 0;
            return b == -1 ? static_cast<T>(U(0) - ua) : static_cast<T>(a / b);
        default:
            return 0;
        }
    } else {
        switch (op) {
            SALUS_EW_ARITH_OPS(SALUS_EW_CASE)
        default:
            return T(0);
        }
    }
}

template <typename T>
SALUS_HD inline bool compare(CompareOp op, T a, T b) {
    switch (op) { SALUS_EW_COMPARE_OPS(SALUS_EW_CASE) }
    return false;
}

SALUS_HD inline bool logic(LogicOp op, bool a, bool b) {
    switch (op) { SALUS_EW_LOGIC_OPS(SALUS_EW_CASE) }
    return false;
}
#undef SALUS_EW_CASE

// --- ops beyond one formula -----------------------------------------------------

// Clip: lo then hi (so lo > hi gives hi, as torch.clamp and ONNX); NaN stays.
SALUS_HD inline float clip(float x, float lo, float hi) {
    const float y = x < lo ? lo : x;
    return y > hi ? hi : y;
}

// ClipGrad: dY passes where lo <= x <= hi (torch.clamp's backward).
SALUS_HD inline float clip_grad(float dy, float x, float lo, float hi) {
    return x >= lo && x <= hi ? dy : 0.0f;
}

// PReluGrad's per-element terms: dX, and the term of dSlope.
SALUS_HD inline float prelu_grad_x(float dy, float x, float slope) {
    return x < 0.0f ? dy * slope : dy;
}
SALUS_HD inline float prelu_grad_slope(float dy, float x) {
    return x < 0.0f ? dy * x : 0.0f;
}

// PReluGrad's dSlope: slope element o sums the terms of the `count` elements
// of X that read it, at X offset kept(o) + reduced(k) (one-operand walks over
// X's contiguous strides), in double and in k order on both backends.
struct SlopeSumPlan {
    int64_t slopes = 0;
    int64_t count = 0;
    StridedIndex kept;
    StridedIndex reduced;
};

SALUS_HD inline int64_t slope_term_offset(const SlopeSumPlan &p, int64_t o, int64_t k) {
    return strided_offset(p.kept, 0, o) + strided_offset(p.reduced, 0, k);
}

// Cast between f32, f64, i32, i64 and bool (a byte 0/1): float to integer
// truncates toward zero as C++ and torch do; anything to bool is != 0.
template <typename To, typename From>
SALUS_HD inline To cast_value(From v) {
    return static_cast<To>(v);
}

// The dtypes of arith, compare, Where and Cast, as the kernels see them.
enum class EwDType : int { F32, I32, I64, Bool, F64 };

} // namespace salus::cuda
