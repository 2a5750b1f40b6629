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
