// The elementwise CUDA kernels (elementwise.cu) behind their launchers, as
// launchers.h: each picks its grid, launches on the stream and returns the
// launch's cudaGetLastError().
#pragma once

#include "exec/cuda/elementwise_device.h"

#include <cuda_runtime_api.h>
#include <stddef.h>

namespace salus::cuda {

cudaError_t launch_ew_unary(UnaryOp op, const EwParams &p, int64_t elements, const float *x,
                            float *y, cudaStream_t stream);
cudaError_t launch_ew_grad(GradOp op, const EwParams &p, int64_t elements, const float *dy,
                           const float *z, float *dx, cudaStream_t stream);
cudaError_t launch_ew_binary(BinaryOp op, const StridedIndex &ix, int64_t elements, const float *a,
                             const float *b, float *y, cudaStream_t stream);
// Add, Sub, Mul, Div of f64, i32 or i64 (`arith`).
cudaError_t launch_arith(BinaryOp op, EwDType type, const StridedIndex &ix, int64_t elements,
                         const void *a, const void *b, void *y, cudaStream_t stream);
cudaError_t launch_compare(CompareOp op, EwDType type, const StridedIndex &ix, int64_t elements,
                           const void *a, const void *b, bool *y, cudaStream_t stream);
cudaError_t launch_logic(LogicOp op, const StridedIndex &ix, int64_t elements, const bool *a,
                         const bool *b, bool *y, cudaStream_t stream);
// Elements of `element_size` bytes (1, 4 or 8) moved as they are.
cudaError_t launch_where(size_t element_size, const StridedIndex &ix, int64_t elements,
                         const bool *condition, const void *x, const void *y, void *out,
                         cudaStream_t stream);
cudaError_t launch_cast(EwDType from, EwDType to, int64_t elements, const void *x, void *y,
                        cudaStream_t stream);
// Clip (dy null) or ClipGrad; lo and hi point at device scalars or are null.
cudaError_t launch_clip(int64_t elements, const float *dy, const float *x, const float *lo,
                        const float *hi, float *y, cudaStream_t stream);
// dX over `ix` (dX and slope), then dSlope: one thread per slope element sums
// its terms in order, so the result is the CPU kernel's bit for bit.
cudaError_t launch_prelu_grad(const StridedIndex &ix, int64_t elements, const SlopeSumPlan &sums,
                              const float *dy, const float *x, const float *slope, float *dx,
                              float *dslope, cudaStream_t stream);

} // namespace salus::cuda
