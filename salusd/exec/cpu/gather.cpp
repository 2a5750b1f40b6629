// Gather and GatherElements (any dtype of data, i32 or i64 indices) and
// their scatter-add gradients. Every index is checked before anything is
// written: one out of range fails the iteration with SALUS_EEXEC.
#include "exec/cpu/helpers.h"
#include "exec/cpu/shape_kernels.h"
#include "exec/index_error.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace salus::cpu {

namespace {

Status check_indices(const KernelContext &ctx, const TensorView &indices, int64_t extent) {
    if (indices.dtype != DType::I32 && indices.dtype != DType::I64) {
        return Status(SALUS_EEXEC, ctx.node->op + ": indices must be i32 or i64");
    }
    const int64_t n = indices.numel();
    for (int64_t i = 0; i < n; ++i) {
        const int64_t index = index_at(indices, i);
        if (normalize_index(index, extent) < 0) return index_out_of_range(ctx, i, index, extent);
    }
    return Status();
}

// data [outer, n, inner] around the node's axis; `data` is the forward
// input's shape (GatherGrad's output).
Status gather_plan(const KernelContext &ctx, const Shape &data, cuda::GatherPlan *p) {
    const int axis = normalize_axis(ctx.node->get_int("axis"), static_cast<int>(data.size()));
    if (axis < 0) return Status(SALUS_EEXEC, ctx.node->op + ": axis out of range");
    p->outer = 1;
    p->inner = 1;
    for (int d = 0; d < static_cast<int>(data.size()); ++d) {
        if (d < axis) p->outer *= data[d];
        if (d > axis) p->inner *= data[d];
    }
    p->n = data[axis];
    p->k = ctx.inputs[1].numel();
    return Status();
}

// Walks the indices of GatherElements in row-major order: fn(i, x_offset)
// with x_offset data's element for the normalized index at i.
template <typename Fn>
void walk_elements(const TensorView &indices, const Shape &data, int axis, Fn &&fn) {
    const Shape &is = indices.shape;
    const int rank = static_cast<int>(is.size());
    int64_t xs[kMaxRank];
    contiguous_strides(data, xs);
    int64_t coord[kMaxRank] = {};
    int64_t base = 0; // data's offset of the coordinates off the axis
    const int64_t n = indices.numel();
    for (int64_t i = 0; i < n; ++i) {
        fn(i, base + normalize_index(index_at(indices, i), data[axis]) * xs[axis]);
        for (int d = rank - 1; d >= 0; --d) {
            if (d != axis) base += xs[d];
            if (++coord[d] < is[d]) break;
            if (d != axis) base -= xs[d] * is[d];
            coord[d] = 0;
        }
    }
}

Status elements_axis(const KernelContext &ctx, const Shape &data, int *axis) {
    const TensorView &indices = ctx.inputs[1];
    *axis = normalize_axis(ctx.node->get_int("axis"), static_cast<int>(data.size()));
    if (*axis < 0 || indices.shape.size() != data.size() ||
        static_cast<int>(data.size()) > kMaxRank) {
        return Status(SALUS_EEXEC, ctx.node->op + ": indices and data disagree");
    }
    return check_indices(ctx, indices, data[*axis]);
}

} // namespace

Status gather(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 2, 1));
    const TensorView &data = ctx.inputs[0];
    const TensorView &indices = ctx.inputs[1];
    cuda::GatherPlan p;
    SALUS_RETURN_IF_ERROR(gather_plan(ctx, data.shape, &p));
    SALUS_RETURN_IF_ERROR(check_indices(ctx, indices, p.n));
    const size_t esize = dtype_size(data.dtype);
    const size_t row = static_cast<size_t>(p.inner) * esize;
    if (row == 0) return Status();
    const auto *src = static_cast<const uint8_t *>(data.data);
    auto *dst = static_cast<uint8_t *>(ctx.outputs[0].data);
    for (int64_t o = 0; o < p.outer; ++o) {
        for (int64_t q = 0; q < p.k; ++q) {
            const int64_t index = normalize_index(index_at(indices, q), p.n);
            std::memcpy(dst + (o * p.k + q) * row, src + (o * p.n + index) * row, row);
        }
    }
    return Status();
}

Status gather_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 2, 1));
    const TensorView &dx = ctx.outputs[0];
    const TensorView &indices = ctx.inputs[1];
    cuda::GatherPlan p;
    SALUS_RETURN_IF_ERROR(gather_plan(ctx, dx.shape, &p));
    SALUS_RETURN_IF_ERROR(check_indices(ctx, indices, p.n));
    float *g = dx.f32();
    const float *dy = ctx.inputs[0].f32();
    std::fill_n(g, dx.numel(), 0.0f);
    for (int64_t o = 0; o < p.outer; ++o) {
        for (int64_t q = 0; q < p.k; ++q) {
            float *to = g + (o * p.n + normalize_index(index_at(indices, q), p.n)) * p.inner;
            const float *from = dy + (o * p.k + q) * p.inner;
            for (int64_t j = 0; j < p.inner; ++j) to[j] += from[j];
        }
    }
    return Status();
}

Status gather_elements(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 2, 1));
    const TensorView &data = ctx.inputs[0];
    int axis = 0;
    SALUS_RETURN_IF_ERROR(elements_axis(ctx, data.shape, &axis));
    const bool ok = with_element(dtype_size(data.dtype), [&](auto e) {
        using E = decltype(e);
        const E *src = static_cast<const E *>(data.data);
        E *dst = static_cast<E *>(ctx.outputs[0].data);
        walk_elements(ctx.inputs[1], data.shape, axis,
                      [&](int64_t i, int64_t at) { dst[i] = src[at]; });
    });
    return ok ? Status() : Status(SALUS_EEXEC, "GatherElements: unsupported element size");
}

Status gather_elements_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 2, 1));
    const TensorView &dx = ctx.outputs[0];
    int axis = 0;
    SALUS_RETURN_IF_ERROR(elements_axis(ctx, dx.shape, &axis));
    float *g = dx.f32();
    const float *dy = ctx.inputs[0].f32();
    std::fill_n(g, dx.numel(), 0.0f);
    walk_elements(ctx.inputs[1], dx.shape, axis, [&](int64_t i, int64_t at) { g[at] += dy[i]; });
    return Status();
}

} // namespace salus::cpu
