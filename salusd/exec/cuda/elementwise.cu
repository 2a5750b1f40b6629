// The elementwise CUDA kernels: grid-stride loops around the formulas of
// elementwise_device.h.
#include "exec/cuda/block_reduce.cuh"
#include "exec/cuda/elementwise_launchers.h"
#include "exec/cuda/launch_config.h"

#include <stdint.h>

namespace salus::cuda {
namespace {

__global__ void unary_kernel(UnaryOp op, EwParams p, int64_t n, const float *x, float *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] = unary(op, x[i], p);
    }
}

__global__ void grad_kernel(GradOp op, EwParams p, int64_t n, const float *dy, const float *z,
                            float *dx) {
    SALUS_FOR_EACH(i, n) {
        dx[i] = grad(op, dy[i], z[i], p);
    }
}

__global__ void binary_kernel(BinaryOp op, StridedIndex ix, int64_t n, const float *a,
                              const float *b, float *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] = binary(op, a[strided_offset(ix, 1, i)], b[strided_offset(ix, 2, i)]);
    }
}

template <typename T>
__global__ void arith_kernel(BinaryOp op, StridedIndex ix, int64_t n, const T *a, const T *b,
                             T *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] = arith(op, a[strided_offset(ix, 1, i)], b[strided_offset(ix, 2, i)]);
    }
}

template <typename T>
void arith_typed(BinaryOp op, const StridedIndex &ix, int64_t n, const void *a, const void *b,
                 void *y, LaunchConfig c, cudaStream_t stream) {
    arith_kernel<<<c.blocks, c.threads, 0, stream>>>(
        op, ix, n, static_cast<const T *>(a), static_cast<const T *>(b), static_cast<T *>(y));
}

template <typename T>
__global__ void compare_kernel(CompareOp op, StridedIndex ix, int64_t n, const T *a, const T *b,
                               bool *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] = compare(op, a[strided_offset(ix, 1, i)], b[strided_offset(ix, 2, i)]);
    }
}

__global__ void logic_kernel(LogicOp op, StridedIndex ix, int64_t n, const bool *a, const bool *b,
                             bool *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] = logic(op, a[strided_offset(ix, 1, i)], b[strided_offset(ix, 2, i)]);
    }
}

template <typename T>
__global__ void where_kernel(StridedIndex ix, int64_t n, const bool *c, const T *x, const T *v,
                             T *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] =
            c[strided_offset(ix, 1, i)] ? x[strided_offset(ix, 2, i)] : v[strided_offset(ix, 3, i)];
    }
}

template <typename To, typename From>
__global__ void cast_kernel(int64_t n, const From *x, To *y) {
    SALUS_FOR_EACH(i, n) {
        y[i] = cast_value<To, From>(x[i]);
    }
}

__global__ void clip_kernel(int64_t n, const float *dy, const float *x, const float *lo,
                            const float *hi, float *y) {
    const float l = lo ? *lo : -INFINITY;
    const float h = hi ? *hi : INFINITY;
    SALUS_FOR_EACH(i, n) {
        y[i] = dy ? clip_grad(dy[i], x[i], l, h) : clip(x[i], l, h);
    }
}

__global__ void prelu_grad_x_kernel(StridedIndex ix, int64_t n, const float *dy, const float *x,
                                    const float *slope, float *dx) {
    SALUS_FOR_EACH(i, n) {
        dx[i] = prelu_grad_x(dy[i], x[i], slope[strided_offset(ix, 1, i)]);
    }
}

__global__ void prelu_grad_slope_kernel(SlopeSumPlan p, const float *dy, const float *x,
                                        float *dslope) {
    SALUS_FOR_EACH(o, p.slopes) {
        double sum = 0.0;
        for (int64_t k = 0; k < p.count; ++k) {
            const int64_t at = slope_term_offset(p, o, k);
            sum += prelu_grad_slope(dy[at], x[at]);
        }
        dslope[o] = static_cast<float>(sum);
    }
}

template <typename To, typename From>
void cast_to(int64_t n, const void *x, void *y, LaunchConfig c, cudaStream_t stream) {
    cast_kernel<To, From>
        <<<c.blocks, c.threads, 0, stream>>>(n, static_cast<const From *>(x), static_cast<To *>(y));
}

template <typename From>
void cast_from(EwDType to, int64_t n, const void *x, void *y, LaunchConfig c, cudaStream_t stream) {
    switch (to) {
    case EwDType::F32:
        return cast_to<float, From>(n, x, y, c, stream);
    case EwDType::I32:
        return cast_to<int32_t, From>(n, x, y, c, stream);
    case EwDType::I64:
        return cast_to<int64_t, From>(n, x, y, c, stream);
    case EwDType::Bool:
        return cast_to<bool, From>(n, x, y, c, stream);
    case EwDType::F64:
        return cast_to<double, From>(n, x, y, c, stream);
    }
}

} // namespace

cudaError_t launch_ew_unary(UnaryOp op, const EwParams &p, int64_t elements, const float *x,
                            float *y, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (c.blocks) unary_kernel<<<c.blocks, c.threads, 0, stream>>>(op, p, elements, x, y);
    return cudaGetLastError();
}

cudaError_t launch_ew_grad(GradOp op, const EwParams &p, int64_t elements, const float *dy,
                           const float *z, float *dx, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (c.blocks) grad_kernel<<<c.blocks, c.threads, 0, stream>>>(op, p, elements, dy, z, dx);
    return cudaGetLastError();
}

cudaError_t launch_ew_binary(BinaryOp op, const StridedIndex &ix, int64_t elements, const float *a,
                             const float *b, float *y, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (c.blocks) binary_kernel<<<c.blocks, c.threads, 0, stream>>>(op, ix, elements, a, b, y);
    return cudaGetLastError();
}

cudaError_t launch_arith(BinaryOp op, EwDType type, const StridedIndex &ix, int64_t elements,
                         const void *a, const void *b, void *y, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (!c.blocks) return cudaGetLastError();
    switch (type) {
    case EwDType::F64:
        arith_typed<double>(op, ix, elements, a, b, y, c, stream);
        break;
    case EwDType::I32:
        arith_typed<int32_t>(op, ix, elements, a, b, y, c, stream);
        break;
    case EwDType::I64:
        arith_typed<int64_t>(op, ix, elements, a, b, y, c, stream);
        break;
    case EwDType::F32:
    case EwDType::Bool:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

cudaError_t launch_compare(CompareOp op, EwDType type, const StridedIndex &ix, int64_t elements,
                           const void *a, const void *b, bool *y, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (!c.blocks) return cudaGetLastError();
    switch (type) {
    case EwDType::F32:
        compare_kernel<<<c.blocks, c.threads, 0, stream>>>(
            op, ix, elements, static_cast<const float *>(a), static_cast<const float *>(b), y);
        break;
    case EwDType::I32:
        compare_kernel<<<c.blocks, c.threads, 0, stream>>>(
            op, ix, elements, static_cast<const int32_t *>(a), static_cast<const int32_t *>(b), y);
        break;
    case EwDType::I64:
        compare_kernel<<<c.blocks, c.threads, 0, stream>>>(
            op, ix, elements, static_cast<const int64_t *>(a), static_cast<const int64_t *>(b), y);
        break;
    case EwDType::F64:
        compare_kernel<<<c.blocks, c.threads, 0, stream>>>(
            op, ix, elements, static_cast<const double *>(a), static_cast<const double *>(b), y);
        break;
    case EwDType::Bool:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

cudaError_t launch_logic(LogicOp op, const StridedIndex &ix, int64_t elements, const bool *a,
                         const bool *b, bool *y, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (c.blocks) logic_kernel<<<c.blocks, c.threads, 0, stream>>>(op, ix, elements, a, b, y);
    return cudaGetLastError();
}

cudaError_t launch_where(size_t element_size, const StridedIndex &ix, int64_t elements,
                         const bool *condition, const void *x, const void *y, void *out,
                         cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (!c.blocks) return cudaGetLastError();
    switch (element_size) {
    case 1:
        where_kernel<<<c.blocks, c.threads, 0, stream>>>(
            ix, elements, condition, static_cast<const uint8_t *>(x),
            static_cast<const uint8_t *>(y), static_cast<uint8_t *>(out));
        break;
    case 4:
        where_kernel<<<c.blocks, c.threads, 0, stream>>>(
            ix, elements, condition, static_cast<const uint32_t *>(x),
            static_cast<const uint32_t *>(y), static_cast<uint32_t *>(out));
        break;
    case 8:
        where_kernel<<<c.blocks, c.threads, 0, stream>>>(
            ix, elements, condition, static_cast<const uint64_t *>(x),
            static_cast<const uint64_t *>(y), static_cast<uint64_t *>(out));
        break;
    default:
        return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

cudaError_t launch_cast(EwDType from, EwDType to, int64_t elements, const void *x, void *y,
                        cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (!c.blocks) return cudaGetLastError();
    switch (from) {
    case EwDType::F32:
        cast_from<float>(to, elements, x, y, c, stream);
        break;
    case EwDType::I32:
        cast_from<int32_t>(to, elements, x, y, c, stream);
        break;
    case EwDType::I64:
        cast_from<int64_t>(to, elements, x, y, c, stream);
        break;
    case EwDType::Bool:
        cast_from<bool>(to, elements, x, y, c, stream);
        break;
    case EwDType::F64:
        cast_from<double>(to, elements, x, y, c, stream);
        break;
    }
    return cudaGetLastError();
}

cudaError_t launch_clip(int64_t elements, const float *dy, const float *x, const float *lo,
                        const float *hi, float *y, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (c.blocks) clip_kernel<<<c.blocks, c.threads, 0, stream>>>(elements, dy, x, lo, hi, y);
    return cudaGetLastError();
}

cudaError_t launch_prelu_grad(const StridedIndex &ix, int64_t elements, const SlopeSumPlan &sums,
                              const float *dy, const float *x, const float *slope, float *dx,
                              float *dslope, cudaStream_t stream) {
    const LaunchConfig c = elementwise_launch(elements);
    if (c.blocks) {
        prelu_grad_x_kernel<<<c.blocks, c.threads, 0, stream>>>(ix, elements, dy, x, slope, dx);
    }
    const cudaError_t err = cudaGetLastError();
    if (err != cudaSuccess) return err;
    const LaunchConfig s = elementwise_launch(sums.slopes);
    if (s.blocks) prelu_grad_slope_kernel<<<s.blocks, s.threads, 0, stream>>>(sums, dy, x, dslope);
    return cudaGetLastError();
}

} // namespace salus::cuda
