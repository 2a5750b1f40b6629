#include "graph/infer_util.h"

namespace salus::infer {

Status check_inputs(const NodeDesc &node, const std::vector<InputInfo> &inputs, size_t min) {
    if (inputs.size() >= min) return {};
    return fail(node.op + " needs at least " + std::to_string(min) +
                (min == 1 ? " input, got " : " inputs, got ") + std::to_string(inputs.size()));
}

Status set_single(std::vector<OutputInfo> *outputs, Shape shape, DType dtype) {
    outputs->assign(1, OutputInfo{dtype, std::move(shape)});
    return {};
}

Status flag_attr(const NodeDesc &node, std::string_view name, bool *out) {
    const int64_t v = node.get_int(name);
    if (v != 0 && v != 1) {
        return fail(node.op + " attribute \"" + std::string(name) + "\" must be 0 or 1, got " +
                    std::to_string(v));
    }
    *out = v == 1;
    return {};
}

Status check_attr_rank(const NodeDesc &node, const std::vector<int64_t> &shape) {
    if (shape.size() > SALUS_MAX_RANK) {
        return fail(node.op + " shape " + ints_str(shape) + " has rank " +
                    std::to_string(shape.size()) + ", over the maximum of " +
                    std::to_string(SALUS_MAX_RANK));
    }
    return {};
}

Status axis_attr(const NodeDesc &node, const Shape &x, const char *x_name, int64_t *axis,
                 std::string_view attr) {
    const int64_t raw = node.get_int(attr);
    *axis = normalize_axis(raw, x.size());
    if (*axis < 0) {
        return fail(node.op + " " + std::string(attr) + " " + std::to_string(raw) +
                    " is out of range for " + x_name + " " + shape_str(x));
    }
    return {};
}

Status same_shape_pair(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       const char *first, const char *second, std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    const Shape &a = shape_of(inputs, 0);
    const Shape &b = shape_of(inputs, 1);
    if (a != b) {
        return fail(node.op + " needs " + first + " and " + second + " of the same shape: " +
                    first + " " + shape_str(a) + ", " + second + " " + shape_str(b));
    }
    return set_single(outputs, a, inputs[0].dtype);
}

Status infer_unary(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                   std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    return set_single(outputs, shape_of(inputs, 0), inputs[0].dtype);
}

} // namespace salus::infer
