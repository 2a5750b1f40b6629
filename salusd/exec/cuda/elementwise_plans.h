// From a node's KernelContext to what the elementwise kernels of both
// backends run with: attribute parameters, broadcast walks over any dtype,
// PReluGrad's slope sums. Plain C++ built everywhere (the CPU kernels use it
// too); each returns SALUS_EEXEC with the reason on a shape or dtype the
// kernel cannot run.
#pragma once

#include "exec/cuda/elementwise_device.h"
#include "exec/kernel.h"

namespace salus::cuda {

// The formulas' parameters from the node's canonical attributes, by name
// (absent ones stay 0: an op reads only those its schema declares).
EwParams ew_params(const NodeDesc &node);

// The kernels' dtype of `dtype`; false for f16 and bf16 (no kernels yet).
bool ew_dtype(DType dtype, EwDType *out);

// Output 0 (operand 0, contiguous) from inputs 0..inputs-1 (operands
// 1..inputs), numpy broadcast, any dtypes; *elements is Y's count.
Status plan_broadcast(const KernelContext &ctx, size_t inputs, StridedIndex *ix, int64_t *elements);
// Add, Sub, Mul, Div of any numeric dtype but f32 (*type; f32 takes
// plan_binary): A, B and Y of that one dtype.
Status plan_arith(const KernelContext &ctx, BinaryOp op, StridedIndex *ix, int64_t *elements,
                  EwDType *type);
// Comparisons: two inputs of one numeric dtype (*type), output bool.
Status plan_compare(const KernelContext &ctx, StridedIndex *ix, int64_t *elements, EwDType *type);
// Not, And, Or, Xor: bool inputs and output; Not's operand 2 repeats 1.
Status plan_logic(const KernelContext &ctx, StridedIndex *ix, int64_t *elements);
// Where(condition, X, Y): *element_size is X's (1, 4 or 8 bytes).
Status plan_where(const KernelContext &ctx, StridedIndex *ix, int64_t *elements,
                  size_t *element_size);
Status plan_cast(const KernelContext &ctx, int64_t *elements, EwDType *from, EwDType *to);
// Clip (grad: ClipGrad, X is input 1): f32, same sizes, the optional bounds
// one element each; *lo and *hi index the inputs holding them (-1: absent).
Status plan_clip(const KernelContext &ctx, bool grad, int64_t *elements, int *lo, int *hi);
// PReluGrad(dY, X, slope) -> dX, dSlope: *ix walks dX (operand 0, also dY's
// and X's offsets) against slope (operand 1).
Status plan_prelu_grad(const KernelContext &ctx, StridedIndex *ix, int64_t *elements,
                       SlopeSumPlan *sums);

} // namespace salus::cuda
