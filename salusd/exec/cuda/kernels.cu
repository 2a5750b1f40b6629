// Every CUDA kernel of the backend. Each is a loop over threads around the
// per-element code of device_code.h; line kernels (softmax, cross-entropy,
// reductions) give each line a block and combine the threads' partial
// results with block_sum()/block_max().
#include "exec/cuda/block_reduce.cuh"
#include "exec/cuda/launch_config.h"
#include "exec/cuda/launchers.h"

namespace salus::cuda {
namespace {

template <typename Index>
__global__ void one_hot_kernel(const Index *indices, int64_t n, int64_t depth, float *y) {
    SALUS_FOR_EACH(i, n) {
        const int64_t row = i / depth;
        y[i] = one_hot_value(static_cast<int64_t>(indices[row]), depth, i - row * depth);
    }
}

__global__ void gather_kernel(StridedIndex ix, int64_t n, const float *x, float *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] = x[strided_offset(ix, 1, i)];
    }
}

__global__ void reduce_kernel(ReducePlan p, const float *x, float *y) {
    __shared__ double shared[kMaxLineThreads];
    SALUS_FOR_EACH_LINE(o, p.outputs) {
        double sum = 0.0;
        for (int64_t k = threadIdx.x; k < p.count; k += blockDim.x)
            sum += x[reduce_offset(p, o, k)];
        sum = block_sum(sum, shared);
        if (threadIdx.x == 0) y[o] = static_cast<float>(sum) * p.scale;
    }
}

__global__ void softmax_kernel(AxisPlan p, const float *x, float *y) {
    __shared__ double shared[kMaxLineThreads];
    SALUS_FOR_EACH_LINE(line, axis_lines(p)) {
        float m = -INFINITY;
        for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) {
            m = fmaxf(m, x[axis_offset(p, line, k)]);
        }
        m = block_max(m, shared);
        double sum = 0.0;
        for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) {
            sum += expf(x[axis_offset(p, line, k)] - m);
        }
        const float scale = static_cast<float>(1.0 / block_sum(sum, shared));
        for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) {
            const int64_t at = axis_offset(p, line, k);
            y[at] = softmax_value(x[at], m, scale);
        }
    }
}

__global__ void softmax_grad_kernel(AxisPlan p, const float *dy, const float *y, float *dx) {
    __shared__ double shared[kMaxLineThreads];
    SALUS_FOR_EACH_LINE(line, axis_lines(p)) {
        double dot = 0.0;
        for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) {
            const int64_t at = axis_offset(p, line, k);
            dot += static_cast<double>(dy[at]) * y[at];
        }
        const float d = static_cast<float>(block_sum(dot, shared));
        for (int64_t k = threadIdx.x; k < p.n; k += blockDim.x) {
            const int64_t at = axis_offset(p, line, k);
            dx[at] = softmax_grad_value(dy[at], y[at], d);
        }
    }
}

// A row's max and sum(exp(x - max)), on every thread of the block.
__device__ void row_max_sum(const float *x, int64_t cols, double *shared, float *max, double *sum) {
    float m = -INFINITY;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, x[c]);
    m = block_max(m, shared);
    double s = 0.0;
    for (int64_t c = threadIdx.x; c < cols; c += blockDim.x) s += expf(x[c] - m);
    *max = m;
    *sum = block_sum(s, shared);
}

__global__ void xent_rows_kernel(XentPlan p, const float *logits, const float *labels,
                                 double *row_loss) {
    __shared__ double shared[kMaxLineThreads];
    SALUS_FOR_EACH_LINE(r, p.rows) {
        const float *x = logits + r * p.cols;
        const float *t = labels + r * p.cols;
        float m;
        double sum;
        row_max_sum(x, p.cols, shared, &m, &sum);
        const double lse = log(sum);
        double loss = 0.0;
        for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x)
            loss += xent_term(x[c], t[c], m, lse);
        loss = block_sum(loss, shared);
        if (threadIdx.x == 0) row_loss[r] = loss;
    }
}

// One block: the mean of the row losses.
__global__ void xent_mean_kernel(int64_t rows, const double *row_loss, float *loss) {
    __shared__ double shared[kMaxLineThreads];
    double total = 0.0;
    for (int64_t r = threadIdx.x; r < rows; r += blockDim.x) total += row_loss[r];
    total = block_sum(total, shared);
    if (threadIdx.x == 0)
        *loss = rows > 0 ? static_cast<float>(total / static_cast<double>(rows)) : 0.0f;
}

__global__ void xent_grad_kernel(XentPlan p, const float *logits, const float *labels,
                                 const float *dloss, float *dlogits) {
    __shared__ double shared[kMaxLineThreads];
    double scale = p.rows > 0 ? 1.0 / static_cast<double>(p.rows) : 0.0;
    if (dloss) scale *= *dloss;
    SALUS_FOR_EACH_LINE(r, p.rows) {
        const float *x = logits + r * p.cols;
        const float *t = labels + r * p.cols;
        float m;
        double sum;
        row_max_sum(x, p.cols, shared, &m, &sum);
        const double inv_sum = 1.0 / sum;
        for (int64_t c = threadIdx.x; c < p.cols; c += blockDim.x) {
            dlogits[r * p.cols + c] = xent_grad_value(x[c], t[c], m, inv_sum, scale);
        }
    }
}

__global__ void illegal_address_kernel(float *nowhere) {
    *nowhere = 1.0f;
}

__global__ void no_kernel() {}

} // namespace

cudaError_t launch_one_hot(const void *indices, bool wide, int64_t count, int64_t depth, float *y,
                           cudaStream_t stream) {
    const int64_t n = count * depth;
    const LaunchConfig c = elementwise_launch(n);
    if (!c.blocks) return cudaSuccess;
    if (wide) {
        one_hot_kernel<<<c.blocks, c.threads, 0, stream>>>(static_cast<const int64_t *>(indices), n,
                                                           depth, y);
    } else {
        one_hot_kernel<<<c.blocks, c.threads, 0, stream>>>(static_cast<const int32_t *>(indices), n,
                                                           depth, y);
    }
    return cudaGetLastError();
}

cudaError_t launch_gather(const StridedIndex &ix, int64_t elements, const float *x, float *y,
                          cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (c.blocks) gather_kernel<<<c.blocks, c.threads, 0, stream>>>(ix, elements, x, y);
    return cudaGetLastError();
}

cudaError_t launch_reduce(const ReducePlan &plan, const float *x, float *y, cudaStream_t stream) {
    const LaunchConfig c = line_launch(plan.outputs, plan.count);
    if (c.blocks) reduce_kernel<<<c.blocks, c.threads, 0, stream>>>(plan, x, y);
    return cudaGetLastError();
}

cudaError_t launch_softmax(const AxisPlan &plan, const float *x, float *y, cudaStream_t stream) {
    const LaunchConfig c = plan.n > 0 ? line_launch(axis_lines(plan), plan.n) : LaunchConfig{};
    if (c.blocks) softmax_kernel<<<c.blocks, c.threads, 0, stream>>>(plan, x, y);
    return cudaGetLastError();
}

cudaError_t launch_softmax_grad(const AxisPlan &plan, const float *dy, const float *y, float *dx,
                                cudaStream_t stream) {
    const LaunchConfig c = plan.n > 0 ? line_launch(axis_lines(plan), plan.n) : LaunchConfig{};
    if (c.blocks) softmax_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(plan, dy, y, dx);
    return cudaGetLastError();
}

cudaError_t launch_xent(const XentPlan &plan, const float *logits, const float *labels,
                        double *row_loss, float *loss, cudaStream_t stream) {
    const LaunchConfig rows = plan.cols > 0 ? line_launch(plan.rows, plan.cols) : LaunchConfig{};
    if (rows.blocks) {
        xent_rows_kernel<<<rows.blocks, rows.threads, 0, stream>>>(plan, logits, labels, row_loss);
        if (cudaError_t err = cudaGetLastError(); err != cudaSuccess) return err;
    }
    // With no class, every row loss is 0 (an empty sum), as on the CPU.
    if (plan.cols == 0 && plan.rows > 0) {
        if (cudaError_t err = cudaMemsetAsync(row_loss, 0, plan.rows * sizeof(double), stream);
            err != cudaSuccess) {
            return err;
        }
    }
    const LaunchConfig mean = line_launch(1, plan.rows);
    xent_mean_kernel<<<mean.blocks, mean.threads, 0, stream>>>(plan.rows, row_loss, loss);
    return cudaGetLastError();
}

cudaError_t launch_xent_grad(const XentPlan &plan, const float *logits, const float *labels,
                             const float *dloss, float *dlogits, cudaStream_t stream) {
    const LaunchConfig c = plan.cols > 0 ? line_launch(plan.rows, plan.cols) : LaunchConfig{};
    if (c.blocks)
        xent_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(plan, logits, labels, dloss, dlogits);
    return cudaGetLastError();
}

cudaError_t launch_illegal_address(cudaStream_t stream) {
    // Far outside any allocation, in the first page no driver maps.
    illegal_address_kernel<<<1, 1, 0, stream>>>(reinterpret_cast<float *>(uintptr_t{16}));
    return cudaGetLastError();
}

cudaError_t launch_bad_configuration(cudaStream_t stream) {
    // No GPU runs blocks of more than 1024 threads: the launch itself fails.
    no_kernel<<<1, 4096, 0, stream>>>();
    return cudaGetLastError();
}

} // namespace salus::cuda
