// The conv family's CUDA kernels: grid-stride loops over conv_device.h.
#include "exec/cuda/block_reduce.cuh"
#include "exec/cuda/conv_launchers.h"
#include "exec/cuda/launch_config.h"

namespace salus::cuda {
namespace {

__global__ void resample_kernel(ResampleMap m, int64_t n, const float *x, float value, float *y) {
    SALUS_FOR_EACH(i, n) {
        const int64_t s = resample_source(m, i);
        y[i] = s < 0 ? value : x[s];
    }
}

__global__ void upsample_grad_kernel(ResampleMap m, int64_t n, const float *dy, float *dx) {
    SALUS_FOR_EACH(j, n) {
        dx[j] = upsample_grad_value(m, dy, j);
    }
}

__global__ void pad_grad_kernel(ResampleMap m, int64_t n, const float *dy, float *dx) {
    SALUS_FOR_EACH(j, n) {
        dx[j] = pad_grad_value(m, dy, j);
    }
}

__global__ void depth_space_kernel(DepthSpace p, int64_t n, bool to_depth, const float *x,
                                   float *y) {
    SALUS_FOR_EACH(s, n) {
        if (to_depth) {
            y[depth_index(p, s)] = x[s];
        } else {
            y[s] = x[depth_index(p, s)];
        }
    }
}

__global__ void pool_kernel(PoolPlan p, bool max, int64_t n, const float *x, float *y,
                            int64_t *indices) {
    SALUS_FOR_EACH(o, n) {
        const int64_t per_plane = p.oh * p.ow, c = o / per_plane, r = o - c * per_plane;
        const float *xc = x + c * p.ih * p.iw;
        if (max) {
            int64_t at = -1;
            y[o] = pool_max(p, xc, r / p.ow, r % p.ow, &at);
            if (indices) indices[o] = at < 0 ? -1 : c * p.ih * p.iw + at;
        } else {
            y[o] = pool_mean(p, xc, r / p.ow, r % p.ow);
        }
    }
}

__global__ void pool_grad_kernel(PoolPlan p, bool max, int64_t n, const float *x, const float *dy,
                                 float *dx) {
    SALUS_FOR_EACH(j, n) {
        const int64_t per_plane = p.ih * p.iw, c = j / per_plane, r = j - c * per_plane;
        dx[j] =
            pool_grad_value(p, max, x + c * per_plane, dy + c * p.oh * p.ow, r / p.iw, r % p.iw);
    }
}

__global__ void plane_mean_kernel(int64_t planes, int64_t size, const float *x, float *y) {
    SALUS_FOR_EACH(c, planes) {
        y[c] = plane_mean(x, c, size);
    }
}

} // namespace

cudaError_t launch_resample(const ResampleMap &m, int64_t n, const float *x, float value, float *y,
                            cudaStream_t stream) {
    const LaunchConfig cfg = elementwise_launch(n);
    if (cfg.blocks == 0) return cudaSuccess;
    resample_kernel<<<cfg.blocks, cfg.threads, 0, stream>>>(m, n, x, value, y);
    return cudaGetLastError();
}

cudaError_t launch_upsample_grad(const ResampleMap &m, int64_t n, const float *dy, float *dx,
                                 cudaStream_t stream) {
    const LaunchConfig cfg = elementwise_launch(n);
    if (cfg.blocks == 0) return cudaSuccess;
    upsample_grad_kernel<<<cfg.blocks, cfg.threads, 0, stream>>>(m, n, dy, dx);
    return cudaGetLastError();
}

cudaError_t launch_pad_grad(const ResampleMap &m, int64_t n, const float *dy, float *dx,
                            cudaStream_t stream) {
    const LaunchConfig cfg = elementwise_launch(n);
    if (cfg.blocks == 0) return cudaSuccess;
    pad_grad_kernel<<<cfg.blocks, cfg.threads, 0, stream>>>(m, n, dy, dx);
    return cudaGetLastError();
}

cudaError_t launch_depth_space(const DepthSpace &p, int64_t n, bool to_depth, const float *x,
                               float *y, cudaStream_t stream) {
    const LaunchConfig cfg = elementwise_launch(n);
    if (cfg.blocks == 0) return cudaSuccess;
    depth_space_kernel<<<cfg.blocks, cfg.threads, 0, stream>>>(p, n, to_depth, x, y);
    return cudaGetLastError();
}

cudaError_t launch_pool(const PoolPlan &p, bool max, int64_t n, const float *x, float *y,
                        int64_t *indices, cudaStream_t stream) {
    const LaunchConfig cfg = elementwise_launch(n);
    if (cfg.blocks == 0) return cudaSuccess;
    pool_kernel<<<cfg.blocks, cfg.threads, 0, stream>>>(p, max, n, x, y, indices);
    return cudaGetLastError();
}

cudaError_t launch_pool_grad(const PoolPlan &p, bool max, int64_t n, const float *x,
                             const float *dy, float *dx, cudaStream_t stream) {
    const LaunchConfig cfg = elementwise_launch(n);
    if (cfg.blocks == 0) return cudaSuccess;
    pool_grad_kernel<<<cfg.blocks, cfg.threads, 0, stream>>>(p, max, n, x, dy, dx);
    return cudaGetLastError();
}

cudaError_t launch_plane_mean(int64_t planes, int64_t size, const float *x, float *y,
                              cudaStream_t stream) {
    const LaunchConfig cfg = elementwise_launch(planes);
    if (cfg.blocks == 0) return cudaSuccess;
    plane_mean_kernel<<<cfg.blocks, cfg.threads, 0, stream>>>(planes, size, x, y);
    return cudaGetLastError();
}

} // namespace salus::cuda
