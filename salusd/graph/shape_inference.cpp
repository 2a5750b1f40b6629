#include "graph/shape_inference.h"

#include "graph/infer_util.h"
#include "graph/shape_util.h"

#include <string>

namespace salus {

using namespace infer;

namespace {

Status wrong_type(const NodeDesc &node, std::string_view name, const AttrValue &a,
                  AttrValue::Type expected) {
    return fail(node.op + " attribute \"" + std::string(name) + "\" is " + attr_type_name(a.type) +
                ", expected " + attr_type_name(expected));
}

// *out is null when the attribute is absent.
Status ints_attr(const NodeDesc &node, std::string_view name, const std::vector<int64_t> **out) {
    const AttrValue *a = node.attr(name);
    if (a && a->type != AttrValue::Type::Ints) {
        return wrong_type(node, name, *a, AttrValue::Type::Ints);
    }
    *out = a ? &a->ints : nullptr;
    return {};
}

Status required_ints(const NodeDesc &node, std::string_view name,
                     const std::vector<int64_t> **out) {
    SALUS_RETURN_IF_ERROR(ints_attr(node, name, out));
    if (!*out) return fail(node.op + " requires attribute \"" + std::string(name) + "\"");
    return {};
}

Status check_logits_labels(const NodeDesc &node, const std::vector<InputInfo> &inputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    const Shape &logits = shape_of(inputs, 0);
    const Shape &labels = shape_of(inputs, 1);
    if (logits.size() != 2 || logits != labels) {
        return fail(node.op + " needs logits and labels of the same [N, C] shape: logits " +
                    shape_str(logits) + ", labels " + shape_str(labels));
    }
    return {};
}

} // namespace

Status infer_matmul(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                    std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    bool ta = false;
    bool tb = false;
    SALUS_RETURN_IF_ERROR(flag_attr(node, "transA", &ta));
    SALUS_RETURN_IF_ERROR(flag_attr(node, "transB", &tb));
    const Shape &a = shape_of(inputs, 0);
    const Shape &b = shape_of(inputs, 1);
    if (a.size() < 2 || b.size() < 2) {
        return fail("MatMul needs inputs of rank >= 2: A " + shape_str(a) + ", B " + shape_str(b));
    }
    const size_t ra = a.size(), rb = b.size();
    const int64_t m = ta ? a[ra - 1] : a[ra - 2];
    const int64_t ka = ta ? a[ra - 2] : a[ra - 1];
    const int64_t kb = tb ? b[rb - 1] : b[rb - 2];
    const int64_t n = tb ? b[rb - 2] : b[rb - 1];
    if (ka != kb) {
        return fail("MatMul inner dimensions differ: A " + shape_str(a) +
                    " (transA=" + std::to_string(ta) + "), B " + shape_str(b) +
                    " (transB=" + std::to_string(tb) + ")");
    }
    // The batch dimensions (all but the last two) broadcast as numpy's.
    Shape y;
    if (!broadcast_shapes(Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2), &y)) {
        return fail("MatMul batch dimensions do not broadcast: A " + shape_str(a) + ", B " +
                    shape_str(b));
    }
    y.push_back(m);
    y.push_back(n);
    return set_single(outputs, std::move(y));
}

Status infer_broadcast_binary(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                              std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    Shape y;
    if (!broadcast_shapes(shape_of(inputs, 0), shape_of(inputs, 1), &y)) {
        return fail(node.op + " inputs do not broadcast: A " + shape_str(shape_of(inputs, 0)) +
                    ", B " + shape_str(shape_of(inputs, 1)));
    }
    // No implicit promotion: a mixed pair is the caller's Cast to choose.
    if (inputs[0].dtype != inputs[1].dtype) {
        return fail(node.op + " needs A and B of one dtype, got A " + dtype_name(inputs[0].dtype) +
                    " and B " + dtype_name(inputs[1].dtype));
    }
    return set_single(outputs, std::move(y), inputs[0].dtype);
}

Status infer_relu_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs) {
    return same_shape_pair(node, inputs, "dY", "X", outputs);
}

Status infer_activation_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                             std::vector<OutputInfo> *outputs) {
    return same_shape_pair(node, inputs, "dY", "Y", outputs);
}

Status infer_softmax(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                     std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    int64_t axis = 0;
    SALUS_RETURN_IF_ERROR(axis_attr(node, shape_of(inputs, 0), "X", &axis));
    return set_single(outputs, shape_of(inputs, 0));
}

Status infer_softmax_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                          std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(same_shape_pair(node, inputs, "dY", "Y", outputs));
    int64_t axis = 0;
    return axis_attr(node, shape_of(inputs, 1), "Y", &axis);
}

Status infer_softmax_cross_entropy(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                                   std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_logits_labels(node, inputs));
    return set_single(outputs, Shape{});
}

Status infer_softmax_cross_entropy_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                                        std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_logits_labels(node, inputs));
    if (inputs.size() > 2 && !shape_of(inputs, 2).empty()) {
        return fail(node.op + " dLoss must be a scalar [], got " + shape_str(shape_of(inputs, 2)));
    }
    return set_single(outputs, shape_of(inputs, 0));
}

Status infer_one_hot(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                     std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const int64_t depth = node.get_int("depth");
    if (depth <= 0) return fail("OneHot depth must be positive, got " + std::to_string(depth));
    Shape y = shape_of(inputs, 0);
    y.push_back(depth);
    return set_single(outputs, std::move(y));
}

Status infer_reduce(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                    std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    bool keepdims = true;
    SALUS_RETURN_IF_ERROR(flag_attr(node, "keepdims", &keepdims));
    const std::vector<int64_t> *axes = nullptr;
    SALUS_RETURN_IF_ERROR(ints_attr(node, "axes", &axes));
    const Shape &x = shape_of(inputs, 0);

    // Absent or empty axes reduce everything, as in ONNX (whose
    // noop_with_empty_axes defaults to 0) and the CPU kernels.
    const bool all = axes == nullptr || axes->empty();
    std::vector<bool> reduced(x.size(), all);
    for (size_t k = 0; !all && k < axes->size(); ++k) {
        const int64_t raw = (*axes)[k];
        const int64_t axis = normalize_axis(raw, x.size());
        if (axis < 0) {
            return fail(node.op + " axis " + std::to_string(raw) + " is out of range for X " +
                        shape_str(x));
        }
        if (reduced[static_cast<size_t>(axis)]) {
            return fail(node.op + " axes " + ints_str(*axes) + " name axis " +
                        std::to_string(axis) + " of X " + shape_str(x) + " more than once");
        }
        reduced[static_cast<size_t>(axis)] = true;
    }
    Shape y;
    for (size_t i = 0; i < x.size(); ++i) {
        if (!reduced[i]) {
            y.push_back(x[i]);
        } else if (keepdims) {
            y.push_back(1);
        }
    }
    return set_single(outputs, std::move(y));
}

Status infer_expand(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                    std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const std::vector<int64_t> *shape = nullptr;
    SALUS_RETURN_IF_ERROR(required_ints(node, "shape", &shape));
    SALUS_RETURN_IF_ERROR(check_attr_rank(node, *shape));
    for (int64_t d : *shape) {
        if (d <= 0) {
            return fail("Expand shape " + ints_str(*shape) + " has a non-positive dimension");
        }
    }
    const Shape &x = shape_of(inputs, 0);
    if (!broadcasts_to(x, *shape)) {
        return fail("Expand cannot broadcast X " + shape_str(x) + " to shape " + ints_str(*shape));
    }
    return set_single(outputs, *shape);
}

Status infer_reshape(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                     std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const std::vector<int64_t> *shape = nullptr;
    SALUS_RETURN_IF_ERROR(required_ints(node, "shape", &shape));
    SALUS_RETURN_IF_ERROR(check_attr_rank(node, *shape));
    const Shape &x = shape_of(inputs, 0);
    const std::string target = ints_str(*shape);

    Shape y(shape->size());
    size_t inferred = shape->size(); // index of the -1, if any
    for (size_t i = 0; i < shape->size(); ++i) {
        const int64_t d = (*shape)[i];
        if (d == -1) {
            if (inferred != shape->size()) {
                return fail("Reshape shape " + target + " has more than one -1");
            }
            inferred = i;
            y[i] = 1; // placeholder so the product below skips it
        } else if (d == 0) {
            if (i >= x.size()) {
                return fail("Reshape shape " + target + " copies dimension " + std::to_string(i) +
                            " (0) but X " + shape_str(x) + " has rank " + std::to_string(x.size()));
            }
            y[i] = x[i];
        } else if (d < 0) {
            return fail("Reshape shape " + target + " has an invalid dimension " +
                        std::to_string(d));
        } else {
            y[i] = d;
        }
    }
    int64_t x_elements = 0;
    int64_t known = 0;
    if (!checked_num_elements(x, &x_elements) || !checked_num_elements(y, &known)) {
        return fail("Reshape shape " + target + " has too many elements");
    }
    if (inferred != shape->size()) {
        if (x_elements % known != 0) {
            return fail("Reshape cannot infer the -1 in " + target + ": X " + shape_str(x) +
                        " has " + std::to_string(x_elements) + " elements, not a multiple of " +
                        std::to_string(known));
        }
        y[inferred] = x_elements / known;
    } else if (known != x_elements) {
        return fail("Reshape cannot reshape X " + shape_str(x) + " (" + std::to_string(x_elements) +
                    " elements) to " + target + " (" + std::to_string(known) + " elements)");
    }
    return set_single(outputs, std::move(y), inputs[0].dtype);
}

Status infer_transpose(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const std::vector<int64_t> *perm_attr = nullptr;
    SALUS_RETURN_IF_ERROR(ints_attr(node, "perm", &perm_attr));
    const Shape &x = shape_of(inputs, 0);
    std::vector<int64_t> perm;
    if (perm_attr) {
        perm = *perm_attr;
    } else {
        for (size_t i = x.size(); i > 0; --i) perm.push_back(static_cast<int64_t>(i - 1));
    }
    if (perm.size() != x.size()) {
        return fail("Transpose perm " + ints_str(perm) + " has " + std::to_string(perm.size()) +
                    " entries but X " + shape_str(x) + " has rank " + std::to_string(x.size()));
    }
    std::vector<bool> seen(x.size(), false);
    Shape y(x.size());
    for (size_t i = 0; i < perm.size(); ++i) {
        const int64_t p = perm[i];
        if (p < 0 || p >= static_cast<int64_t>(x.size()) || seen[static_cast<size_t>(p)]) {
            return fail("Transpose perm " + ints_str(perm) + " is not a permutation of the " +
                        std::to_string(x.size()) + " axes of X " + shape_str(x));
        }
        seen[static_cast<size_t>(p)] = true;
        y[i] = x[static_cast<size_t>(p)];
    }
    return set_single(outputs, std::move(y));
}

} // namespace salus
