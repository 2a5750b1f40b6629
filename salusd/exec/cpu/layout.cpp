// Identity, Reshape and Transpose: ops that move elements without computing
// on them. Identity and Reshape copy bytes, so they take every dtype.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"

#include <algorithm>
#include <cstring>

namespace salus::cpu {

namespace {

// Copies a matrix of `rows` x `cols` read with strides (rs, cs) into a
// contiguous one, in tiles so that both sides stay in cache.
void copy_tiled(float *dst, const float *src, int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
    constexpr int64_t kTile = 32;
    for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
        const int64_t r1 = std::min(rows, r0 + kTile);
        for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
            const int64_t c1 = std::min(cols, c0 + kTile);
            for (int64_t r = r0; r < r1; ++r) {
                for (int64_t c = c0; c < c1; ++c) dst[r * cols + c] = src[r * rs + c * cs];
            }
        }
    }
}

// The output is the input's bytes, in a shape of the same element count.
Status copy_elements(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 1, 1));
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    if (x.dtype != y.dtype) {
        return Status(SALUS_EEXEC, ctx.node->op + ": input is " + dtype_name(x.dtype) +
                                       " but output is " + dtype_name(y.dtype));
    }
    const int64_t n = y.numel();
    if (x.numel() != n) {
        return Status(SALUS_EEXEC, ctx.node->op + ": input and output differ in size");
    }
    // The planner may give the output the input's buffer.
    if (n > 0 && y.data != x.data) {
        std::memmove(y.data, x.data, static_cast<size_t>(n) * dtype_size(x.dtype));
    }
    return Status();
}

} // namespace

Status identity(const KernelContext &ctx) {
    return copy_elements(ctx);
}

Status reshape(const KernelContext &ctx) {
    return copy_elements(ctx);
}

Status transpose(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 1, 1));
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    const int rank = static_cast<int>(x.shape.size());
    if (rank > kMaxRank || y.shape.size() != x.shape.size()) {
        return Status(SALUS_EEXEC, "Transpose: bad rank");
    }
    const AttrValue *perm_attr = ctx.node->attr("perm");
    const bool has_perm = perm_attr && perm_attr->type == AttrValue::Type::Ints;
    if (has_perm && perm_attr->ints.size() != x.shape.size()) {
        return Status(SALUS_EEXEC, "Transpose: perm does not match the input's rank");
    }

    int64_t xs[kMaxRank];
    contiguous_strides(x.shape, xs);
    int64_t strides[2][kMaxRank];
    contiguous_strides(y.shape, strides[0]);
    bool seen[kMaxRank] = {};
    for (int i = 0; i < rank; ++i) {
        const int p = has_perm ? normalize_axis(perm_attr->ints[i], rank) : rank - 1 - i;
        if (p < 0 || seen[p] || y.shape[i] != x.shape[p]) {
            return Status(SALUS_EEXEC, "Transpose: perm does not agree with the shapes");
        }
        seen[p] = true;
        strides[1][i] = xs[p];
    }
    const int64_t n = y.numel();
    if (n == 0) return Status();

    const StridedLoop loop = make_loop(y.shape, 2, strides);
    float *py = y.f32();
    const float *px = x.f32();
    if (loop.rank == 2 && loop.inner_stride(1) != 1) {
        // A plain matrix transpose after merging: tile it.
        copy_tiled(py, px, loop.dims[0], loop.dims[1], loop.strides[1][0], loop.inner_stride(1));
        return Status();
    }
    gather(loop, py, px);
    return Status();
}

} // namespace salus::cpu
