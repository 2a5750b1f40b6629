// Helpers shared by the CPU kernels: argument checks and strided n-d loops.
// Everything here works on fixed SALUS_MAX_RANK arrays so that kernels never
// allocate on the iteration path.
#pragma once

#include "exec/kernel.h"

#include <cstdint>

namespace salus::cpu {

// Hot loops compiled twice, for AVX2 and FMA machines (x86-64-v3) and for
// the baseline, the right one picked when salusd loads (GCC's
// target_clones), so one build runs everywhere and wide where it can. The
// ISA changes no result: the kernels are built with -ffp-contract=off.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SALUS_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SALUS_CPU_CLONES
#endif

constexpr int kMaxRank = SALUS_MAX_RANK;
// Operands of one strided loop: an output and up to three inputs (Where).
constexpr int kMaxOperands = 4;

// Checks the arity the kernel relies on; the validator normally guarantees
// it, so this only builds a message on failure.
Status check_arity(const KernelContext &ctx, size_t min_inputs, size_t num_outputs);

// check_arity, and that every tensor is f32.
Status check_f32(const KernelContext &ctx, size_t min_inputs, size_t num_outputs);

// init's node and tensors (without data) as a context, for the checks and
// plans above when a prepared kernel makes them once, in init.
KernelContext context_of(const KernelInit &init);

// Maps a possibly negative axis into [0, rank); -1 when out of range.
int normalize_axis(int64_t axis, int rank);

// Row-major strides of `shape` (rank at most kMaxRank).
void contiguous_strides(const Shape &shape, int64_t strides[kMaxRank]);

// Strides that read `in` while walking `out` (shapes aligned on their last
// dimension; 0 where `in` is broadcast). False when `in` does not broadcast
// to `out` or a rank exceeds kMaxRank.
bool broadcast_strides(const Shape &in, const Shape &out, int64_t strides[kMaxRank]);

// A walk over an n-d index space where each operand has its own strides.
// Size-1 dimensions are dropped and adjacent dimensions merged wherever every
// operand allows it, so contiguous cases become a single long inner loop.
struct StridedLoop {
    int rank = 0; // at least 1 after simplify()
    int operands = 0;
    int64_t dims[kMaxRank] = {};
    int64_t strides[kMaxOperands][kMaxRank] = {};

    void simplify();
    int64_t inner_dim() const { return dims[rank - 1]; }
    int64_t inner_stride(int op) const { return strides[op][rank - 1]; }
};

// Builds a loop over `dims` (rank <= kMaxRank) for `operands` stride sets.
StridedLoop make_loop(const Shape &dims, int operands, const int64_t (*strides)[kMaxRank]);

// A row-major MatMul Y[m, n] = op(A)[m, k] op(B)[k, n] per matrix of the last
// two axes, as both backends' BLAS take it (their dimensions are ints), and
// the walk over the broadcast batch axes: operand 0 is Y, 1 is A, 2 is B,
// each stride in elements (0 where that operand is broadcast).
struct GemmDims {
    bool trans_a = false, trans_b = false;
    int m = 0, n = 0, k = 0;
    int lda = 0, ldb = 0; // A's and B's stored row lengths
    StridedLoop batch;    // rank 1 of one matrix when there are no batch axes
    int64_t batches = 1;  // matrices of Y
};

// Checks a MatMul's (or Gemm's) f32 operands of rank >= 2 against its output
// and the int range of BLAS dimensions, and plans the batch walk.
Status gemm_dims(const KernelContext &ctx, GemmDims *dims);

// Calls fn(offsets) for every position of the outer dimensions, offsets[k]
// being operand k's element offset at the start of an inner row; fn walks
// the inner dimension itself with inner_dim()/inner_stride().
template <typename Fn>
void for_each_row(const StridedLoop &loop, Fn &&fn) {
    int64_t rows = 1;
    for (int d = 0; d + 1 < loop.rank; ++d) rows *= loop.dims[d];
    if (rows == 0 || loop.inner_dim() == 0) return;
    int64_t idx[kMaxRank] = {};
    int64_t off[kMaxOperands] = {};
    for (int64_t row = 0; row < rows; ++row) {
        fn(static_cast<const int64_t *>(off));
        for (int d = loop.rank - 2; d >= 0; --d) {
            for (int k = 0; k < loop.operands; ++k) off[k] += loop.strides[k][d];
            if (++idx[d] < loop.dims[d]) break;
            for (int k = 0; k < loop.operands; ++k) off[k] -= loop.strides[k][d] * loop.dims[d];
            idx[d] = 0;
        }
    }
}

// dst (operand 0, contiguous rows) = src (operand 1) gathered along `loop`:
// the copy behind Transpose and Expand.
inline void gather(const StridedLoop &loop, float *dst, const float *src) {
    const int64_t len = loop.inner_dim();
    const int64_t sx = loop.inner_stride(1);
    for_each_row(loop, [&](const int64_t *off) {
        float *yr = dst + off[0];
        const float *xr = src + off[1];
        for (int64_t j = 0; j < len; ++j) yr[j] = xr[j * sx];
    });
}

} // namespace salus::cpu
