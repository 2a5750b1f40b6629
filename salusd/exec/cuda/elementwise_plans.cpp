#include "exec/cuda/elementwise_plans.h"

#include "exec/cpu/helpers.h"
#include "exec/cuda/kernel_plans.h"

#include <string>

namespace salus::cuda {

namespace {

Status error(const KernelContext &ctx, const std::string &what) {
    return Status(SALUS_EEXEC, ctx.node->op + ": " + what);
}

// A one-operand walk over `rank` dims at `strides`, unmerged (building a
// Shape for make_loop would allocate on the iteration path).
StridedIndex walk(const int64_t *dims, const int64_t *strides, int rank) {
    StridedIndex ix;
    if (rank == 0) return ix; // one element
    ix.rank = rank;
    for (int d = 0; d < rank; ++d) {
        ix.dims[d] = dims[d];
        ix.strides[0][d] = strides[d];
    }
    return ix;
}

Status check_dtype(const KernelContext &ctx, const TensorView &t, const char *what, DType want) {
    if (t.dtype != want) {
        return error(ctx, std::string(what) + " is " + dtype_name(t.dtype) + ", the kernel takes " +
                              dtype_name(want));
    }
    return {};
}

} // namespace

EwParams ew_params(const NodeDesc &node) {
    EwParams p;
    p.alpha = static_cast<float>(node.get_float("alpha"));
    p.beta = static_cast<float>(node.get_float("beta"));
    p.gamma = static_cast<float>(node.get_float("gamma"));
    p.tanh = node.get_string("approximate") == "tanh";
    return p;
}

bool ew_dtype(DType dtype, EwDType *out) {
    switch (dtype) {
    case DType::F32:
        *out = EwDType::F32;
        return true;
    case DType::I32:
        *out = EwDType::I32;
        return true;
    case DType::I64:
        *out = EwDType::I64;
        return true;
    case DType::Bool:
        *out = EwDType::Bool;
        return true;
    case DType::F64:
        *out = EwDType::F64;
        return true;
    case DType::F16:
    case DType::BF16:
        break;
    }
    return false;
}

Status plan_broadcast(const KernelContext &ctx, size_t inputs, StridedIndex *ix,
                      int64_t *elements) {
    SALUS_RETURN_IF_ERROR(cpu::check_arity(ctx, inputs, 1));
    const Shape &y = ctx.outputs[0].shape;
    int64_t strides[kMaxOperands][kMaxRank];
    bool ok =
        inputs + 1 <= static_cast<size_t>(kMaxOperands) && cpu::broadcast_strides(y, y, strides[0]);
    for (size_t i = 0; ok && i < inputs; ++i) {
        ok = cpu::broadcast_strides(ctx.inputs[i].shape, y, strides[i + 1]);
    }
    if (!ok) return error(ctx, "input shapes do not broadcast to the output");
    *ix = to_index(cpu::make_loop(y, static_cast<int>(inputs) + 1, strides));
    *elements = ctx.outputs[0].numel();
    return {};
}

Status plan_arith(const KernelContext &ctx, BinaryOp op, StridedIndex *ix, int64_t *elements,
                  EwDType *type) {
    SALUS_RETURN_IF_ERROR(plan_broadcast(ctx, 2, ix, elements));
    const DType d = ctx.outputs[0].dtype;
    if (!is_arith(op)) return error(ctx, std::string("takes f32 only, got ") + dtype_name(d));
    if (ctx.inputs[0].dtype != d || ctx.inputs[1].dtype != d || !ew_dtype(d, type) ||
        *type == EwDType::Bool) {
        return error(ctx,
                     std::string("A, B and Y must share a dtype of f32, f64, i32 or i64, got ") +
                         dtype_name(ctx.inputs[0].dtype) + ", " + dtype_name(ctx.inputs[1].dtype) +
                         " and " + dtype_name(d));
    }
    return {};
}

Status plan_compare(const KernelContext &ctx, StridedIndex *ix, int64_t *elements, EwDType *type) {
    SALUS_RETURN_IF_ERROR(plan_broadcast(ctx, 2, ix, elements));
    SALUS_RETURN_IF_ERROR(check_dtype(ctx, ctx.outputs[0], "the output", DType::Bool));
    if (ctx.inputs[0].dtype != ctx.inputs[1].dtype || !ew_dtype(ctx.inputs[0].dtype, type) ||
        *type == EwDType::Bool) {
        return error(ctx, std::string("cannot compare ") + dtype_name(ctx.inputs[0].dtype) +
                              " with " + dtype_name(ctx.inputs[1].dtype));
    }
    return {};
}

Status plan_logic(const KernelContext &ctx, StridedIndex *ix, int64_t *elements) {
    const bool unary = ctx.node->op == "Not";
    SALUS_RETURN_IF_ERROR(plan_broadcast(ctx, unary ? 1 : 2, ix, elements));
    SALUS_RETURN_IF_ERROR(check_dtype(ctx, ctx.outputs[0], "the output", DType::Bool));
    for (size_t i = 0; i < (unary ? 1u : 2u); ++i) {
        SALUS_RETURN_IF_ERROR(check_dtype(ctx, ctx.inputs[i], "an input", DType::Bool));
    }
    if (unary) {
        for (int d = 0; d < ix->rank; ++d) ix->strides[2][d] = ix->strides[1][d];
    }
    return {};
}

Status plan_where(const KernelContext &ctx, StridedIndex *ix, int64_t *elements,
                  size_t *element_size) {
    SALUS_RETURN_IF_ERROR(plan_broadcast(ctx, 3, ix, elements));
    SALUS_RETURN_IF_ERROR(check_dtype(ctx, ctx.inputs[0], "the condition", DType::Bool));
    const DType d = ctx.outputs[0].dtype;
    EwDType type;
    if (ctx.inputs[1].dtype != d || ctx.inputs[2].dtype != d || !ew_dtype(d, &type)) {
        return error(ctx, "X, Y and the output must share a dtype of f32, f64, i32, i64 or bool");
    }
    *element_size = dtype_size(d);
    return {};
}

Status plan_cast(const KernelContext &ctx, int64_t *elements, EwDType *from, EwDType *to) {
    SALUS_RETURN_IF_ERROR(cpu::check_arity(ctx, 1, 1));
    if (!ew_dtype(ctx.inputs[0].dtype, from) || !ew_dtype(ctx.outputs[0].dtype, to)) {
        return error(ctx, std::string("no cast from ") + dtype_name(ctx.inputs[0].dtype) + " to " +
                              dtype_name(ctx.outputs[0].dtype));
    }
    *elements = ctx.outputs[0].numel();
    if (ctx.inputs[0].numel() != *elements) return error(ctx, "input and output differ in size");
    return {};
}

Status plan_clip(const KernelContext &ctx, bool grad, int64_t *elements, int *lo, int *hi) {
    const size_t first = grad ? 2 : 1;
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, first, 1));
    *elements = ctx.outputs[0].numel();
    for (size_t i = 0; i < first; ++i) {
        if (ctx.inputs[i].numel() != *elements)
            return error(ctx, "inputs and output differ in size");
    }
    *lo = *hi = -1;
    for (size_t i = first; i < ctx.inputs.size() && i < first + 2; ++i) {
        if (ctx.inputs[i].numel() != 1) return error(ctx, "min and max must be scalars");
        *(i == first ? lo : hi) = static_cast<int>(i);
    }
    return {};
}

Status plan_prelu_grad(const KernelContext &ctx, StridedIndex *ix, int64_t *elements,
                       SlopeSumPlan *sums) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 3, 2));
    const Shape &x = ctx.inputs[1].shape;
    const Shape &slope = ctx.inputs[2].shape;
    if (ctx.inputs[0].shape != x || ctx.outputs[0].shape != x || ctx.outputs[1].shape != slope ||
        slope.size() > x.size() || x.size() > static_cast<size_t>(kMaxRank)) {
        return error(ctx, "dY, X, dX must share X's shape and dSlope be slope's");
    }
    int64_t strides[2][kMaxRank];
    if (!cpu::broadcast_strides(x, x, strides[0]) ||
        !cpu::broadcast_strides(slope, x, strides[1])) {
        return error(ctx, "slope does not broadcast to X");
    }
    *ix = to_index(cpu::make_loop(x, 2, strides));
    *elements = num_elements(x);
    const int rank = static_cast<int>(x.size());
    const int lead = rank - static_cast<int>(slope.size());
    int64_t kept[kMaxRank], reduced[kMaxRank];
    int64_t count = 1;
    for (int d = 0; d < rank; ++d) {
        const int64_t s = d < lead ? 1 : slope[static_cast<size_t>(d - lead)];
        kept[d] = s;
        reduced[d] = s == 1 ? x[static_cast<size_t>(d)] : 1;
        count *= reduced[d];
    }
    sums->slopes = num_elements(slope);
    sums->count = count;
    sums->kept = walk(kept, strides[0], rank);
    sums->reduced = walk(reduced, strides[0], rank);
    return {};
}

} // namespace salus::cuda
