// Launchers of the shape family's CUDA kernels (shape.cu). Data movement
// takes elements of `esize` bytes (1, 2, 4 or 8: any dtype); indices are i32,
// or i64 when `wide`. Each returns the launch's cudaGetLastError().
#pragma once

#include "exec/cuda/shape_device.h"

#include <cuda_runtime_api.h>

#include <stddef.h>

namespace salus::cuda {

// dst[i] = src[offset of operand 1 at i], or with `scatter` dst[offset of
// operand 1 at i] = src[i] (SliceGrad into zeros), for n elements.
cudaError_t launch_strided_copy(const StridedIndex &ix, int64_t n, size_t esize, const void *src,
                                void *dst, bool scatter, cudaStream_t stream);
cudaError_t launch_tile(const TilePlan &plan, int64_t n, size_t esize, const void *x, void *y,
                        cudaStream_t stream);
cudaError_t launch_tile_grad(const TilePlan &plan, int64_t n, const float *dy, float *dx,
                             cudaStream_t stream);
// The first of `count` indices outside [-extent, extent) into *verdict (device
// memory), by one block. The Gather family runs it first and waits for the
// verdict, so that an index out of range fails the iteration as on the CPU;
// the gathers themselves then give zero for one (never reached).
cudaError_t launch_check_indices(const void *indices, bool wide, int64_t count, int64_t extent,
                                 IndexVerdict *verdict, cudaStream_t stream);
cudaError_t launch_gather_rows(const GatherPlan &plan, int64_t n, size_t esize, const void *data,
                               const void *indices, bool wide, void *y, cudaStream_t stream);
cudaError_t launch_gather_grad(const GatherPlan &plan, int64_t n, const float *dy,
                               const void *indices, bool wide, float *dx, cudaStream_t stream);
cudaError_t launch_gather_elements(const ElementsPlan &plan, int64_t n, size_t esize,
                                   const void *data, const void *indices, bool wide, void *y,
                                   cudaStream_t stream);
cudaError_t launch_gather_elements_grad(const ElementsPlan &plan, int64_t n, const float *dy,
                                        const void *indices, bool wide, float *dx,
                                        cudaStream_t stream);
// y[i] = scale * c[offset of operand 1 at i]: Gemm's beta · C.
cudaError_t launch_scaled_gather(const StridedIndex &ix, int64_t n, float scale, const float *c,
                                 float *y, cudaStream_t stream);

} // namespace salus::cuda
