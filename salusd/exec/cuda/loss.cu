// The loss family's CUDA kernels: loops over threads around the per-element
// code of loss_device.h, which the CPU kernels run too. Log-softmax lines and
// the classes of a label position get a block each (block_reduce.cuh); the
// reductions by comparison a thread per output; sums over positions run in
// one block of kSumThreads.
#include "exec/cuda/block_reduce.cuh"
#include "exec/cuda/launch_config.h"
#include "exec/cuda/loss_launchers.h"

namespace salus::cuda {
namespace {

constexpr unsigned kSumThreads = 256;

__device__ float lr_value(LrSource lr) {
    return static_cast<float>(lr.input ? static_cast<double>(*lr.input) : lr.value);
}

__global__ void sgd_kernel(SgdParams p, LrSource lr, int64_t n, float *w, const float *g) {
    const float rate = lr_value(lr);
    SALUS_FOR_EACH(i, n) {
        w[i] = sgd_element(p, rate, g[i], w[i]);
    }
}

__global__ void sgd_momentum_kernel(SgdParams p, LrSource lr, int64_t n, float *w, const float *g,
                                    float *buf, const float *step) {
    const float rate = lr_value(lr);
    const bool first = *step == 0.0f;
    SALUS_FOR_EACH(i, n) {
        sgd_momentum_element(p, rate, first, g[i], &w[i], &buf[i]);
    }
}

__global__ void adam_kernel(AdamParams p, LrSource lr, int64_t n, float *w, const float *g,
                            float *m, float *v, const float *step) {
    const double rate = lr.input ? static_cast<double>(*lr.input) : lr.value;
    const AdamStep s = adam_step(p, *step, rate);
    SALUS_FOR_EACH(i, n) {
        adam_element(p, s, g[i], &w[i], &m[i], &v[i]);
    }
}

__global__ void increment_kernel(float *value) {
    *value += 1.0f;
}

__global__ void reduce_extremum_kernel(ReducePlan p, bool max, const float *x, float *y) {
    SALUS_FOR_EACH(o, p.outputs) {
        float acc = x[reduce_offset(p, o, 0)];
        for (int64_t k = 1; k < p.count; ++k) {
            const float v = x[reduce_offset(p, o, k)];
            if (extremum_takes(max, v, acc)) acc = v;
        }
        y[o] = acc;
    }
}

__global__ void reduce_extremum_grad_kernel(ReducePlan p, const float *dy, const float *x,
                                            const float *y, float *dx) {
    SALUS_FOR_EACH(o, p.outputs) {
        int64_t ties = 0;
        for (int64_t k = 0; k < p.count; ++k) ties += x[reduce_offset(p, o, k)] == y[o];
        const float share = ties > 0 ? dy[o] / static_cast<float>(ties) : 0.0f;
        for (int64_t k = 0; k < p.count; ++k) {
            const int64_t at = reduce_offset(p, o, k);
            dx[at] = x[at] == y[o] ? share : 0.0f;
        }
    }
}

__global__ void arg_kernel(AxisPlan p, bool max, bool last, const float *x, int64_t *y) {
    SALUS_FOR_EACH(line, axis_lines(p)) {
        int64_t best = 0;
        float best_value = x[axis_offset(p, line, 0)];
        for (int64_t k = 1; k < p.n; ++k) {
            const float v = x[axis_offset(p, line, k)];
            if (arg_takes(max, last, v, best_value)) {
                best = k;
                best_value = v;
            }
        }
        y[line] = best;
    }
}

// A line's max and log(sum(exp(x - max))) on every thread of the block, as
// line_max_lse() computes them (the sum in double, in another order).
__device__ void block_max_lse(const float *xl, int64_t n, int64_t stride, double *shared,
                              float *max, double *lse) {
    float m = -INFINITY;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) m = fmaxf(m, xl[k * stride]);
    m = block_max(m, shared);
    double sum = 0.0;
    for (int64_t k = threadIdx.x; k < n; k += blockDim.x) sum += exp_poly(xl[k * stride] - m);
    *max = m;
    *lse = log(block_sum(sum, shared));
}

__global__ void log_softmax_kernel(AxisPlan p, const float *x, float *y) {
    __shared__ double shared[kMaxLineThreads];
    SALUS_FOR_EACH_LINE(line, axis_lines(p)) {
        const int64_t base = axis_offset(p, line, 0);
        float m;
        double lse;
        block_max_lse(x + base, p.n, p.inner, shared, &m, &lse);
        for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) {
            const int64_t at = base + k * p.inner;
            y[at] = static_cast<float>(log_softmax_value(x[at], m, lse));
        }
    }
}

__global__ void log_softmax_grad_kernel(AxisPlan p, const float *dy, const float *y, float *dx) {
    __shared__ double shared[kMaxLineThreads];
    SALUS_FOR_EACH_LINE(line, axis_lines(p)) {
        const int64_t base = axis_offset(p, line, 0);
        double sum = 0.0;
        for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) sum += dy[base + k * p.inner];
        const float s = static_cast<float>(block_sum(sum, shared));
        for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) {
            const int64_t at = base + k * p.inner;
            dx[at] = log_softmax_grad_value(dy[at], y[at], s);
        }
    }
}

// One block: the first invalid label and the total weight of the counted ones.
__global__ void check_labels_kernel(LabelPlan p, const void *labels, const float *weight,
                                    LabelScratch *scratch) {
    __shared__ double total[kSumThreads];
    __shared__ long long first_bad[kSumThreads];
    double t_total = 0.0;
    long long t_bad = -1;
    for (int64_t pos = threadIdx.x; pos < label_positions(p); pos += blockDim.x) {
        const int64_t t = label_at(p, labels, pos);
        if (label_ignored(p, t)) continue;
        if (!label_valid(p, t)) {
            if (t_bad < 0) t_bad = pos;
            continue;
        }
        t_total += label_weight(p, weight, t);
    }
    total[threadIdx.x] = t_total;
    first_bad[threadIdx.x] = t_bad;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s) {
            total[threadIdx.x] += total[threadIdx.x + s];
            const long long other = first_bad[threadIdx.x + s];
            if (other >= 0 && (first_bad[threadIdx.x] < 0 || other < first_bad[threadIdx.x]))
                first_bad[threadIdx.x] = other;
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        scratch->total_weight = total[0];
        scratch->bad_position = first_bad[0];
        scratch->bad_label = first_bad[0] >= 0 ? label_at(p, labels, first_bad[0]) : 0;
    }
}

// The term of each position (a block each); log_prob of every class when
// asked for.
__global__ void label_terms_kernel(LabelPlan p, bool softmax, const float *x, const void *labels,
                                   const float *weight, double *terms, float *loss,
                                   float *log_prob) {
    __shared__ double shared[kMaxLineThreads];
    SALUS_FOR_EACH_LINE(pos, label_positions(p)) {
        const int64_t base = class_offset(p, pos, 0);
        float m = 0.0f;
        double lse = 0.0;
        if (softmax) block_max_lse(x + base, p.c, p.d, shared, &m, &lse);
        if (log_prob) {
            for (int64_t c = threadIdx.x; c < p.c; c += blockDim.x) {
                const int64_t at = base + c * p.d;
                log_prob[at] = static_cast<float>(log_softmax_value(x[at], m, lse));
            }
        }
        if (threadIdx.x != 0) continue;
        const int64_t t = label_at(p, labels, pos);
        double term = 0.0;
        if (!label_ignored(p, t)) {
            const float xt = x[base + t * p.d];
            const float w = label_weight(p, weight, t);
            term = softmax ? -static_cast<double>(w) * log_softmax_value(xt, m, lse)
                           : static_cast<double>(-w * xt);
        }
        terms[pos] = term;
        if (p.reduction == 2) loss[pos] = static_cast<float>(term);
    }
}

__global__ void label_sum_kernel(LabelPlan p, const double *terms, const LabelScratch *scratch,
                                 float *loss) {
    __shared__ double total[kSumThreads];
    double t_total = 0.0;
    for (int64_t pos = threadIdx.x; pos < label_positions(p); pos += blockDim.x)
        t_total += terms[pos];
    total[threadIdx.x] = t_total;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s) total[threadIdx.x] += total[threadIdx.x + s];
        __syncthreads();
    }
    if (threadIdx.x == 0) *loss = reduce_loss(p, total[0], scratch->total_weight);
}

// A block per position.
__global__ void label_grad_kernel(LabelPlan p, bool softmax, const float *dloss, const float *x,
                                  const void *labels, const float *weight,
                                  const LabelScratch *scratch, float *dx) {
    __shared__ double shared[kMaxLineThreads];
    SALUS_FOR_EACH_LINE(pos, label_positions(p)) {
        const int64_t base = class_offset(p, pos, 0);
        const int64_t t = label_at(p, labels, pos);
        if (label_ignored(p, t)) {
            for (int64_t c = threadIdx.x; c < p.c; c += blockDim.x) dx[base + c * p.d] = 0.0f;
            continue;
        }
        const double scale = loss_grad_scale(p, dloss, pos, scratch->total_weight);
        const float w = label_weight(p, weight, t);
        if (!softmax) {
            for (int64_t c = threadIdx.x; c < p.c; c += blockDim.x) {
                dx[base + c * p.d] = c == t ? static_cast<float>(-w * scale) : 0.0f;
            }
            continue;
        }
        float m;
        double lse;
        block_max_lse(x + base, p.c, p.d, shared, &m, &lse);
        const double inv_sum = exp(-lse);
        for (int64_t c = threadIdx.x; c < p.c; c += blockDim.x) {
            const int64_t at = base + c * p.d;
            dx[at] = sce_grad_value(x[at], m, inv_sum, c == t, scale * w);
        }
    }
}

} // namespace

cudaError_t launch_sgd(const SgdParams &p, LrSource lr, int64_t n, float *w, const float *g,
                       cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (c.blocks) sgd_kernel<<<c.blocks, c.threads, 0, stream>>>(p, lr, n, w, g);
    return cudaGetLastError();
}

cudaError_t launch_sgd_momentum(const SgdParams &p, LrSource lr, int64_t n, float *w,
                                const float *g, float *buf, float *step, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (c.blocks)
        sgd_momentum_kernel<<<c.blocks, c.threads, 0, stream>>>(p, lr, n, w, g, buf, step);
    if (cudaError_t err = cudaGetLastError(); err != cudaSuccess) return err;
    increment_kernel<<<1, 1, 0, stream>>>(step);
    return cudaGetLastError();
}

cudaError_t launch_adam(const AdamParams &p, LrSource lr, int64_t n, float *w, const float *g,
                        float *m, float *v, float *step, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (c.blocks) adam_kernel<<<c.blocks, c.threads, 0, stream>>>(p, lr, n, w, g, m, v, step);
    if (cudaError_t err = cudaGetLastError(); err != cudaSuccess) return err;
    increment_kernel<<<1, 1, 0, stream>>>(step);
    return cudaGetLastError();
}

cudaError_t launch_reduce_extremum(const ReducePlan &p, bool max, const float *x, float *y,
                                   cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(p.outputs);
    if (c.blocks) reduce_extremum_kernel<<<c.blocks, c.threads, 0, stream>>>(p, max, x, y);
    return cudaGetLastError();
}

cudaError_t launch_reduce_extremum_grad(const ReducePlan &p, const float *dy, const float *x,
                                        const float *y, float *dx, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(p.outputs);
    if (c.blocks) reduce_extremum_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(p, dy, x, y, dx);
    return cudaGetLastError();
}

cudaError_t launch_arg(const AxisPlan &p, bool max, bool last, const float *x, int64_t *y,
                       cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(axis_lines(p));
    if (c.blocks) arg_kernel<<<c.blocks, c.threads, 0, stream>>>(p, max, last, x, y);
    return cudaGetLastError();
}

cudaError_t launch_log_softmax(const AxisPlan &p, const float *x, float *y, cudaStream_t stream) {
    const LaunchConfig c = p.n > 0 ? line_launch(axis_lines(p), p.n) : LaunchConfig{};
    if (c.blocks) log_softmax_kernel<<<c.blocks, c.threads, 0, stream>>>(p, x, y);
    return cudaGetLastError();
}

cudaError_t launch_log_softmax_grad(const AxisPlan &p, const float *dy, const float *y, float *dx,
                                    cudaStream_t stream) {
    const LaunchConfig c = p.n > 0 ? line_launch(axis_lines(p), p.n) : LaunchConfig{};
    if (c.blocks) log_softmax_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(p, dy, y, dx);
    return cudaGetLastError();
}

cudaError_t launch_check_labels(const LabelPlan &p, const void *labels, const float *weight,
                                LabelScratch *scratch, cudaStream_t stream) {
    check_labels_kernel<<<1, kSumThreads, 0, stream>>>(p, labels, weight, scratch);
    return cudaGetLastError();
}

cudaError_t launch_label_loss(const LabelPlan &p, bool softmax, const float *x, const void *labels,
                              const float *weight, const LabelScratch *scratch, double *terms,
                              float *loss, float *log_prob, cudaStream_t stream) {
    const LaunchConfig c = line_launch(label_positions(p), p.c);
    if (c.blocks) {
        label_terms_kernel<<<c.blocks, c.threads, 0, stream>>>(p, softmax, x, labels, weight, terms,
                                                               loss, log_prob);
        if (cudaError_t err = cudaGetLastError(); err != cudaSuccess) return err;
    }
    if (p.reduction != 2) label_sum_kernel<<<1, kSumThreads, 0, stream>>>(p, terms, scratch, loss);
    return cudaGetLastError();
}

cudaError_t launch_label_loss_grad(const LabelPlan &p, bool softmax, const float *dloss,
                                   const float *x, const void *labels, const float *weight,
                                   const LabelScratch *scratch, float *dx, cudaStream_t stream) {
    const LaunchConfig c = line_launch(label_positions(p), p.c);
    if (c.blocks) {
        label_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(p, softmax, dloss, x, labels, weight,
                                                              scratch, dx);
    }
    return cudaGetLastError();
}

} // namespace salus::cuda
