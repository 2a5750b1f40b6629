// Shape rules of the loss family; messages name shapes and attributes, the
// validator prefixes the node.
#include "ops/loss_infer.h"

#include "graph/infer_util.h"
#include "graph/shape_inference.h"

#include <initializer_list>
#include <string>

namespace salus::loss_infer {

using infer::check_inputs;
using infer::fail;
using infer::set_single;
using infer::shape_of;

namespace {

// Inputs [first, first + count) of the loss ops: (input, target[, weight]).
// input is [N, C] or [N, C, d1, ...], target [N] or [N, d1, ...], weight [C].
Status check_loss_inputs(const NodeDesc &node, const std::vector<InputInfo> &inputs, size_t first,
                         const char *input_name, const char *target_name) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, first + 2));
    const Shape &x = shape_of(inputs, first);
    const Shape &t = shape_of(inputs, first + 1);
    if (x.size() < 2) {
        return fail(node.op + " " + input_name + " must be [N, C] or [N, C, d1, ...], got " +
                    shape_str(x));
    }
    Shape expected{x[0]};
    expected.insert(expected.end(), x.begin() + 2, x.end());
    if (t != expected) {
        return fail(node.op + " " + target_name + " must be " + shape_str(expected) + " for " +
                    input_name + " " + shape_str(x) + ", got " + shape_str(t));
    }
    if (inputs.size() > first + 2 && shape_of(inputs, first + 2) != Shape{x[1]}) {
        return fail(node.op + " weight must be [C] = " + shape_str(Shape{x[1]}) + ", got " +
                    shape_str(shape_of(inputs, first + 2)));
    }
    const std::string &reduction = node.get_string("reduction");
    if (reduction != "mean" && reduction != "sum" && reduction != "none") {
        return fail(node.op + " reduction must be \"mean\", \"sum\" or \"none\", got \"" +
                    reduction + "\"");
    }
    return {};
}

Shape loss_shape(const NodeDesc &node, const Shape &target) {
    return node.get_string("reduction") == "none" ? target : Shape{};
}

// The learning rate comes from the attribute or the optional input at
// `lr_input`, never both.
Status check_lr(const NodeDesc &node, const std::vector<InputInfo> &inputs, size_t lr_input) {
    const bool attr = node.attr("lr") != nullptr;
    const bool input = inputs.size() > lr_input;
    if (attr == input) {
        return fail(node.op + " needs the learning rate either as attribute \"lr\" or as input " +
                    std::to_string(lr_input) + " (lr), " + (attr ? "got both" : "got neither"));
    }
    if (input && !shape_of(inputs, lr_input).empty()) {
        return fail(node.op + " lr must be a scalar [], got " +
                    shape_str(shape_of(inputs, lr_input)));
    }
    if (attr && !(node.get_float("lr") >= 0.0)) {
        return fail(node.op + " lr must be >= 0, got " + std::to_string(node.get_float("lr")));
    }
    if (!(node.get_float("weight_decay") >= 0.0)) {
        return fail(node.op + " weight_decay must be >= 0, got " +
                    std::to_string(node.get_float("weight_decay")));
    }
    return {};
}

// Inputs 1..count-1 have input 0's shape; names[i] names input i.
Status same_as_var(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                   std::initializer_list<const char *> names) {
    const Shape &var = shape_of(inputs, 0);
    size_t i = 0;
    for (const char *name : names) {
        if (i > 0 && shape_of(inputs, i) != var) {
            return fail(node.op + " needs " + name + " of the var's shape: var " + shape_str(var) +
                        ", " + name + " " + shape_str(shape_of(inputs, i)));
        }
        ++i;
    }
    return {};
}

Status scalar_step(const NodeDesc &node, const std::vector<InputInfo> &inputs, size_t i) {
    if (!shape_of(inputs, i).empty()) {
        return fail(node.op + " step must be a scalar [], got " + shape_str(shape_of(inputs, i)));
    }
    return {};
}

} // namespace

Status reduce_extremum(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer_reduce(node, inputs, outputs));
    // A max of nothing has no value (torch refuses it too).
    if (num_elements(shape_of(inputs, 0)) == 0 && num_elements((*outputs)[0].shape) > 0) {
        return fail(node.op + " reduces an empty axis of X " + shape_str(shape_of(inputs, 0)));
    }
    return {};
}

Status reduce_extremum_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                            std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
    // Y is what the forward reduction gives for X and these attributes.
    std::vector<InputInfo> x{inputs[1]};
    std::vector<OutputInfo> forward;
    SALUS_RETURN_IF_ERROR(reduce_extremum(node, x, &forward));
    const Shape &y = forward[0].shape;
    if (shape_of(inputs, 2) != y || shape_of(inputs, 0) != y) {
        return fail(node.op + " needs dY and Y of the reduced shape " + shape_str(y) + ", got dY " +
                    shape_str(shape_of(inputs, 0)) + " and Y " + shape_str(shape_of(inputs, 2)));
    }
    return set_single(outputs, shape_of(inputs, 1));
}

Status arg_extremum(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                    std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    if (x.empty()) return fail(node.op + " needs X of rank >= 1, got a scalar");
    int64_t axis = 0;
    SALUS_RETURN_IF_ERROR(infer::axis_attr(node, x, "X", &axis));
    bool keepdims = true, last = false;
    SALUS_RETURN_IF_ERROR(infer::flag_attr(node, "keepdims", &keepdims));
    SALUS_RETURN_IF_ERROR(infer::flag_attr(node, "select_last_index", &last));
    if (x[static_cast<size_t>(axis)] == 0) {
        return fail(node.op + " axis " + std::to_string(axis) + " of X " + shape_str(x) +
                    " is empty: no index to return");
    }
    Shape y;
    for (size_t i = 0; i < x.size(); ++i) {
        if (i != static_cast<size_t>(axis)) {
            y.push_back(x[i]);
        } else if (keepdims) {
            y.push_back(1);
        }
    }
    return set_single(outputs, y, DType::I64);
}

Status nll_loss(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_loss_inputs(node, inputs, 0, "input", "target"));
    return set_single(outputs, loss_shape(node, shape_of(inputs, 1)));
}

Status nll_loss_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                     std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_loss_inputs(node, inputs, 1, "input", "target"));
    const Shape expected = loss_shape(node, shape_of(inputs, 2));
    if (shape_of(inputs, 0) != expected) {
        return fail(node.op + " dLoss must be " + shape_str(expected) + ", got " +
                    shape_str(shape_of(inputs, 0)));
    }
    return set_single(outputs, shape_of(inputs, 1));
}

Status sce_loss(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_loss_inputs(node, inputs, 0, "scores", "labels"));
    outputs->assign(1, OutputInfo{DType::F32, loss_shape(node, shape_of(inputs, 1))});
    // log_prob only where the node asks for it.
    if (node.outputs.size() > 1) outputs->push_back(OutputInfo{DType::F32, shape_of(inputs, 0)});
    return {};
}

Status sce_loss_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                     std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_loss_inputs(node, inputs, 1, "scores", "labels"));
    const Shape expected = loss_shape(node, shape_of(inputs, 2));
    if (shape_of(inputs, 0) != expected) {
        return fail(node.op + " dLoss must be " + shape_str(expected) + ", got " +
                    shape_str(shape_of(inputs, 0)));
    }
    return set_single(outputs, shape_of(inputs, 1));
}

Status sgd_update(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    SALUS_RETURN_IF_ERROR(same_as_var(node, inputs, {"var", "grad"}));
    SALUS_RETURN_IF_ERROR(check_lr(node, inputs, 2));
    outputs->clear();
    return {};
}

Status sgd_momentum_update(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                           std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 4));
    SALUS_RETURN_IF_ERROR(same_as_var(node, inputs, {"var", "grad", "momentum_buffer"}));
    SALUS_RETURN_IF_ERROR(scalar_step(node, inputs, 3));
    SALUS_RETURN_IF_ERROR(check_lr(node, inputs, 4));
    const double momentum = node.get_float("momentum");
    const double dampening = node.get_float("dampening");
    bool nesterov = false;
    SALUS_RETURN_IF_ERROR(infer::flag_attr(node, "nesterov", &nesterov));
    if (!(momentum >= 0.0)) {
        return fail(node.op + " momentum must be >= 0, got " + std::to_string(momentum));
    }
    if (nesterov && (momentum <= 0.0 || dampening != 0.0)) {
        return fail(node.op + " nesterov needs momentum > 0 and dampening 0, got momentum " +
                    std::to_string(momentum) + ", dampening " + std::to_string(dampening));
    }
    outputs->clear();
    return {};
}

Status adam_update(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                   std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 5));
    SALUS_RETURN_IF_ERROR(same_as_var(node, inputs, {"var", "grad", "m", "v"}));
    SALUS_RETURN_IF_ERROR(scalar_step(node, inputs, 4));
    SALUS_RETURN_IF_ERROR(check_lr(node, inputs, 5));
    const double beta1 = node.get_float("beta1");
    const double beta2 = node.get_float("beta2");
    if (!(beta1 >= 0.0 && beta1 < 1.0) || !(beta2 >= 0.0 && beta2 < 1.0)) {
        return fail(node.op + " betas must be in [0, 1): beta1 " + std::to_string(beta1) +
                    ", beta2 " + std::to_string(beta2));
    }
    if (!(node.get_float("eps") >= 0.0)) {
        return fail(node.op + " eps must be >= 0, got " + std::to_string(node.get_float("eps")));
    }
    outputs->clear();
    return {};
}

} // namespace salus::loss_infer
