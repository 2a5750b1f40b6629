// What the CUDA kernels compute, element by element, in plain C++ that nvcc
// compiles for the device and g++ for the host. kernels.cu adds only the
// loops over threads and the block reductions; the unit tests run these same
// functions on the CPU against the CPU kernels (test_kernels_cuda_device_code.cpp),
// so the index arithmetic and the formulas are checked on every build.
//
// The formulas follow the CPU kernels step for step (same float operations,
// same double accumulators), so the two backends differ only by rounding.
#pragma once

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__)
#define SALUS_HD __host__ __device__
#else
#define SALUS_HD
#endif

namespace salus::cuda {

constexpr int kMaxRank = 8; // SALUS_MAX_RANK (checked in kernel_plans.cpp)
constexpr int kMaxOperands = 4;

// A row-major walk over `dims` where operand k (0: the contiguous output,
// 1 to 3: inputs) sits at its own strides: the offset of each operand at
// linear position i. Built from cpu::StridedLoop, so dimensions are already
// merged wherever every operand allows.
struct StridedIndex {
    int rank = 1;
    int64_t dims[kMaxRank] = {1};
    int64_t strides[kMaxOperands][kMaxRank] = {};
};

SALUS_HD inline int64_t strided_offset(const StridedIndex &ix, int op, int64_t i) {
    if (ix.rank == 1) return i * ix.strides[op][0];
    int64_t offset = 0;
    for (int d = ix.rank - 1; d >= 0; --d) {
        const int64_t q = i / ix.dims[d];
        offset += (i - q * ix.dims[d]) * ix.strides[op][d];
        i = q;
    }
    return offset;
}

// --- elementwise: the formulas are in elementwise_device.h ---------------------

// A float's bits and back, on both sides (memcpy is how C++17 spells it).
SALUS_HD inline uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(f);
#else
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
#endif
}

SALUS_HD inline float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
#endif
}

// e^x within 2 ulp of expf for x in [-87.33, 88.72] (Cephes' expf: Cody-Waite
// reduction by ln 2, a degree-6 polynomial, 2^n put in the exponent bits),
// without a branch or a call, so that CPU loops of it vectorize; glibc's
// expf is a call per element. Below -87.33 it gives 0 where expf gives a
// subnormal (under 1.2e-38), above 88.72 inf as expf; NaN gives NaN.
SALUS_HD inline float exp_poly(float x) {
    const float lo = -87.3365478515625f, hi = 88.72283935546875f;
    float c = x > hi ? hi : x;
    c = c < lo ? lo : c;
    // Adding 1.5 * 2^23 rounds to an integer n in [-126, 128], kept in the
    // low mantissa bits of k; subtracting it back gives n as a float.
    const float kRound = 12582912.0f;
    const float k = c * 1.44269504088896341f + kRound;
    const float n = k - kRound;
    float r = c - n * 0.693359375f; // ln 2 in two parts
    r = r - n * -2.12194440e-4f;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * (r * r) + r + 1.0f;
    // 2^n: the low 9 bits of k's bits plus the bias are n + 127, shifted
    // into the exponent field; n = 128 has no float, so positive n take
    // 2^(n-1) · 2.
    const uint32_t kb = float_bits(k);
    const float low = y * bits_float((kb + 127u) << 23);
    const float high = y * bits_float((kb + 126u) << 23) * 2.0f;
    const float e = n > 0.0f ? high : low;
    return x < lo ? 0.0f : x > hi ? INFINITY : e;
}

// Never evaluates exp of a large positive number, so it cannot overflow.
SALUS_HD inline float stable_sigmoid(float x) {
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    const float e = expf(x);
    return e / (1.0f + e);
}

// OneHot: element (row, k) of the [indices, depth] output; a negative index
// counts from the end, one outside [-depth, depth) gives a row of zeros.
SALUS_HD inline float one_hot_value(int64_t index, int64_t depth, int64_t k) {
    if (index < 0) index += depth;
    return index == k ? 1.0f : 0.0f;
}

// --- lines: softmax and cross-entropy ---------------------------------------

// A tensor seen as [outer, n, inner] around one axis: `outer * inner` lines
// of n elements each, `inner` apart. Line l starts at (l / inner) * n *
// inner + l % inner.
struct AxisPlan {
    int64_t outer = 1;
    int64_t n = 1;
    int64_t inner = 1;
};

SALUS_HD inline int64_t axis_lines(const AxisPlan &p) {
    return p.outer * p.inner;
}

SALUS_HD inline int64_t axis_offset(const AxisPlan &p, int64_t line, int64_t k) {
    const int64_t o = line / p.inner;
    return (o * p.n + k) * p.inner + (line - o * p.inner);
}

// Per element, given the line's max m and 1 / sum(exp(x - m)) as a float.
SALUS_HD inline float softmax_value(float x, float m, float scale) {
    return expf(x - m) * scale;
}

// Per element, given the line's dot(dY, Y) as a float.
SALUS_HD inline float softmax_grad_value(float dy, float y, float dot) {
    return y * (dy - dot);
}

// SoftmaxCrossEntropy on [rows, cols] logits and labels: each row is a line.
struct XentPlan {
    int64_t rows = 0;
    int64_t cols = 0;
};

// A row's term of the loss, -t * log_softmax(x), given the row's max m and
// log(sum(exp(x - m))). A zero label adds nothing, even where log_softmax is
// -inf.
SALUS_HD inline double xent_term(float x, float t, float m, double lse) {
    return t != 0.0f ? -static_cast<double>(t) * (static_cast<double>(x) - m - lse) : 0.0;
}

// dLogits of one element, given the row's max, 1 / sum(exp(x - m)) and
// scale = dLoss / rows.
SALUS_HD inline float xent_grad_value(float x, float t, float m, double inv_sum, double scale) {
    const double p = static_cast<double>(expf(x - m)) * inv_sum;
    return static_cast<float>((p - t) * scale);
}

// --- reductions -------------------------------------------------------------

// Output element o (row-major over the kept dimensions) sums the input over
// the reduced dimensions: input offset = kept offset of o + reduced offset
// of k, each a one-operand StridedIndex over the input's strides.
struct ReducePlan {
    int64_t outputs = 0; // kept elements
    int64_t count = 0;   // reduced elements per output
    StridedIndex kept;
    StridedIndex reduced;
    float scale = 1.0f; // 1 / count for ReduceMean
};

SALUS_HD inline int64_t reduce_offset(const ReducePlan &p, int64_t o, int64_t k) {
    return strided_offset(p.kept, 0, o) + strided_offset(p.reduced, 0, k);
}

} // namespace salus::cuda
