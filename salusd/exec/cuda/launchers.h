// The CUDA kernels (kernels.cu), each behind a launcher that picks its grid
// (launch_config.h), launches on the lane's stream and returns the launch's
// cudaGetLastError(). The kernels' work is queued: its own errors surface
// when the stream is synchronized.
#pragma once

#include "exec/cuda/device_code.h"

#include <cuda_runtime_api.h>

namespace salus::cuda {

// The elementwise ops' launchers: elementwise_launchers.h.
// y [indices, depth] from i32 (wide: i64) indices.
cudaError_t launch_one_hot(const void *indices, bool wide, int64_t count, int64_t depth, float *y,
                           cudaStream_t stream);
// Y[i] = X[offset of operand 1 at i]: Expand and Transpose.
cudaError_t launch_gather(const StridedIndex &ix, int64_t elements, const float *x, float *y,
                          cudaStream_t stream);
cudaError_t launch_reduce(const ReducePlan &plan, const float *x, float *y, cudaStream_t stream);
cudaError_t launch_softmax(const AxisPlan &plan, const float *x, float *y, cudaStream_t stream);
cudaError_t launch_softmax_grad(const AxisPlan &plan, const float *dy, const float *y, float *dx,
                                cudaStream_t stream);
// The mean loss: row losses into `row_loss` (plan.rows doubles), then their mean.
cudaError_t launch_xent(const XentPlan &plan, const float *logits, const float *labels,
                        double *row_loss, float *loss, cudaStream_t stream);
// dloss may be null (then 1).
cudaError_t launch_xent_grad(const XentPlan &plan, const float *logits, const float *labels,
                             const float *dloss, float *dlogits, cudaStream_t stream);

// Test faults (SALUSD_TEST_FAULTS): a kernel that writes to an illegal
// address (a sticky error once the stream is synchronized), or a launch with
// an impossible block size (a recoverable launch error).
cudaError_t launch_illegal_address(cudaStream_t stream);
cudaError_t launch_bad_configuration(cudaStream_t stream);

} // namespace salus::cuda
