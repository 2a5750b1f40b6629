// The norm family's CUDA kernels (norm.cu), each behind a launcher that
// queues it on `stream` and returns the launch's cudaGetLastError().
#pragma once

#include "exec/cuda/norm_device.h"

#include <cuda_runtime_api.h>

namespace salus::cuda {

// Rows of k elements each normalized; bias, mean and inv_std may be null.
cudaError_t launch_layer_norm(int64_t rows, int64_t k, float eps, const float *x,
                              const float *scale, const float *bias, float *y, float *mean,
                              float *inv_std, cudaStream_t stream);
// dX per row, then dScale and dB (may be null) per column.
cudaError_t launch_layer_norm_grad(int64_t rows, int64_t k, const float *dy, const float *x,
                                   const float *scale, const float *mean, const float *inv_std,
                                   float *dx, float *dscale, float *dbias, cudaStream_t stream);
// mask may be null.
cudaError_t launch_dropout(int64_t n, float ratio, int64_t seed, uint64_t iteration, const float *x,
                           float *y, uint8_t *mask, cudaStream_t stream);
cudaError_t launch_dropout_grad(int64_t n, float ratio, const float *dy, const uint8_t *mask,
                                float *dx, cudaStream_t stream);

// Group statistics of X and Y = x̂ · scale + bias: batch normalization in
// training mode (p.batch; save_* and running_* may be null) and group
// normalization (running_* null).
cudaError_t launch_group_norm(const NormGroups &p, float eps, const float *x, const float *scale,
                              const float *bias, float *y, float *save_mean, float *save_inv_std,
                              float *running_mean, float *running_var, double momentum,
                              cudaStream_t stream);
// Batch normalization with fixed statistics (p.batch).
cudaError_t launch_batch_norm_inference(const NormGroups &p, float eps, const float *x,
                                        const float *scale, const float *bias, const float *mean,
                                        const float *var, float *y, cudaStream_t stream);
// Batch normalization's backward (p.batch): `stat` is the saved inverse
// standard deviation (batch_stats) or the fixed variance (then with eps).
cudaError_t launch_batch_norm_grad(const NormGroups &p, bool batch_stats, float eps,
                                   const float *dy, const float *x, const float *scale,
                                   const float *mean, const float *stat, float *dx, float *dscale,
                                   float *dbias, cudaStream_t stream);
// Group normalization's backward; `stats` is scratch for 2 · groups floats.
cudaError_t launch_group_norm_grad(const NormGroups &p, float eps, const float *dy, const float *x,
                                   const float *scale, float *dx, float *dscale, float *dbias,
                                   float *stats, cudaStream_t stream);

} // namespace salus::cuda
