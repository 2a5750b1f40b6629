// The shape family's CUDA kernels: grid-stride loops around shape_device.h.
#include "exec/cuda/block_reduce.cuh"
#include "exec/cuda/launch_config.h"
#include "exec/cuda/shape_launchers.h"

namespace salus::cuda {
namespace {

template <typename E>
__global__ void strided_copy_kernel(StridedIndex ix, int64_t n, const E *src, E *dst,
                                    bool scatter) {
    SALUS_FOR_EACH(i, n) {
        const int64_t at = strided_offset(ix, 1, i);
        if (scatter) {
            dst[at] = src[i];
        } else {
            dst[i] = src[at];
        }
    }
}

template <typename E>
__global__ void tile_kernel(TilePlan p, int64_t n, const E *x, E *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] = x[tile_source(p, i)];
    }
}

__global__ void tile_grad_kernel(TilePlan p, int64_t n, const float *dy, float *dx) {
    SALUS_FOR_EACH(j, n) {
        dx[j] = tile_grad_value(p, dy, j);
    }
}

constexpr unsigned kCheckThreads = 256;

// One block: each thread's first bad index in its stride, then the least.
template <typename Index>
__global__ void check_indices_kernel(const Index *indices, int64_t count, int64_t extent,
                                     IndexVerdict *verdict) {
    __shared__ long long first_bad[kCheckThreads];
    long long bad = -1;
    for (int64_t i = threadIdx.x; i < count; i += blockDim.x) {
        if (normalize_index(static_cast<int64_t>(indices[i]), extent) < 0) {
            bad = i;
            break;
        }
    }
    first_bad[threadIdx.x] = bad;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s) {
            const long long other = first_bad[threadIdx.x + s];
            if (other >= 0 && (first_bad[threadIdx.x] < 0 || other < first_bad[threadIdx.x]))
                first_bad[threadIdx.x] = other;
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        verdict->bad_position = first_bad[0];
        verdict->bad_index = first_bad[0] >= 0 ? static_cast<int64_t>(indices[first_bad[0]]) : 0;
    }
}

template <typename E, typename Index>
__global__ void gather_kernel(GatherPlan p, int64_t n, const E *data, const Index *indices, E *y) {
    SALUS_FOR_EACH(i, n) {
        const int64_t index =
            normalize_index(static_cast<int64_t>(indices[gather_index_position(p, i)]), p.n);
        y[i] = index < 0 ? E{0} : data[gather_source(p, i, index)];
    }
}

template <typename Index>
__global__ void gather_grad_kernel(GatherPlan p, int64_t n, const float *dy, const Index *indices,
                                   float *dx) {
    SALUS_FOR_EACH(j, n) {
        dx[j] = gather_grad_value(p, dy, indices, j);
    }
}

template <typename E, typename Index>
__global__ void elements_kernel(ElementsPlan p, int64_t n, const E *data, const Index *indices,
                                E *y) {
    SALUS_FOR_EACH(i, n) {
        const int64_t index = normalize_index(static_cast<int64_t>(indices[i]), p.x_dims[p.axis]);
        y[i] = index < 0 ? E{0} : data[elements_source(p, i, index)];
    }
}

template <typename Index>
__global__ void elements_grad_kernel(ElementsPlan p, int64_t n, const float *dy,
                                     const Index *indices, float *dx) {
    SALUS_FOR_EACH(j, n) {
        dx[j] = elements_grad_value(p, dy, indices, j);
    }
}

__global__ void scaled_gather_kernel(StridedIndex ix, int64_t n, float scale, const float *c,
                                     float *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] = scale * c[strided_offset(ix, 1, i)];
    }
}

// Calls fn(E{}) with E the unsigned integer of `esize` bytes.
template <typename Fn>
cudaError_t by_element(size_t esize, Fn &&fn) {
    switch (esize) {
    case 1:
        fn(uint8_t{});
        break;
    case 2:
        fn(uint16_t{});
        break;
    case 4:
        fn(uint32_t{});
        break;
    case 8:
        fn(uint64_t{});
        break;
    default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

} // namespace

cudaError_t launch_strided_copy(const StridedIndex &ix, int64_t n, size_t esize, const void *src,
                                void *dst, bool scatter, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (!c.blocks) return cudaSuccess;
    return by_element(esize, [&](auto e) {
        using E = decltype(e);
        strided_copy_kernel<E><<<c.blocks, c.threads, 0, stream>>>(
            ix, n, static_cast<const E *>(src), static_cast<E *>(dst), scatter);
    });
}

cudaError_t launch_tile(const TilePlan &plan, int64_t n, size_t esize, const void *x, void *y,
                        cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (!c.blocks) return cudaSuccess;
    return by_element(esize, [&](auto e) {
        using E = decltype(e);
        tile_kernel<E><<<c.blocks, c.threads, 0, stream>>>(plan, n, static_cast<const E *>(x),
                                                           static_cast<E *>(y));
    });
}

cudaError_t launch_tile_grad(const TilePlan &plan, int64_t n, const float *dy, float *dx,
                             cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (c.blocks) tile_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(plan, n, dy, dx);
    return cudaGetLastError();
}

cudaError_t launch_check_indices(const void *indices, bool wide, int64_t count, int64_t extent,
                                 IndexVerdict *verdict, cudaStream_t stream) {
    if (wide) {
        check_indices_kernel<<<1, kCheckThreads, 0, stream>>>(static_cast<const int64_t *>(indices),
                                                              count, extent, verdict);
    } else {
        check_indices_kernel<<<1, kCheckThreads, 0, stream>>>(static_cast<const int32_t *>(indices),
                                                              count, extent, verdict);
    }
    return cudaGetLastError();
}

cudaError_t launch_gather_rows(const GatherPlan &plan, int64_t n, size_t esize, const void *data,
                               const void *indices, bool wide, void *y, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (!c.blocks) return cudaSuccess;
    return by_element(esize, [&](auto e) {
        using E = decltype(e);
        const E *d = static_cast<const E *>(data);
        E *out = static_cast<E *>(y);
        if (wide) {
            gather_kernel<<<c.blocks, c.threads, 0, stream>>>(
                plan, n, d, static_cast<const int64_t *>(indices), out);
        } else {
            gather_kernel<<<c.blocks, c.threads, 0, stream>>>(
                plan, n, d, static_cast<const int32_t *>(indices), out);
        }
    });
}

cudaError_t launch_gather_grad(const GatherPlan &plan, int64_t n, const float *dy,
                               const void *indices, bool wide, float *dx, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (!c.blocks) return cudaSuccess;
    if (wide) {
        gather_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(
            plan, n, dy, static_cast<const int64_t *>(indices), dx);
    } else {
        gather_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(
            plan, n, dy, static_cast<const int32_t *>(indices), dx);
    }
    return cudaGetLastError();
}

cudaError_t launch_gather_elements(const ElementsPlan &plan, int64_t n, size_t esize,
                                   const void *data, const void *indices, bool wide, void *y,
                                   cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (!c.blocks) return cudaSuccess;
    return by_element(esize, [&](auto e) {
        using E = decltype(e);
        const E *d = static_cast<const E *>(data);
        E *out = static_cast<E *>(y);
        if (wide) {
            elements_kernel<<<c.blocks, c.threads, 0, stream>>>(
                plan, n, d, static_cast<const int64_t *>(indices), out);
        } else {
            elements_kernel<<<c.blocks, c.threads, 0, stream>>>(
                plan, n, d, static_cast<const int32_t *>(indices), out);
        }
    });
}

cudaError_t launch_gather_elements_grad(const ElementsPlan &plan, int64_t n, const float *dy,
                                        const void *indices, bool wide, float *dx,
                                        cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(n);
    if (!c.blocks) return cudaSuccess;
    if (wide) {
        elements_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(
            plan, n, dy, static_cast<const int64_t *>(indices), dx);
    } else {
        elements_grad_kernel<<<c.blocks, c.threads, 0, stream>>>(
            plan, n, dy, static_cast<const int32_t *>(indices), dx);
    }
    return cudaGetLastError();
}

cudaError_t launch_scaled_gather(const StridedIndex &ix, int64_t n, float scale, const float *c,
                                 float *y, cudaStream_t stream) {
    const LaunchConfig cfg = elementwise_launch(n);
    if (cfg.blocks)
        scaled_gather_kernel<<<cfg.blocks, cfg.threads, 0, stream>>>(ix, n, scale, c, y);
    return cudaGetLastError();
}

} // namespace salus::cuda
