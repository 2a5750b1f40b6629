// ReduceSum/ReduceMean over any set of axes, and Expand, their backward.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"

#include <cstring>
#include <string>

namespace salus::cpu {

namespace {

Status reduce(const KernelContext &ctx, bool mean) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 1, 1));
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    const int rank = static_cast<int>(x.shape.size());
    if (rank > kMaxRank) return Status(SALUS_EEXEC, ctx.node->op + ": rank too large");

    bool reduced[kMaxRank] = {};
    const AttrValue *axes = ctx.node->attr("axes");
    if (axes && axes->type == AttrValue::Type::Ints && !axes->ints.empty()) {
        for (int64_t a : axes->ints) {
            const int d = normalize_axis(a, rank);
            if (d < 0 || reduced[d]) return Status(SALUS_EEXEC, ctx.node->op + ": bad axes");
            reduced[d] = true;
        }
    } else {
        // Absent (or, as in ONNX, empty) axes reduce everything.
        for (int d = 0; d < rank; ++d) reduced[d] = true;
    }

    // Operand 0 is the output, addressed from the input's index space with a
    // zero stride on every reduced axis; operand 1 is the input.
    int64_t strides[2][kMaxRank];
    contiguous_strides(x.shape, strides[1]);
    int64_t kept = 1;
    int64_t count = 1;
    for (int d = rank - 1; d >= 0; --d) {
        if (reduced[d]) {
            strides[0][d] = 0;
            count *= x.shape[d];
        } else {
            strides[0][d] = kept;
            kept *= x.shape[d];
        }
    }
    if (kept != y.numel()) {
        return Status(SALUS_EEXEC, ctx.node->op + ": output size does not match the axes");
    }
    float *py = y.f32();
    const float *px = x.f32();
    if (kept > 0) std::memset(py, 0, static_cast<size_t>(kept) * sizeof(float));

    const StridedLoop loop = make_loop(x.shape, 2, strides);
    const int64_t len = loop.inner_dim();
    const int64_t sy = loop.inner_stride(0);
    const int64_t sx = loop.inner_stride(1);
    if (sy == 0) {
        // Innermost axis reduced: sum a whole input row into one output.
        for_each_row(loop, [&](const int64_t *off) {
            const float *xr = px + off[1];
            double acc = 0.0;
            for (int64_t j = 0; j < len; ++j) acc += xr[j * sx];
            py[off[0]] += static_cast<float>(acc);
        });
    } else {
        // Innermost axis kept: accumulate input rows into an output row.
        for_each_row(loop, [&](const int64_t *off) {
            float *yr = py + off[0];
            const float *xr = px + off[1];
            for (int64_t j = 0; j < len; ++j) yr[j * sy] += xr[j * sx];
        });
    }
    if (mean) {
        const float scale = static_cast<float>(1.0 / static_cast<double>(count));
        for (int64_t i = 0; i < kept; ++i) py[i] *= scale;
    }
    return Status();
}

} // namespace

Status reduce_sum(const KernelContext &ctx) {
    return reduce(ctx, false);
}
Status reduce_mean(const KernelContext &ctx) {
    return reduce(ctx, true);
}

Status expand(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 1, 1));
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    const int64_t n = y.numel();
    int64_t strides[2][kMaxRank];
    if (!broadcast_strides(y.shape, y.shape, strides[0]) ||
        !broadcast_strides(x.shape, y.shape, strides[1])) {
        return Status(SALUS_EEXEC, "Expand: the input does not broadcast to the output");
    }
    if (n == 0) return Status();
    float *py = y.f32();
    const float *px = x.f32();
    if (x.numel() == n) {
        if (py != px) std::memmove(py, px, static_cast<size_t>(n) * sizeof(float));
        return Status();
    }
    const StridedLoop loop = make_loop(y.shape, 2, strides);
    gather(loop, py, px);
    return Status();
}

} // namespace salus::cpu
