// From a node's KernelContext to what its CUDA kernel launches with: shape
// checks, broadcasting strides, axis splits, the cuBLAS GEMM parameters.
// Plain C++ (no CUDA types): the CUDA kernels (cuda_kernels.cpp) call these,
// and the unit tests run the same plans through device_code.h on the CPU.
// Every plan function returns SALUS_EEXEC with the reason on a shape the
// kernel cannot run, like the CPU kernels do.
#pragma once

#include "exec/cuda/device_code.h"
#include "exec/kernel.h"

namespace salus::cpu {
struct StridedLoop;
}

namespace salus::cuda {

// The device walk of a CPU strided loop (exec/cpu/helpers.h).
StridedIndex to_index(const cpu::StridedLoop &loop);

// Y = A op B with numpy broadcasting; *elements is Y's element count.
Status plan_binary(const KernelContext &ctx, StridedIndex *ix, int64_t *elements);
// Unary ops and grads: every input as large as the output.
Status plan_same_size(const KernelContext &ctx, size_t inputs, int64_t *elements);
// Expand and Transpose: Y (operand 0, contiguous) gathered from X (operand 1).
Status plan_expand(const KernelContext &ctx, StridedIndex *ix, int64_t *elements);
Status plan_transpose(const KernelContext &ctx, StridedIndex *ix, int64_t *elements);
Status plan_reduce(const KernelContext &ctx, bool mean, ReducePlan *plan);
// The same for any x reduced (by the node's axes) to `outputs` elements.
Status plan_reduce_of(const KernelContext &ctx, const TensorView &x, int64_t outputs, bool mean,
                      ReducePlan *plan);
// Softmax (input 0) and SoftmaxGrad (dY, Y: the axis is split on input 1).
Status plan_softmax(const KernelContext &ctx, AxisPlan *plan);
Status plan_softmax_grad(const KernelContext &ctx, AxisPlan *plan);
// SoftmaxCrossEntropy (needs rows doubles of workspace) and its grad.
Status plan_xent(const KernelContext &ctx, XentPlan *plan);
Status plan_xent_grad(const KernelContext &ctx, XentPlan *plan);
// OneHot: i32 or i64 indices (*wide for i64) to f32 rows of `depth`.
Status plan_one_hot(const KernelContext &ctx, int64_t *indices, int64_t *depth, bool *wide);
// Reshape and Identity: bytes to copy (any dtype).
Status plan_copy(const KernelContext &ctx, size_t *bytes);

// Row-major Y[m, n] = op(A) op(B) as one column-major cuBLAS GEMM: a
// row-major matrix is its transpose in column-major order, so cuBLAS
// computes Y^T = op(B)^T op(A)^T, i.e. with the operands swapped: first
// B, then A, each with its own transpose flag and its stored row length as
// leading dimension.
struct GemmPlan {
    bool trans_first = false;  // op of the first operand (B): transB
    bool trans_second = false; // op of the second operand (A): transA
    int m = 0;                 // cuBLAS m: columns of Y (n)
    int n = 0;                 // cuBLAS n: rows of Y (m)
    int k = 0;
    int ld_first = 0;  // B's row length
    int ld_second = 0; // A's row length
    int ldc = 0;       // Y's row length
    // Batched MatMul: the walk over Y's matrices, operand 0 Y, 1 A, 2 B, in
    // elements (0 where broadcast); one matrix when there are no batch axes.
    StridedIndex batch;
    int64_t batches = 1;
};
Status plan_gemm(const KernelContext &ctx, GemmPlan *plan);

} // namespace salus::cuda
