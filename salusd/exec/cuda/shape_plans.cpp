#include "exec/cuda/shape_plans.h"

#include "exec/cpu/helpers.h"
#include "exec/cuda/kernel_plans.h"
#include "ops/shape_rules.h"

namespace salus::cuda {

namespace {

Status error(const KernelContext &ctx, const char *what) {
    return Status(SALUS_EEXEC, ctx.node->op + ": " + what);
}

int node_axis(const KernelContext &ctx, const Shape &s) {
    return cpu::normalize_axis(ctx.node->get_int("axis"), static_cast<int>(s.size()));
}

} // namespace

Status plan_pieces(const KernelContext &ctx, bool join, PiecesPlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_arity(ctx, 1, 1));
    const TensorView &whole = join ? ctx.outputs[0] : ctx.inputs[0];
    const std::vector<TensorView> &pieces = join ? ctx.inputs : ctx.outputs;
    const int axis = node_axis(ctx, whole.shape);
    if (axis < 0) return error(ctx, "axis out of range");
    plan->rows = 1;
    int64_t inner = 1;
    for (int d = 0; d < static_cast<int>(whole.shape.size()); ++d) {
        if (d < axis) plan->rows *= whole.shape[d];
        if (d > axis) inner *= whole.shape[d];
    }
    plan->row_bytes = whole.shape[axis] * inner * static_cast<int64_t>(dtype_size(whole.dtype));
    int64_t total = 0;
    for (size_t p = 0; p < pieces.size(); ++p) {
        if (pieces[p].dtype != whole.dtype || pieces[p].shape.size() != whole.shape.size()) {
            return error(ctx, "operands disagree in dtype or rank");
        }
        total += piece_bytes(ctx, join, p);
    }
    if (total != plan->row_bytes) return error(ctx, "pieces do not fill the axis");
    return {};
}

int64_t piece_bytes(const KernelContext &ctx, bool join, size_t piece) {
    const TensorView &p = join ? ctx.inputs[piece] : ctx.outputs[piece];
    const int axis = node_axis(ctx, p.shape);
    int64_t n = static_cast<int64_t>(dtype_size(p.dtype));
    for (int d = axis; d < static_cast<int>(p.shape.size()); ++d) n *= p.shape[d];
    return n;
}

Status plan_slice(const KernelContext &ctx, const Shape &x, const Shape &y, StridedIndex *ix,
                  int64_t *base) {
    SliceRanges r;
    Status st = slice_ranges(*ctx.node, x, &r);
    if (!st.ok()) return Status(SALUS_EEXEC, st.message());
    if (y.size() != x.size()) return error(ctx, "the slice does not match its output");
    int64_t strides[2][kMaxRank];
    int64_t xs[kMaxRank];
    cpu::contiguous_strides(x, xs);
    cpu::contiguous_strides(y, strides[0]);
    *base = 0;
    for (int d = 0; d < r.rank; ++d) {
        if (r.axis[d].count != y[d]) return error(ctx, "the slice does not match its output");
        *base += r.axis[d].start * xs[d];
        strides[1][d] = r.axis[d].step * xs[d];
    }
    *ix = to_index(cpu::make_loop(y, 2, strides));
    return {};
}

Status plan_tile(const KernelContext &ctx, const Shape &x, const Shape &y, TilePlan *plan) {
    if (x.size() != y.size() || x.size() > kMaxRank) return error(ctx, "bad rank");
    plan->rank = static_cast<int>(x.size());
    for (int d = 0; d < plan->rank; ++d) {
        if (x[d] == 0 ? y[d] != 0 : y[d] % x[d] != 0) {
            return error(ctx, "the output is not a tiling of the input");
        }
        plan->x_dims[d] = x[d];
        plan->y_dims[d] = y[d];
    }
    return {};
}

Status plan_gather(const KernelContext &ctx, const Shape &data, GatherPlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_arity(ctx, 2, 1));
    const int axis = node_axis(ctx, data);
    if (axis < 0) return error(ctx, "axis out of range");
    *plan = GatherPlan{};
    for (int d = 0; d < static_cast<int>(data.size()); ++d) {
        if (d < axis) plan->outer *= data[d];
        if (d > axis) plan->inner *= data[d];
    }
    plan->n = data[axis];
    plan->k = ctx.inputs[1].numel();
    return {};
}

Status plan_elements(const KernelContext &ctx, const Shape &data, ElementsPlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_arity(ctx, 2, 1));
    const Shape &indices = ctx.inputs[1].shape;
    const int axis = node_axis(ctx, data);
    if (axis < 0 || indices.size() != data.size() || data.size() > kMaxRank) {
        return error(ctx, "indices and data disagree");
    }
    plan->rank = static_cast<int>(data.size());
    plan->axis = axis;
    for (int d = 0; d < plan->rank; ++d) {
        plan->i_dims[d] = indices[d];
        plan->x_dims[d] = data[d];
    }
    return {};
}

Status plan_gemm_c(const KernelContext &ctx, StridedIndex *ix) {
    const Shape &y = ctx.outputs[0].shape;
    int64_t strides[2][kMaxRank];
    cpu::contiguous_strides(y, strides[0]);
    if (ctx.inputs.size() < 3 || !cpu::broadcast_strides(ctx.inputs[2].shape, y, strides[1])) {
        return error(ctx, "C does not broadcast to Y");
    }
    *ix = to_index(cpu::make_loop(y, 2, strides));
    return {};
}

size_t index_check_workspace(const KernelInit &) {
    return sizeof(IndexVerdict);
}

} // namespace salus::cuda
