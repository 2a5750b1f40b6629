// The norm family's CUDA kernels: loops over threads around the formulas of
// norm_device.h. Layer normalization gives each row a block (the line-kernel
// pattern of kernels.cu); its parameter gradients give each column a thread.
#include "exec/cuda/block_reduce.cuh"
#include "exec/cuda/launch_config.h"
#include "exec/cuda/norm_launchers.h"

namespace salus::cuda {
namespace {

__global__ void layer_norm_kernel(int64_t rows, int64_t k, float eps, const float *x,
                                  const float *scale, const float *bias, float *y, float *mean,
                                  float *inv_std) {
    __shared__ double shared[kMaxLineThreads];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * k;
        double sum = 0.0;
        for (int64_t j = threadIdx.x; j < k; j += blockDim.x) sum += xr[j];
        // An empty row (k = 0) has mean 0 and variance 0, as on the CPU.
        const double m = k > 0 ? block_sum(sum, shared) / static_cast<double>(k) : 0.0;
        double sq = 0.0;
        for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
            const double d = xr[j] - m;
            sq += d * d;
        }
        const float is =
            norm_inv_std(k > 0 ? block_sum(sq, shared) / static_cast<double>(k) : 0.0, eps);
        const float mf = static_cast<float>(m);
        for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
            y[r * k + j] = norm_apply(xr[j], mf, is, scale[j], bias ? bias[j] : 0.0f);
        }
        if (threadIdx.x == 0) {
            if (mean) mean[r] = mf;
            if (inv_std) inv_std[r] = is;
        }
    }
}

__global__ void layer_norm_dx_kernel(int64_t rows, int64_t k, const float *dy, const float *x,
                                     const float *scale, const float *mean, const float *inv_std,
                                     float *dx) {
    __shared__ double shared[kMaxLineThreads];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t base = r * k;
        const float m = mean[r], is = inv_std[r];
        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
            const float g = dy[base + j] * scale[j];
            sum_g += g;
            sum_gx += static_cast<double>(g) * ((x[base + j] - m) * is);
        }
        const double mean_g = block_sum(sum_g, shared) / static_cast<double>(k);
        const double mean_gx = block_sum(sum_gx, shared) / static_cast<double>(k);
        for (int64_t j = threadIdx.x; j < k; j += blockDim.x) {
            const float xhat = (x[base + j] - m) * is;
            dx[base + j] = norm_grad_input(dy[base + j] * scale[j], xhat, is, mean_g, mean_gx);
        }
    }
}

__global__ void layer_norm_params_kernel(int64_t rows, int64_t k, const float *dy, const float *x,
                                         const float *mean, const float *inv_std, float *dscale,
                                         float *dbias) {
    SALUS_FOR_EACH(j, k) {
        double ds = 0.0, db = 0.0;
        for (int64_t r = 0; r < rows; ++r) {
            const float g = dy[r * k + j];
            ds += static_cast<double>(g) * ((x[r * k + j] - mean[r]) * inv_std[r]);
            db += g;
        }
        dscale[j] = static_cast<float>(ds);
        if (dbias) dbias[j] = static_cast<float>(db);
    }
}

__global__ void dropout_kernel(int64_t n, float ratio, int64_t seed, uint64_t iteration,
                               const float *x, float *y, uint8_t *mask) {
    const float scale = dropout_scale(ratio);
    const uint64_t stream = dropout_stream(seed, iteration);
    SALUS_FOR_EACH(i, n) {
        const bool keep = dropout_kept(stream, i, ratio);
        y[i] = keep ? x[i] * scale : 0.0f;
        if (mask) mask[i] = keep ? 1 : 0;
    }
}

__global__ void dropout_grad_kernel(int64_t n, float ratio, const float *dy, const uint8_t *mask,
                                    float *dx) {
    const float scale = dropout_scale(ratio);
    SALUS_FOR_EACH(i, n) {
        dx[i] = mask[i] ? dy[i] * scale : 0.0f;
    }
}

// One block per group: two-pass statistics in double, then Y; batch
// normalization also saves its statistics and updates the running ones.
__global__ void group_norm_kernel(NormGroups p, float eps, const float *x, const float *scale,
                                  const float *bias, float *y, float *save_mean,
                                  float *save_inv_std, float *running_mean, float *running_var,
                                  double momentum) {
    __shared__ double shared[kMaxLineThreads];
    const int64_t size = norm_group_size(p);
    for (int64_t q = blockIdx.x; q < norm_group_count(p); q += gridDim.x) {
        double sum = 0.0;
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            sum += x[norm_group_offset(p, q, j)];
        }
        const double m = size > 0 ? block_sum(sum, shared) / static_cast<double>(size) : 0.0;
        double sq = 0.0;
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            const double d = x[norm_group_offset(p, q, j)] - m;
            sq += d * d;
        }
        const double var = size > 0 ? block_sum(sq, shared) / static_cast<double>(size) : 0.0;
        const float is = norm_inv_std(var, eps);
        const float mf = static_cast<float>(m);
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            const int64_t at = norm_group_offset(p, q, j);
            const int64_t c = norm_group_channel(p, q, j);
            y[at] = norm_apply(x[at], mf, is, scale[c], bias[c]);
        }
        if (threadIdx.x == 0) {
            if (save_mean) save_mean[q] = mf;
            if (save_inv_std) save_inv_std[q] = is;
            if (running_mean) {
                const double unbiased =
                    var * static_cast<double>(size) / static_cast<double>(size - 1);
                running_mean[q] = running_update(running_mean[q], m, momentum);
                running_var[q] = running_update(running_var[q], unbiased, momentum);
            }
        }
    }
}

__global__ void batch_norm_inference_kernel(NormGroups p, int64_t n, float eps, const float *x,
                                            const float *scale, const float *bias,
                                            const float *mean, const float *var, float *y) {
    SALUS_FOR_EACH(i, n) {
        const int64_t c = (i / p.inner) % p.channels;
        y[i] = norm_apply(x[i], mean[c], norm_inv_std(var[c], eps), scale[c], bias[c]);
    }
}

// One block per channel: Σ dY and Σ dY · (X − mean), then dX.
__global__ void batch_norm_grad_kernel(NormGroups p, bool batch_stats, float eps, const float *dy,
                                       const float *x, const float *scale, const float *mean,
                                       const float *stat, float *dx, float *dscale, float *dbias) {
    __shared__ double shared[kMaxLineThreads];
    const int64_t size = norm_group_size(p);
    for (int64_t c = blockIdx.x; c < p.channels; c += gridDim.x) {
        const float m = mean[c];
        const float is = batch_stats ? stat[c] : norm_inv_std(stat[c], eps);
        double a = 0.0, b = 0.0;
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            const int64_t at = norm_group_offset(p, c, j);
            a += dy[at];
            b += static_cast<double>(dy[at]) * (x[at] - m);
        }
        const double sum_dy = block_sum(a, shared);
        const double sum_dy_xhat = block_sum(b, shared) * is;
        if (threadIdx.x == 0) {
            dscale[c] = static_cast<float>(sum_dy_xhat);
            dbias[c] = static_cast<float>(sum_dy);
        }
        const double count = static_cast<double>(size);
        const double mean_g = batch_stats ? sum_dy * scale[c] / count : 0.0;
        const double mean_gx = batch_stats ? sum_dy_xhat * scale[c] / count : 0.0;
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            const int64_t at = norm_group_offset(p, c, j);
            const float xhat = (x[at] - m) * is;
            dx[at] = norm_grad_input(dy[at] * scale[c], xhat, is, mean_g, mean_gx);
        }
    }
}

// One block per group: its statistics again (into `stats`), then dX.
__global__ void group_norm_dx_kernel(NormGroups p, float eps, const float *dy, const float *x,
                                     const float *scale, float *dx, float *stats) {
    __shared__ double shared[kMaxLineThreads];
    const int64_t size = norm_group_size(p), groups = norm_group_count(p);
    for (int64_t q = blockIdx.x; q < groups; q += gridDim.x) {
        double sum = 0.0;
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            sum += x[norm_group_offset(p, q, j)];
        }
        const double md = size > 0 ? block_sum(sum, shared) / static_cast<double>(size) : 0.0;
        double sq = 0.0;
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            const double d = x[norm_group_offset(p, q, j)] - md;
            sq += d * d;
        }
        const float is =
            norm_inv_std(size > 0 ? block_sum(sq, shared) / static_cast<double>(size) : 0.0, eps);
        const float m = static_cast<float>(md);
        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            const int64_t at = norm_group_offset(p, q, j);
            const float g = dy[at] * scale[norm_group_channel(p, q, j)];
            sum_g += g;
            sum_gx += static_cast<double>(g) * ((x[at] - m) * is);
        }
        const double count = static_cast<double>(size);
        const double mean_g = block_sum(sum_g, shared) / count;
        const double mean_gx = block_sum(sum_gx, shared) / count;
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            const int64_t at = norm_group_offset(p, q, j);
            const float xhat = (x[at] - m) * is;
            dx[at] = norm_grad_input(dy[at] * scale[norm_group_channel(p, q, j)], xhat, is, mean_g,
                                     mean_gx);
        }
        if (threadIdx.x == 0) {
            stats[2 * q] = m;
            stats[2 * q + 1] = is;
        }
    }
}

// One block per channel: dScale = Σ dY · x̂ and dBias = Σ dY over N · inner.
__global__ void group_norm_params_kernel(NormGroups p, const float *dy, const float *x,
                                         const float *stats, float *dscale, float *dbias) {
    __shared__ double shared[kMaxLineThreads];
    const int64_t size = p.outer * p.inner;
    for (int64_t c = blockIdx.x; c < p.channels; c += gridDim.x) {
        double ds = 0.0, db = 0.0;
        for (int64_t j = threadIdx.x; j < size; j += blockDim.x) {
            const int64_t at = norm_channel_offset(p, c, j);
            const int64_t q = norm_channel_group(p, c, j);
            ds += static_cast<double>(dy[at]) * ((x[at] - stats[2 * q]) * stats[2 * q + 1]);
            db += dy[at];
        }
        ds = block_sum(ds, shared);
        db = block_sum(db, shared);
        if (threadIdx.x == 0) {
            dscale[c] = static_cast<float>(ds);
            dbias[c] = static_cast<float>(db);
        }
    }
}

} // namespace

cudaError_t launch_layer_norm(int64_t rows, int64_t k, float eps, const float *x,
                              const float *scale, const float *bias, float *y, float *mean,
                              float *inv_std, cudaStream_t stream) {
    const LaunchConfig c = line_launch(rows, k); // empty rows still get their statistics
    if (c.blocks) {
        layer_norm_kernel<<<c.blocks, c.threads, 0, stream>>>(rows, k, eps, x, scale, bias, y, mean,
                                                              inv_std);
    }
    return cudaGetLastError();
}

cudaError_t launch_layer_norm_grad(int64_t rows, int64_t k, const float *dy, const float *x,
                                   const float *scale, const float *mean, const float *inv_std,
                                   float *dx, float *dscale, float *dbias, cudaStream_t stream) {
    const LaunchConfig rows_c = k > 0 ? line_launch(rows, k) : LaunchConfig{};
    if (rows_c.blocks) {
        layer_norm_dx_kernel<<<rows_c.blocks, rows_c.threads, 0, stream>>>(rows, k, dy, x, scale,
                                                                           mean, inv_std, dx);
    }
    const LaunchConfig cols_c = elementwise_launch(k);
    if (cols_c.blocks) {
        layer_norm_params_kernel<<<cols_c.blocks, cols_c.threads, 0, stream>>>(
            rows, k, dy, x, mean, inv_std, dscale, dbias);
    }
    return cudaGetLastError();
}

cudaError_t launch_dropout(int64_t n, float ratio, int64_t seed, uint64_t iteration, const float *x,
                           float *y, uint8_t *mask, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (c.blocks) {
        dropout_kernel<<<c.blocks, c.threads, 0, stream>>>(n, ratio, seed, iteration, x, y, mask);
    }
    return cudaGetLastError();
}

cudaError_t launch_dropout_grad(int64_t n, float ratio, const float *dy, const uint8_t *mask,
                                float *dx, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (c.blocks) dropout_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(n, ratio, dy, mask, dx);
    return cudaGetLastError();
}

cudaError_t launch_group_norm(const NormGroups &p, float eps, const float *x, const float *scale,
                              const float *bias, float *y, float *save_mean, float *save_inv_std,
                              float *running_mean, float *running_var, double momentum,
                              cudaStream_t stream) {
    const LaunchConfig c = line_launch(norm_group_count(p), norm_group_size(p));
    if (c.blocks) {
        group_norm_kernel<<<c.blocks, c.threads, 0, stream>>>(p, eps, x, scale, bias, y, save_mean,
                                                              save_inv_std, running_mean,
                                                              running_var, momentum);
    }
    return cudaGetLastError();
}

cudaError_t launch_batch_norm_inference(const NormGroups &p, float eps, const float *x,
                                        const float *scale, const float *bias, const float *mean,
                                        const float *var, float *y, cudaStream_t stream) {
    const int64_t n = p.outer * p.channels * p.inner;
    const LaunchConfig c = elementwise_launch(n);
    if (c.blocks) {
        batch_norm_inference_kernel<<<c.blocks, c.threads, 0, stream>>>(p, n, eps, x, scale, bias,
                                                                        mean, var, y);
    }
    return cudaGetLastError();
}

cudaError_t launch_batch_norm_grad(const NormGroups &p, bool batch_stats, float eps,
                                   const float *dy, const float *x, const float *scale,
                                   const float *mean, const float *stat, float *dx, float *dscale,
                                   float *dbias, cudaStream_t stream) {
    const LaunchConfig c = line_launch(p.channels, norm_group_size(p));
    if (c.blocks) {
        batch_norm_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(
            p, batch_stats, eps, dy, x, scale, mean, stat, dx, dscale, dbias);
    }
    return cudaGetLastError();
}

cudaError_t launch_group_norm_grad(const NormGroups &p, float eps, const float *dy, const float *x,
                                   const float *scale, float *dx, float *dscale, float *dbias,
                                   float *stats, cudaStream_t stream) {
    const LaunchConfig groups = line_launch(norm_group_count(p), norm_group_size(p));
    if (groups.blocks) {
        group_norm_dx_kernel<<<groups.blocks, groups.threads, 0, stream>>>(p, eps, dy, x, scale, dx,
                                                                           stats);
    }
    const LaunchConfig channels = line_launch(p.channels, p.outer * p.inner);
    if (channels.blocks) {
        group_norm_params_kernel<<<channels.blocks, channels.threads, 0, stream>>>(p, dy, x, stats,
                                                                                   dscale, dbias);
    }
    return cudaGetLastError();
}

} // namespace salus::cuda
