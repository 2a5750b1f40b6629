// The loss family's CUDA kernels (loss.cu), each behind a launcher that
// queues it on the lane's stream and returns the launch's cudaGetLastError().
#pragma once

#include "exec/cuda/loss_device.h"

#include <cuda_runtime_api.h>

namespace salus::cuda {

cudaError_t launch_sgd(const SgdParams &p, LrSource lr, int64_t n, float *w, const float *g,
                       cudaStream_t stream);
// Then step += 1, by a later launch once every thread read it.
cudaError_t launch_sgd_momentum(const SgdParams &p, LrSource lr, int64_t n, float *w,
                                const float *g, float *buf, float *step, cudaStream_t stream);
cudaError_t launch_adam(const AdamParams &p, LrSource lr, int64_t n, float *w, const float *g,
                        float *m, float *v, float *step, cudaStream_t stream);

cudaError_t launch_reduce_extremum(const ReducePlan &p, bool max, const float *x, float *y,
                                   cudaStream_t stream);
cudaError_t launch_reduce_extremum_grad(const ReducePlan &p, const float *dy, const float *x,
                                        const float *y, float *dx, cudaStream_t stream);
cudaError_t launch_arg(const AxisPlan &p, bool max, bool last, const float *x, int64_t *y,
                       cudaStream_t stream);
cudaError_t launch_log_softmax(const AxisPlan &p, const float *x, float *y, cudaStream_t stream);
cudaError_t launch_log_softmax_grad(const AxisPlan &p, const float *dy, const float *y, float *dx,
                                    cudaStream_t stream);

// Checks the labels into scratch (LabelScratch); the caller reads it back.
cudaError_t launch_check_labels(const LabelPlan &p, const void *labels, const float *weight,
                                LabelScratch *scratch, cudaStream_t stream);
// After launch_check_labels: the loss (terms in `terms`, one per position),
// log_prob when not null.
cudaError_t launch_label_loss(const LabelPlan &p, bool softmax, const float *x, const void *labels,
                              const float *weight, const LabelScratch *scratch, double *terms,
                              float *loss, float *log_prob, cudaStream_t stream);
cudaError_t launch_label_loss_grad(const LabelPlan &p, bool softmax, const float *dloss,
                                   const float *x, const void *labels, const float *weight,
                                   const LabelScratch *scratch, float *dx, cudaStream_t stream);

} // namespace salus::cuda
