#include "exec/cuda/kernel_plans.h"

#include "exec/cpu/helpers.h"

#include <string>

namespace salus::cuda {

static_assert(kMaxRank == SALUS_MAX_RANK);
static_assert(kMaxOperands >= cpu::kMaxOperands);

StridedIndex to_index(const cpu::StridedLoop &loop) {
    StridedIndex ix;
    ix.rank = loop.rank;
    for (int d = 0; d < loop.rank; ++d) {
        ix.dims[d] = loop.dims[d];
        for (int k = 0; k < loop.operands; ++k) ix.strides[k][d] = loop.strides[k][d];
    }
    return ix;
}

namespace {

Status error(const KernelContext &ctx, const std::string &what) {
    return Status(SALUS_EEXEC, ctx.node->op + ": " + what);
}

// A one-operand walk over `dims` at `strides` (both of `rank` entries), with
// size-1 dimensions dropped and contiguous neighbours merged as make_loop()
// does; built in place, since kernels call it on every iteration.
StridedIndex walk(const int64_t *dims, const int64_t *strides, int rank) {
    StridedIndex ix;
    ix.rank = 0;
    for (int d = 0; d < rank; ++d) {
        if (dims[d] == 1) continue;
        const int last = ix.rank - 1;
        if (last >= 0 && ix.strides[0][last] == strides[d] * dims[d]) {
            ix.dims[last] *= dims[d];
            ix.strides[0][last] = strides[d];
            continue;
        }
        ix.dims[ix.rank] = dims[d];
        ix.strides[0][ix.rank] = strides[d];
        ++ix.rank;
    }
    if (ix.rank == 0) {
        ix.rank = 1;
        ix.dims[0] = 1;
        ix.strides[0][0] = 0;
    }
    return ix;
}

bool split_axis(const KernelContext &ctx, const Shape &shape, AxisPlan *plan) {
    const int rank = static_cast<int>(shape.size());
    const int axis = cpu::normalize_axis(ctx.node->attr_int("axis", -1), rank);
    if (axis < 0) return false;
    *plan = AxisPlan{};
    for (int d = 0; d < rank; ++d) {
        if (d < axis) plan->outer *= shape[d];
        if (d == axis) plan->n = shape[d];
        if (d > axis) plan->inner *= shape[d];
    }
    return true;
}

Status check_xent(const KernelContext &ctx, XentPlan *plan) {
    const Shape &logits = ctx.inputs[0].shape;
    if (logits.size() != 2 || ctx.inputs[1].shape != logits) {
        return error(ctx, "logits and labels must both be [N, C]");
    }
    plan->rows = logits[0];
    plan->cols = logits[1];
    return {};
}

} // namespace

Status plan_binary(const KernelContext &ctx, StridedIndex *ix, int64_t *elements) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 2, 1));
    const Shape &y = ctx.outputs[0].shape;
    int64_t strides[3][kMaxRank];
    if (!cpu::broadcast_strides(y, y, strides[0]) ||
        !cpu::broadcast_strides(ctx.inputs[0].shape, y, strides[1]) ||
        !cpu::broadcast_strides(ctx.inputs[1].shape, y, strides[2])) {
        return error(ctx, "input shapes do not broadcast to the output");
    }
    *ix = to_index(cpu::make_loop(y, 3, strides));
    *elements = ctx.outputs[0].numel();
    return {};
}

Status plan_same_size(const KernelContext &ctx, size_t inputs, int64_t *elements) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, inputs, 1));
    *elements = ctx.outputs[0].numel();
    for (size_t i = 0; i < inputs; ++i) {
        if (ctx.inputs[i].numel() != *elements) {
            return error(ctx, "inputs and output differ in size");
        }
    }
    return {};
}

Status plan_expand(const KernelContext &ctx, StridedIndex *ix, int64_t *elements) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 1, 1));
    const Shape &y = ctx.outputs[0].shape;
    int64_t strides[2][kMaxRank];
    if (!cpu::broadcast_strides(y, y, strides[0]) ||
        !cpu::broadcast_strides(ctx.inputs[0].shape, y, strides[1])) {
        return error(ctx, "the input does not broadcast to the output");
    }
    *ix = to_index(cpu::make_loop(y, 2, strides));
    *elements = ctx.outputs[0].numel();
    return {};
}

Status plan_transpose(const KernelContext &ctx, StridedIndex *ix, int64_t *elements) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 1, 1));
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    const int rank = static_cast<int>(x.shape.size());
    if (rank > kMaxRank || y.shape.size() != x.shape.size()) return error(ctx, "bad rank");
    const AttrValue *perm_attr = ctx.node->attr("perm");
    const bool has_perm = perm_attr && perm_attr->type == AttrValue::Type::Ints;
    if (has_perm && perm_attr->ints.size() != x.shape.size()) {
        return error(ctx, "perm does not match the input's rank");
    }
    int64_t xs[kMaxRank];
    cpu::contiguous_strides(x.shape, xs);
    int64_t strides[2][kMaxRank];
    cpu::contiguous_strides(y.shape, strides[0]);
    bool seen[kMaxRank] = {};
    for (int i = 0; i < rank; ++i) {
        const int p = has_perm ? cpu::normalize_axis(perm_attr->ints[i], rank) : rank - 1 - i;
        if (p < 0 || seen[p] || y.shape[i] != x.shape[p]) {
            return error(ctx, "perm does not agree with the shapes");
        }
        seen[p] = true;
        strides[1][i] = xs[p];
    }
    *ix = to_index(cpu::make_loop(y.shape, 2, strides));
    *elements = y.numel();
    return {};
}

Status plan_reduce(const KernelContext &ctx, bool mean, ReducePlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 1, 1));
    return plan_reduce_of(ctx, ctx.inputs[0], ctx.outputs[0].numel(), mean, plan);
}

Status plan_reduce_of(const KernelContext &ctx, const TensorView &x, int64_t outputs, bool mean,
                      ReducePlan *plan) {
    const int rank = static_cast<int>(x.shape.size());
    if (rank > kMaxRank) return error(ctx, "rank too large");
    bool reduced[kMaxRank] = {};
    const AttrValue *axes = ctx.node->attr("axes");
    if (axes && axes->type == AttrValue::Type::Ints && !axes->ints.empty()) {
        for (int64_t a : axes->ints) {
            const int d = cpu::normalize_axis(a, rank);
            if (d < 0 || reduced[d]) return error(ctx, "bad axes");
            reduced[d] = true;
        }
    } else {
        // Absent (or, as in ONNX, empty) axes reduce everything.
        for (int d = 0; d < rank; ++d) reduced[d] = true;
    }
    int64_t xs[kMaxRank];
    cpu::contiguous_strides(x.shape, xs);
    int64_t kept_dims[kMaxRank], kept_strides[kMaxRank];
    int64_t red_dims[kMaxRank], red_strides[kMaxRank];
    int kept = 0, red = 0;
    *plan = ReducePlan{};
    plan->outputs = 1;
    plan->count = 1;
    for (int d = 0; d < rank; ++d) {
        if (reduced[d]) {
            red_dims[red] = x.shape[d];
            red_strides[red++] = xs[d];
            plan->count *= x.shape[d];
        } else {
            kept_dims[kept] = x.shape[d];
            kept_strides[kept++] = xs[d];
            plan->outputs *= x.shape[d];
        }
    }
    if (plan->outputs != outputs) {
        return error(ctx, "output size does not match the axes");
    }
    plan->kept = walk(kept_dims, kept_strides, kept);
    plan->reduced = walk(red_dims, red_strides, red);
    plan->scale = mean ? static_cast<float>(1.0 / static_cast<double>(plan->count)) : 1.0f;
    return {};
}

Status plan_softmax(const KernelContext &ctx, AxisPlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 1, 1));
    if (!split_axis(ctx, ctx.inputs[0].shape, plan)) return error(ctx, "axis out of range");
    if (ctx.outputs[0].numel() != ctx.inputs[0].numel()) {
        return error(ctx, "input and output differ in size");
    }
    return {};
}

Status plan_softmax_grad(const KernelContext &ctx, AxisPlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 2, 1));
    const TensorView &y = ctx.inputs[1];
    if (!split_axis(ctx, y.shape, plan)) return error(ctx, "axis out of range");
    if (ctx.inputs[0].numel() != y.numel() || ctx.outputs[0].numel() != y.numel()) {
        return error(ctx, "inputs and output differ in size");
    }
    return {};
}

Status plan_xent(const KernelContext &ctx, XentPlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 2, 1));
    SALUS_RETURN_IF_ERROR(check_xent(ctx, plan));
    if (ctx.outputs[0].numel() != 1) return error(ctx, "the loss must be a scalar");
    if (ctx.workspace_bytes < static_cast<size_t>(plan->rows) * sizeof(double)) {
        return error(ctx, "the planned workspace for the row losses is missing");
    }
    return {};
}

Status plan_xent_grad(const KernelContext &ctx, XentPlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 2, 1));
    SALUS_RETURN_IF_ERROR(check_xent(ctx, plan));
    if (ctx.outputs[0].numel() != plan->rows * plan->cols) {
        return error(ctx, "dLogits must be [N, C]");
    }
    if (ctx.inputs.size() > 2 && ctx.inputs[2].numel() != 1) {
        return error(ctx, "dLoss must be a scalar");
    }
    return {};
}

Status plan_one_hot(const KernelContext &ctx, int64_t *indices, int64_t *depth, bool *wide) {
    if (ctx.inputs.size() != 1 || ctx.outputs.size() != 1) {
        return error(ctx, "kernel called with the wrong number of tensors");
    }
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    if (x.dtype != DType::I32 && x.dtype != DType::I64) {
        return error(ctx,
                     std::string("indices are ") + dtype_name(x.dtype) + "; expected i32 or i64");
    }
    if (y.dtype != DType::F32) return error(ctx, "the output must be f32");
    *depth = ctx.node->attr_int("depth", 0);
    if (*depth <= 0 || y.numel() != x.numel() * *depth) {
        return error(ctx, "the output does not hold depth values per index");
    }
    *indices = x.numel();
    *wide = x.dtype == DType::I64;
    return {};
}

Status plan_copy(const KernelContext &ctx, size_t *bytes) {
    if (ctx.inputs.size() != 1 || ctx.outputs.size() != 1) {
        return error(ctx, "kernel called with the wrong number of tensors");
    }
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    if (x.dtype != y.dtype || x.numel() != y.numel()) {
        return error(ctx, "input and output differ in dtype or size");
    }
    *bytes = static_cast<size_t>(y.numel()) * dtype_size(y.dtype);
    return {};
}

Status plan_gemm(const KernelContext &ctx, GemmPlan *plan) {
    cpu::GemmDims d;
    SALUS_RETURN_IF_ERROR(cpu::gemm_dims(ctx, &d));
    plan->trans_first = d.trans_b;
    plan->trans_second = d.trans_a;
    plan->m = d.n;
    plan->n = d.m;
    plan->k = d.k;
    plan->ld_first = d.ldb;
    plan->ld_second = d.lda;
    plan->ldc = d.n;
    plan->batch = to_index(d.batch);
    plan->batches = d.batches;
    return {};
}

} // namespace salus::cuda
