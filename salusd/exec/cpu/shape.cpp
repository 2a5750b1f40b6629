// CPU kernels of the shape family (ops/shape.cpp): Concat, Split, Slice,
// Tile and their gradients, moving elements of any dtype by size. Squeeze,
// Unsqueeze and Flatten keep the bytes and reuse Reshape's copy.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"
#include "exec/cpu/shape_kernels.h"
#include "ops/shape_rules.h"

#include <algorithm>
#include <cstring>

namespace salus::cpu {

namespace {

Status unsupported_dtype(const KernelContext &ctx) {
    return Status(SALUS_EEXEC, ctx.node->op + ": unsupported element size");
}

// Axis `axis` of a contiguous tensor: `outer` blocks of `dim * inner` elements.
void around_axis(const Shape &s, int axis, int64_t *outer, int64_t *inner) {
    *outer = 1;
    *inner = 1;
    for (int d = 0; d < static_cast<int>(s.size()); ++d) {
        if (d < axis) *outer *= s[d];
        if (d > axis) *inner *= s[d];
    }
}

// Concat (joining: pieces are the inputs) or Split (pieces are the outputs):
// the whole tensor is `outer` rows, each the pieces' blocks one after another.
Status join_or_split(const KernelContext &ctx, bool join) {
    const std::vector<TensorView> &pieces = join ? ctx.inputs : ctx.outputs;
    const TensorView &whole = join ? ctx.outputs[0] : ctx.inputs[0];
    const int axis =
        normalize_axis(ctx.node->get_int("axis"), static_cast<int>(whole.shape.size()));
    if (axis < 0) return Status(SALUS_EEXEC, ctx.node->op + ": axis out of range");
    int64_t outer = 0, inner = 0;
    around_axis(whole.shape, axis, &outer, &inner);
    const size_t esize = dtype_size(whole.dtype);
    const size_t row = static_cast<size_t>(whole.shape[axis] * inner) * esize;
    size_t at = 0;
    for (const TensorView &p : pieces) {
        if (p.dtype != whole.dtype || p.shape.size() != whole.shape.size()) {
            return Status(SALUS_EEXEC, ctx.node->op + ": operands disagree in dtype or rank");
        }
        const size_t block = static_cast<size_t>(p.shape[axis] * inner) * esize;
        auto *w = static_cast<uint8_t *>(whole.data) + at;
        auto *q = static_cast<uint8_t *>(p.data);
        if (block > 0) {
            for (int64_t o = 0; o < outer; ++o) {
                if (join) {
                    std::memcpy(w + o * row, q + o * block, block);
                } else {
                    std::memcpy(q + o * block, w + o * row, block);
                }
            }
        }
        at += block;
    }
    if (at != row) return Status(SALUS_EEXEC, ctx.node->op + ": pieces do not fill the axis");
    return Status();
}

// The slice's walk: operand 0 over the contiguous slice, operand 1 over the
// sliced tensor x, which starts at element *base.
Status slice_loop(const KernelContext &ctx, const Shape &x, const Shape &y, StridedLoop *loop,
                  int64_t *base) {
    SliceRanges r;
    Status st = slice_ranges(*ctx.node, x, &r);
    if (!st.ok()) return Status(SALUS_EEXEC, st.message());
    int64_t strides[2][kMaxRank];
    int64_t xs[kMaxRank];
    contiguous_strides(x, xs);
    contiguous_strides(y, strides[0]);
    *base = 0;
    for (int d = 0; d < r.rank; ++d) {
        if (r.axis[d].count != y[d]) {
            return Status(SALUS_EEXEC, ctx.node->op + ": the slice does not match its output");
        }
        *base += r.axis[d].start * xs[d];
        strides[1][d] = r.axis[d].step * xs[d];
    }
    *loop = make_loop(y, 2, strides);
    return Status();
}

template <typename E>
void strided_copy(const StridedLoop &loop, E *dst, const E *src, bool dst_strided) {
    const int64_t len = loop.inner_dim();
    const int64_t s = loop.inner_stride(1);
    for_each_row(loop, [&](const int64_t *off) {
        if (s == 1) {
            // Unit steps: whole rows (both backends move the same bytes).
            E *to = dst_strided ? dst + off[1] : dst + off[0];
            const E *from = dst_strided ? src + off[0] : src + off[1];
            std::memcpy(to, from, static_cast<size_t>(len) * sizeof(E));
        } else if (dst_strided) {
            // SliceGrad: operand 1 is dX (strided), operand 0 dY (contiguous).
            for (int64_t j = 0; j < len; ++j) dst[off[1] + j * s] = src[off[0] + j];
        } else {
            for (int64_t j = 0; j < len; ++j) dst[off[0] + j] = src[off[1] + j * s];
        }
    });
}

// Walks Y of a Tile row by row (its last axis): fn(y_row, x_row), both
// element offsets; the x row repeats y_last / x_last times in the y row.
template <typename Fn>
void tile_rows(const Shape &x, const Shape &y, Fn &&fn) {
    const int rank = static_cast<int>(y.size());
    int64_t xs[kMaxRank];
    contiguous_strides(x, xs);
    int64_t rows = 1;
    for (int d = 0; d + 1 < rank; ++d) rows *= y[d];
    int64_t idx[kMaxRank] = {};
    const int64_t row_len = rank ? y[rank - 1] : 1;
    for (int64_t r = 0; r < rows; ++r) {
        int64_t xoff = 0;
        for (int d = 0; d + 1 < rank; ++d) xoff += idx[d] % x[d] * xs[d];
        fn(r * row_len, xoff);
        for (int d = rank - 2; d >= 0; --d) {
            if (++idx[d] < y[d]) break;
            idx[d] = 0;
        }
    }
}

} // namespace

Status concat(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 1, 1));
    return join_or_split(ctx, true);
}

Status split(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 1, 1));
    return join_or_split(ctx, false);
}

Status slice(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 1, 1));
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    if (y.numel() == 0) return Status();
    StridedLoop loop;
    int64_t base = 0;
    SALUS_RETURN_IF_ERROR(slice_loop(ctx, x.shape, y.shape, &loop, &base));
    const bool ok = with_element(dtype_size(x.dtype), [&](auto e) {
        using E = decltype(e);
        strided_copy(loop, static_cast<E *>(y.data), static_cast<const E *>(x.data) + base, false);
    });
    return ok ? Status() : unsupported_dtype(ctx);
}

Status slice_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 1, 1));
    const TensorView &dy = ctx.inputs[0];
    const TensorView &dx = ctx.outputs[0];
    std::fill_n(dx.f32(), dx.numel(), 0.0f);
    if (dy.numel() == 0) return Status();
    StridedLoop loop;
    int64_t base = 0;
    SALUS_RETURN_IF_ERROR(slice_loop(ctx, dx.shape, dy.shape, &loop, &base));
    strided_copy(loop, dx.f32() + base, dy.f32(), true);
    return Status();
}

Status tile(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 1, 1));
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    if (y.numel() == 0) return Status();
    if (x.shape.size() != y.shape.size() || x.dtype != y.dtype) {
        return Status(SALUS_EEXEC, "Tile: input and output disagree");
    }
    const size_t esize = dtype_size(x.dtype);
    const int64_t x_last = x.shape.empty() ? 1 : x.shape.back();
    const int64_t y_last = y.shape.empty() ? 1 : y.shape.back();
    const auto *src = static_cast<const uint8_t *>(x.data);
    auto *dst = static_cast<uint8_t *>(y.data);
    const size_t chunk = static_cast<size_t>(x_last) * esize;
    tile_rows(x.shape, y.shape, [&](int64_t yoff, int64_t xoff) {
        for (int64_t j = 0; j < y_last; j += x_last) {
            std::memcpy(dst + (yoff + j) * esize, src + xoff * esize, chunk);
        }
    });
    return Status();
}

Status tile_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 1, 1));
    const TensorView &dy = ctx.inputs[0];
    const TensorView &dx = ctx.outputs[0];
    float *g = dx.f32();
    std::fill_n(g, dx.numel(), 0.0f);
    if (dx.numel() == 0 || dy.numel() == 0) return Status();
    if (dx.shape.size() != dy.shape.size()) return Status(SALUS_EEXEC, "TileGrad: rank differs");
    const float *src = dy.f32();
    const int64_t x_last = dx.shape.empty() ? 1 : dx.shape.back();
    const int64_t y_last = dy.shape.empty() ? 1 : dy.shape.back();
    // dY in row-major order: each dX element sums its tiles in that order.
    tile_rows(dx.shape, dy.shape, [&](int64_t yoff, int64_t xoff) {
        for (int64_t j = 0; j < y_last; ++j) g[xoff + j % x_last] += src[yoff + j];
    });
    return Status();
}

void register_shape_kernels(KernelRegistry *registry) {
    struct Entry {
        const char *op;
        KernelFn fn;
    };
    static constexpr Entry kKernels[] = {
        {"Concat", concat},
        {"Split", split},
        {"Slice", slice},
        {"SliceGrad", slice_grad},
        {"Squeeze", reshape},
        {"Unsqueeze", reshape},
        {"Flatten", reshape},
        {"Tile", tile},
        {"TileGrad", tile_grad},
        {"Gather", gather},
        {"GatherGrad", gather_grad},
        {"GatherElements", gather_elements},
        {"GatherElementsGrad", gather_elements_grad},
    };
    for (const Entry &e : kKernels) registry->add(DeviceType::CPU, e.op, e.fn);
}

} // namespace salus::cpu
