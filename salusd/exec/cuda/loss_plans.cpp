#include "exec/cuda/loss_plans.h"

#include "exec/cpu/helpers.h"

#include <string>

namespace salus::cuda {

namespace {

Status error(const KernelContext &ctx, const std::string &what) {
    return Status(SALUS_EEXEC, ctx.node->op + ": " + what);
}

// Every input in [from, to) has `elements` elements.
Status same_size(const KernelContext &ctx, size_t from, size_t to, int64_t elements) {
    for (size_t i = from; i < to; ++i) {
        if (ctx.inputs[i].numel() != elements) {
            return error(ctx, "input " + std::to_string(i) + " differs in size from var");
        }
    }
    return {};
}

Status plan_lr(const KernelContext &ctx, size_t index, LrSource *lr) {
    *lr = LrSource{};
    if (ctx.inputs.size() > index) {
        if (ctx.inputs[index].numel() != 1) return error(ctx, "lr is not a scalar");
        lr->input = ctx.inputs[index].f32();
    } else {
        lr->value = ctx.node->get_float("lr");
    }
    return {};
}

} // namespace

Status plan_sgd(const KernelContext &ctx, bool momentum, int64_t *elements, SgdParams *params,
                LrSource *lr) {
    const size_t inputs = momentum ? 4 : 2;
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, inputs, 0));
    *elements = ctx.inputs[0].numel();
    SALUS_RETURN_IF_ERROR(same_size(ctx, 1, momentum ? 3 : 2, *elements));
    if (momentum && ctx.inputs[3].numel() != 1) return error(ctx, "step is not a scalar");
    SgdParams p;
    p.weight_decay = static_cast<float>(ctx.node->get_float("weight_decay"));
    if (momentum) {
        p.momentum = static_cast<float>(ctx.node->get_float("momentum"));
        p.dampening = static_cast<float>(ctx.node->get_float("dampening"));
        p.nesterov = ctx.node->get_int("nesterov") != 0;
    }
    *params = p;
    return plan_lr(ctx, inputs, lr);
}

Status plan_adam(const KernelContext &ctx, int64_t *elements, AdamParams *params, LrSource *lr) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 5, 0));
    *elements = ctx.inputs[0].numel();
    SALUS_RETURN_IF_ERROR(same_size(ctx, 1, 4, *elements));
    if (ctx.inputs[4].numel() != 1) return error(ctx, "step is not a scalar");
    AdamParams p;
    p.beta1 = ctx.node->get_float("beta1");
    p.beta2 = ctx.node->get_float("beta2");
    p.eps = static_cast<float>(ctx.node->get_float("eps"));
    p.b1 = static_cast<float>(p.beta1);
    p.b2 = static_cast<float>(p.beta2);
    p.c1 = static_cast<float>(1.0 - p.beta1);
    p.c2 = static_cast<float>(1.0 - p.beta2);
    p.weight_decay = ctx.node->get_float("weight_decay");
    p.decoupled = ctx.node->op == "AdamWUpdate";
    *params = p;
    return plan_lr(ctx, 5, lr);
}

Status plan_extremum(const KernelContext &ctx, ReducePlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 1, 1));
    SALUS_RETURN_IF_ERROR(plan_reduce_of(ctx, ctx.inputs[0], ctx.outputs[0].numel(), false, plan));
    if (plan->count == 0 && plan->outputs > 0) return error(ctx, "reduces an empty axis");
    return {};
}

Status plan_extremum_grad(const KernelContext &ctx, ReducePlan *plan) {
    SALUS_RETURN_IF_ERROR(cpu::check_f32(ctx, 3, 1));
    const int64_t outputs = ctx.inputs[2].numel();
    if (ctx.inputs[0].numel() != outputs) return error(ctx, "dY and Y differ in size");
    if (ctx.outputs[0].numel() != ctx.inputs[1].numel()) {
        return error(ctx, "dX and X differ in size");
    }
    return plan_reduce_of(ctx, ctx.inputs[1], outputs, false, plan);
}

Status plan_arg(const KernelContext &ctx, AxisPlan *plan) {
    if (ctx.inputs.size() != 1 || ctx.outputs.size() != 1) {
        return error(ctx, "kernel called with the wrong number of tensors");
    }
    const TensorView &x = ctx.inputs[0];
    if (x.dtype != DType::F32 || ctx.outputs[0].dtype != DType::I64) {
        return error(ctx, "needs f32 X and an i64 output");
    }
    const int rank = static_cast<int>(x.shape.size());
    const int axis = cpu::normalize_axis(ctx.node->get_int("axis"), rank);
    if (axis < 0) return error(ctx, "axis out of range");
    *plan = AxisPlan{};
    for (int d = 0; d < rank; ++d) {
        if (d < axis) plan->outer *= x.shape[d];
        if (d == axis) plan->n = x.shape[d];
        if (d > axis) plan->inner *= x.shape[d];
    }
    if (plan->n == 0) return error(ctx, "the axis is empty");
    if (ctx.outputs[0].numel() != axis_lines(*plan)) {
        return error(ctx, "the output does not hold one index per line");
    }
    return {};
}

Status plan_labels(const KernelContext &ctx, size_t first, LabelPlan *plan) {
    if (ctx.inputs.size() < first + 2 || ctx.outputs.empty()) {
        return error(ctx, "kernel called with the wrong number of tensors");
    }
    const TensorView &x = ctx.inputs[first];
    const TensorView &t = ctx.inputs[first + 1];
    if (x.dtype != DType::F32 || (t.dtype != DType::I32 && t.dtype != DType::I64)) {
        return error(ctx, "needs f32 scores and i32 or i64 labels");
    }
    if (x.shape.size() < 2) return error(ctx, "scores must be [N, C, ...]");
    LabelPlan p;
    p.n = x.shape[0];
    p.c = x.shape[1];
    p.d = 1;
    for (size_t i = 2; i < x.shape.size(); ++i) p.d *= x.shape[i];
    if (t.numel() != p.n * p.d) return error(ctx, "labels do not match the scores");
    p.wide = t.dtype == DType::I64;
    if (const AttrValue *ignore = ctx.node->attr("ignore_index")) {
        p.has_ignore = true;
        p.ignore_index = ignore->i;
    }
    p.has_weight = ctx.inputs.size() > first + 2;
    if (p.has_weight && ctx.inputs[first + 2].numel() != p.c) {
        return error(ctx, "weight must hold C values");
    }
    const std::string &reduction = ctx.node->get_string("reduction");
    p.reduction = reduction == "mean" ? 0 : reduction == "sum" ? 1 : 2;
    *plan = p;
    return {};
}

Status bad_label(const KernelContext &ctx, const LabelPlan &plan, int64_t position, int64_t label) {
    return error(ctx, "label " + std::to_string(label) + " (at position " +
                          std::to_string(position) + ") is out of range for " +
                          std::to_string(plan.c) + " classes [0, " + std::to_string(plan.c) + ")" +
                          (plan.has_ignore
                               ? " and is not ignore_index " + std::to_string(plan.ignore_index)
                               : ""));
}

} // namespace salus::cuda

namespace salus::cuda {

size_t label_loss_workspace(const KernelInit &init) {
    const int64_t positions = init.inputs.size() > 1 ? init.inputs[1].numel() : 0;
    return sizeof(LabelScratch) + static_cast<size_t>(positions) * sizeof(double);
}

size_t label_loss_grad_workspace(const KernelInit &) {
    return sizeof(LabelScratch);
}

} // namespace salus::cuda
