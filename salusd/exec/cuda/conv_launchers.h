// The conv family's CUDA kernels (conv.cu), each behind a launcher that
// queues it on `stream` and returns the launch's cudaGetLastError().
#pragma once

#include "exec/cuda/conv_device.h"

#include <cuda_runtime_api.h>

namespace salus::cuda {

// Pad (value for the constant) and Upsample: n output elements.
cudaError_t launch_resample(const ResampleMap &m, int64_t n, const float *x, float value, float *y,
                            cudaStream_t stream);
// UpsampleGrad: n elements of dX.
cudaError_t launch_upsample_grad(const ResampleMap &m, int64_t n, const float *dy, float *dx,
                                 cudaStream_t stream);
// PadGrad: n elements of dX.
cudaError_t launch_pad_grad(const ResampleMap &m, int64_t n, const float *dy, float *dx,
                            cudaStream_t stream);
// n elements of the space tensor, moved to (to_depth) or from the depth one.
cudaError_t launch_depth_space(const DepthSpace &p, int64_t n, bool to_depth, const float *x,
                               float *y, cudaStream_t stream);
// MaxPool (indices may be null: else flat positions in X, -1 for a window
// all padding) or AveragePool: n output elements.
cudaError_t launch_pool(const PoolPlan &p, bool max, int64_t n, const float *x, float *y,
                        int64_t *indices, cudaStream_t stream);
// MaxPoolGrad or AveragePoolGrad: n elements of dX.
cudaError_t launch_pool_grad(const PoolPlan &p, bool max, int64_t n, const float *x,
                             const float *dy, float *dx, cudaStream_t stream);
cudaError_t launch_plane_mean(int64_t planes, int64_t size, const float *x, float *y,
                              cudaStream_t stream);

} // namespace salus::cuda
