#include "ops/norm_infer.h"

#include "graph/infer_util.h"

#include <string>

namespace salus::norm_infer {

using infer::check_inputs;
using infer::fail;
using infer::shape_of;

namespace {

// Input i must have shape `want`; `what` names it.
Status expect_shape(const NodeDesc &node, const std::vector<InputInfo> &inputs, size_t i,
                    const char *what, const Shape &want) {
    const Shape &got = shape_of(inputs, i);
    if (got == want) return {};
    return fail(node.op + " needs " + what + " of shape " + shape_str(want) + ", got " +
                shape_str(got));
}

// X is [N, C, ...] of at least `min_rank`; inputs first..last are per channel [C].
Status channel_inputs(const NodeDesc &node, const std::vector<InputInfo> &inputs, size_t x_index,
                      size_t min_rank, size_t first, std::initializer_list<const char *> names) {
    const Shape &x = shape_of(inputs, x_index);
    if (x.size() < min_rank) {
        return fail(node.op + " needs X of rank " + std::to_string(min_rank) +
                    " or more ([N, C, ...]), got " + shape_str(x));
    }
    size_t i = first;
    for (const char *name : names) {
        if (i >= inputs.size()) break;
        SALUS_RETURN_IF_ERROR(expect_shape(node, inputs, i, name, Shape{x[1]}));
        ++i;
    }
    return {};
}

Status epsilon_attr(const NodeDesc &node) {
    const double eps = node.get_float("epsilon");
    if (eps < 0.0) return fail(node.op + " epsilon must be >= 0, got " + std::to_string(eps));
    return {};
}

Status same_as_x(const NodeDesc &node, const std::vector<InputInfo> &inputs, size_t dy, size_t x) {
    if (shape_of(inputs, dy) == shape_of(inputs, x)) return {};
    return fail(node.op + " needs dY of X's shape " + shape_str(shape_of(inputs, x)) + ", got " +
                shape_str(shape_of(inputs, dy)));
}

// The normalized axis of LayerNormalization(Grad), X at input x.
Status layer_axis(const NodeDesc &node, const Shape &x, int64_t *axis) {
    if (x.empty()) return fail(node.op + " needs X of rank 1 or more, got a scalar");
    return infer::axis_attr(node, x, "X", axis);
}

// Every output of the op, less the optional ones the node leaves out (a
// node without outputs yet, as tests build them, gets all of them).
Status set_outputs(const NodeDesc &node, std::vector<OutputInfo> *outputs,
                   std::vector<OutputInfo> all) {
    if (!node.outputs.empty() && all.size() > node.outputs.size()) {
        all.resize(node.outputs.size());
    }
    *outputs = std::move(all);
    return {};
}

Shape stats_shape(const Shape &x, int64_t axis) {
    Shape s(x.begin(), x.begin() + axis);
    s.resize(x.size(), 1);
    return s;
}

} // namespace

Status batch_norm(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 5));
    SALUS_RETURN_IF_ERROR(epsilon_attr(node));
    if (node.get_int("training_mode") != 0) {
        return fail(node.op + " training_mode must be 0; the training mode is "
                              "BatchNormalizationTraining");
    }
    SALUS_RETURN_IF_ERROR(
        channel_inputs(node, inputs, 0, 2, 1, {"scale", "B", "input_mean", "input_var"}));
    return infer::set_single(outputs, shape_of(inputs, 0), inputs[0].dtype);
}

Status batch_norm_training(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                           std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 5));
    SALUS_RETURN_IF_ERROR(epsilon_attr(node));
    const double momentum = node.get_float("momentum");
    if (momentum < 0.0 || momentum > 1.0) {
        return fail(node.op + " momentum must be in [0, 1], got " + std::to_string(momentum));
    }
    SALUS_RETURN_IF_ERROR(
        channel_inputs(node, inputs, 0, 2, 1, {"scale", "B", "running_mean", "running_var"}));
    const Shape &x = shape_of(inputs, 0);
    if (x[1] > 0 && num_elements(x) / x[1] <= 1) {
        return fail(node.op + " needs more than one value per channel, X is " + shape_str(x));
    }
    const DType dt = inputs[0].dtype;
    return set_outputs(node, outputs, {{dt, x}, {dt, Shape{x[1]}}, {dt, Shape{x[1]}}});
}

Status batch_norm_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 5));
    SALUS_RETURN_IF_ERROR(same_as_x(node, inputs, 0, 1));
    const bool inference = node.op == "BatchNormalizationInferenceGrad";
    if (inference) SALUS_RETURN_IF_ERROR(epsilon_attr(node));
    SALUS_RETURN_IF_ERROR(channel_inputs(node, inputs, 1, 2, 2,
                                         {"scale", inference ? "input_mean" : "saved_mean",
                                          inference ? "input_var" : "saved_inv_std"}));
    const Shape &x = shape_of(inputs, 1);
    const DType dt = inputs[1].dtype;
    return set_outputs(node, outputs, {{dt, x}, {dt, Shape{x[1]}}, {dt, Shape{x[1]}}});
}

Status layer_norm(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    SALUS_RETURN_IF_ERROR(epsilon_attr(node));
    if (node.get_int("stash_type") != 1) {
        return fail(node.op + " stash_type must be 1 (f32 statistics), got " +
                    std::to_string(node.get_int("stash_type")));
    }
    const Shape &x = shape_of(inputs, 0);
    int64_t axis = 0;
    SALUS_RETURN_IF_ERROR(layer_axis(node, x, &axis));
    const Shape normalized(x.begin() + axis, x.end());
    SALUS_RETURN_IF_ERROR(expect_shape(node, inputs, 1, "Scale", normalized));
    if (inputs.size() > 2) SALUS_RETURN_IF_ERROR(expect_shape(node, inputs, 2, "B", normalized));
    const DType dt = inputs[0].dtype;
    return set_outputs(
        node, outputs,
        {{dt, x}, {DType::F32, stats_shape(x, axis)}, {DType::F32, stats_shape(x, axis)}});
}

Status layer_norm_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 5));
    SALUS_RETURN_IF_ERROR(same_as_x(node, inputs, 0, 1));
    const Shape &x = shape_of(inputs, 1);
    int64_t axis = 0;
    SALUS_RETURN_IF_ERROR(layer_axis(node, x, &axis));
    const Shape normalized(x.begin() + axis, x.end());
    SALUS_RETURN_IF_ERROR(expect_shape(node, inputs, 2, "Scale", normalized));
    SALUS_RETURN_IF_ERROR(expect_shape(node, inputs, 3, "Mean", stats_shape(x, axis)));
    SALUS_RETURN_IF_ERROR(expect_shape(node, inputs, 4, "InvStdDev", stats_shape(x, axis)));
    const DType dt = inputs[1].dtype;
    return set_outputs(node, outputs, {{dt, x}, {dt, normalized}, {dt, normalized}});
}

Status instance_norm(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                     std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
    SALUS_RETURN_IF_ERROR(epsilon_attr(node));
    SALUS_RETURN_IF_ERROR(channel_inputs(node, inputs, 0, 3, 1, {"scale", "B"}));
    return infer::set_single(outputs, shape_of(inputs, 0), inputs[0].dtype);
}

namespace {

Status check_groups(const NodeDesc &node, const Shape &x) {
    const int64_t groups = node.get_int("num_groups");
    if (groups <= 0) {
        return fail(node.op + " num_groups must be > 0, got " + std::to_string(groups));
    }
    if (x[1] % groups != 0) {
        return fail(node.op + " num_groups " + std::to_string(groups) + " does not divide the " +
                    std::to_string(x[1]) + " channels of X " + shape_str(x));
    }
    return {};
}

} // namespace

Status group_norm(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
    SALUS_RETURN_IF_ERROR(epsilon_attr(node));
    SALUS_RETURN_IF_ERROR(channel_inputs(node, inputs, 0, 2, 1, {"scale", "B"}));
    SALUS_RETURN_IF_ERROR(check_groups(node, shape_of(inputs, 0)));
    return infer::set_single(outputs, shape_of(inputs, 0), inputs[0].dtype);
}

Status channel_norm_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                         std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
    SALUS_RETURN_IF_ERROR(epsilon_attr(node));
    SALUS_RETURN_IF_ERROR(same_as_x(node, inputs, 0, 1));
    const bool group = node.op == "GroupNormalizationGrad";
    SALUS_RETURN_IF_ERROR(channel_inputs(node, inputs, 1, group ? 2 : 3, 2, {"scale"}));
    const Shape &x = shape_of(inputs, 1);
    if (group) SALUS_RETURN_IF_ERROR(check_groups(node, x));
    const DType dt = inputs[1].dtype;
    return set_outputs(node, outputs, {{dt, x}, {dt, Shape{x[1]}}, {dt, Shape{x[1]}}});
}

namespace {

Status ratio_attr(const NodeDesc &node) {
    const double ratio = node.get_float("ratio");
    if (ratio < 0.0 || ratio > 1.0) {
        return fail(node.op + " ratio must be in [0, 1], got " + std::to_string(ratio));
    }
    return {};
}

} // namespace

Status dropout(const NodeDesc &node, const std::vector<InputInfo> &inputs,
               std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    SALUS_RETURN_IF_ERROR(ratio_attr(node));
    bool training = false;
    SALUS_RETURN_IF_ERROR(infer::flag_attr(node, "training_mode", &training));
    const Shape &x = shape_of(inputs, 0);
    return set_outputs(node, outputs, {{inputs[0].dtype, x}, {DType::Bool, x}});
}

Status dropout_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                    std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    SALUS_RETURN_IF_ERROR(ratio_attr(node));
    bool training = false;
    SALUS_RETURN_IF_ERROR(infer::flag_attr(node, "training_mode", &training));
    if (shape_of(inputs, 0) != shape_of(inputs, 1)) {
        return fail(node.op + " needs mask of dY's shape " + shape_str(shape_of(inputs, 0)) +
                    ", got " + shape_str(shape_of(inputs, 1)));
    }
    return infer::set_single(outputs, shape_of(inputs, 0), inputs[0].dtype);
}

} // namespace salus::norm_infer
