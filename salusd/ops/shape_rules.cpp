#include "ops/shape_rules.h"

#include "graph/infer_util.h"
#include "graph/shape_util.h"

#include <algorithm>
#include <climits>
#include <string>

namespace salus {

using namespace infer;

namespace {

std::string str(int64_t v) {
    return std::to_string(v);
}

// A shape given as the attribute "shape" (the forward input's, for the
// gradient ops): within the rank limit, no negative dimension.
Status shape_attr(const NodeDesc &node, Shape *out) {
    const std::vector<int64_t> &shape = node.get_ints("shape");
    SALUS_RETURN_IF_ERROR(check_attr_rank(node, shape));
    for (int64_t d : shape) {
        if (d < 0) return fail(node.op + " shape " + ints_str(shape) + " has a negative dimension");
    }
    *out = shape;
    return {};
}

// Axes normalized against `rank`, each at most once.
Status axes_list(const NodeDesc &node, const std::vector<int64_t> &axes, size_t rank,
                 const std::string &what, std::vector<int64_t> *out) {
    out->clear();
    for (int64_t a : axes) {
        const int64_t n = normalize_axis(a, rank);
        if (n < 0) {
            return fail(node.op + " axis " + str(a) + " is out of range for " + what);
        }
        if (std::find(out->begin(), out->end(), n) != out->end()) {
            return fail(node.op + " axes " + ints_str(axes) + " name axis " + str(n) + " twice");
        }
        out->push_back(n);
    }
    return {};
}

Status check_rank_at_least_1(const NodeDesc &node, const Shape &x, const char *name) {
    if (x.empty()) return fail(node.op + " needs " + name + " of rank >= 1, got a scalar");
    return {};
}

// Gather's output: data[:axis] + indices + data[axis+1:].
Status gather_shape(const NodeDesc &node, const Shape &data, const Shape &indices, int64_t *axis,
                    Shape *out) {
    SALUS_RETURN_IF_ERROR(check_rank_at_least_1(node, data, "data"));
    SALUS_RETURN_IF_ERROR(axis_attr(node, data, "data", axis));
    out->assign(data.begin(), data.begin() + *axis);
    out->insert(out->end(), indices.begin(), indices.end());
    out->insert(out->end(), data.begin() + *axis + 1, data.end());
    return check_attr_rank(node, *out);
}

// GatherElements' indices against data: one rank; along the other axes at
// most data's extent (torch.gather's rule; ONNX's equal extents are a case).
Status gather_elements_check(const NodeDesc &node, const Shape &data, const Shape &indices,
                             int64_t *axis) {
    SALUS_RETURN_IF_ERROR(check_rank_at_least_1(node, data, "data"));
    SALUS_RETURN_IF_ERROR(axis_attr(node, data, "data", axis));
    if (indices.size() != data.size()) {
        return fail(node.op + " needs indices of data's rank: data " + shape_str(data) +
                    ", indices " + shape_str(indices));
    }
    for (size_t d = 0; d < data.size(); ++d) {
        if (static_cast<int64_t>(d) != *axis && indices[d] > data[d]) {
            return fail(node.op + " indices " + shape_str(indices) + " exceed data " +
                        shape_str(data) + " along axis " + str(static_cast<int64_t>(d)));
        }
    }
    return {};
}

} // namespace

Status slice_ranges(const NodeDesc &node, const Shape &x, SliceRanges *out) {
    const std::vector<int64_t> &starts = node.get_ints("starts");
    const std::vector<int64_t> &ends = node.get_ints("ends");
    const AttrValue *axes_a = node.attr("axes");
    const AttrValue *steps_a = node.attr("steps");
    const size_t n = starts.size();
    if (ends.size() != n) {
        return fail(node.op + " starts " + ints_str(starts) + " and ends " + ints_str(ends) +
                    " differ in length");
    }
    if (axes_a && axes_a->ints.size() != n) {
        return fail(node.op + " axes " + ints_str(axes_a->ints) + " and starts " +
                    ints_str(starts) + " differ in length");
    }
    if (steps_a && steps_a->ints.size() != n) {
        return fail(node.op + " steps " + ints_str(steps_a->ints) + " and starts " +
                    ints_str(starts) + " differ in length");
    }
    if (x.size() > SALUS_MAX_RANK) return fail(node.op + " input rank exceeds the maximum");
    out->rank = static_cast<int>(x.size());
    for (size_t d = 0; d < x.size(); ++d) out->axis[d] = SliceAxis{0, 1, x[d]};
    bool seen[SALUS_MAX_RANK] = {};
    for (size_t i = 0; i < n; ++i) {
        const int64_t raw = axes_a ? axes_a->ints[i] : static_cast<int64_t>(i);
        const int64_t axis = normalize_axis(raw, x.size());
        if (axis < 0) {
            return fail(node.op + " axis " + str(raw) + " is out of range for input " +
                        shape_str(x));
        }
        if (seen[axis]) return fail(node.op + " slices axis " + str(axis) + " twice");
        seen[axis] = true;
        const int64_t step = steps_a ? steps_a->ints[i] : 1;
        if (step == 0) return fail(node.op + " step of axis " + str(axis) + " is 0");
        const int64_t dim = x[axis];
        int64_t start = starts[i] < 0 ? starts[i] + dim : starts[i];
        int64_t end = ends[i] < 0 ? ends[i] + dim : ends[i];
        int64_t count = 0;
        if (step > 0) {
            start = std::clamp<int64_t>(start, 0, dim);
            end = std::clamp<int64_t>(end, 0, dim);
            // (end - start) is at most dim: no overflow.
            if (end > start) count = (end - start - 1) / step + 1;
        } else {
            start = std::clamp<int64_t>(start, 0, dim - 1);
            end = std::clamp<int64_t>(end, -1, dim - 1);
            // -step overflows for INT64_MIN; any stride past dim takes one element.
            const int64_t stride = step == INT64_MIN ? INT64_MAX : -step;
            if (start > end) count = (start - end - 1) / stride + 1;
        }
        out->axis[axis] = SliceAxis{count > 0 ? start : 0, step, count};
    }
    return {};
}

Status infer_concat(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                    std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const Shape &first = shape_of(inputs, 0);
    SALUS_RETURN_IF_ERROR(check_rank_at_least_1(node, first, "inputs"));
    int64_t axis = 0;
    SALUS_RETURN_IF_ERROR(axis_attr(node, first, "input 0", &axis));
    Shape y = first;
    for (size_t i = 1; i < inputs.size(); ++i) {
        const Shape &s = shape_of(inputs, i);
        if (inputs[i].dtype != inputs[0].dtype) {
            return fail(node.op + " input " + str(static_cast<int64_t>(i)) + " is " +
                        dtype_name(inputs[i].dtype) + " but input 0 is " +
                        dtype_name(inputs[0].dtype));
        }
        bool agree = s.size() == first.size();
        for (size_t d = 0; agree && d < s.size(); ++d) {
            agree = static_cast<int64_t>(d) == axis || s[d] == first[d];
        }
        if (!agree) {
            return fail(node.op + " input " + str(static_cast<int64_t>(i)) + " " + shape_str(s) +
                        " does not match input 0 " + shape_str(first) + " outside axis " +
                        str(axis));
        }
        y[axis] += s[axis];
    }
    return set_single(outputs, std::move(y), inputs[0].dtype);
}

Status infer_split(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                   std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    SALUS_RETURN_IF_ERROR(check_rank_at_least_1(node, x, "input"));
    int64_t axis = 0;
    SALUS_RETURN_IF_ERROR(axis_attr(node, x, "input", &axis));
    const int64_t dim = x[axis];
    const AttrValue *split = node.attr("split");
    const AttrValue *num = node.attr("num_outputs");
    if (split && num) return fail(node.op + " takes either split or num_outputs, not both");
    std::vector<int64_t> sizes;
    if (split) {
        sizes = split->ints;
        int64_t total = 0;
        for (int64_t s : sizes) {
            if (s < 0) return fail(node.op + " split " + ints_str(sizes) + " has a negative size");
            total += s;
            if (total > dim) break;
        }
        if (sizes.empty() || total != dim) {
            return fail(node.op + " split " + ints_str(sizes) + " does not sum to " + str(dim) +
                        ", the extent of axis " + str(axis) + " of input " + shape_str(x));
        }
    } else {
        const int64_t n = num ? num->i : static_cast<int64_t>(node.outputs.size());
        if (n < 1 || n > kMaxVariadic) {
            return fail(node.op + " num_outputs " + str(n) + " is outside [1, " +
                        str(kMaxVariadic) + "]");
        }
        // ONNX: equal parts, the last one smaller when the axis does not divide.
        const int64_t part = (dim + n - 1) / n;
        if (part * (n - 1) > dim || (dim > 0 && part * (n - 1) == dim)) {
            return fail(node.op + " cannot split axis " + str(axis) + " of input " + shape_str(x) +
                        " into " + str(n) + " non-empty parts");
        }
        sizes.assign(static_cast<size_t>(n), part);
        sizes.back() = dim - part * (n - 1);
    }
    if (static_cast<int64_t>(sizes.size()) > kMaxVariadic) {
        return fail(node.op + " has more than " + str(kMaxVariadic) + " outputs");
    }
    if (!node.outputs.empty() && node.outputs.size() != sizes.size()) {
        return fail(node.op + " makes " + str(static_cast<int64_t>(sizes.size())) +
                    " outputs but the node has " + str(static_cast<int64_t>(node.outputs.size())));
    }
    outputs->clear();
    for (int64_t s : sizes) {
        Shape y = x;
        y[axis] = s;
        outputs->push_back(OutputInfo{inputs[0].dtype, std::move(y)});
    }
    return {};
}

namespace {

Shape sliced_shape(const SliceRanges &r) {
    Shape y(static_cast<size_t>(r.rank));
    for (int d = 0; d < r.rank; ++d) y[d] = r.axis[d].count;
    return y;
}

} // namespace

Status infer_slice(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                   std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    SALUS_RETURN_IF_ERROR(check_rank_at_least_1(node, x, "data"));
    SliceRanges r;
    SALUS_RETURN_IF_ERROR(slice_ranges(node, x, &r));
    return set_single(outputs, sliced_shape(r), inputs[0].dtype);
}

Status infer_slice_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                        std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    Shape x;
    SALUS_RETURN_IF_ERROR(shape_attr(node, &x));
    SALUS_RETURN_IF_ERROR(check_rank_at_least_1(node, x, "shape"));
    SliceRanges r;
    SALUS_RETURN_IF_ERROR(slice_ranges(node, x, &r));
    const Shape want = sliced_shape(r);
    if (shape_of(inputs, 0) != want) {
        return fail(node.op + " dY " + shape_str(shape_of(inputs, 0)) + " is not the slice " +
                    shape_str(want) + " of shape " + shape_str(x));
    }
    return set_single(outputs, std::move(x));
}

Status infer_squeeze(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                     std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    std::vector<int64_t> axes;
    if (const AttrValue *a = node.attr("axes")) {
        SALUS_RETURN_IF_ERROR(axes_list(node, a->ints, x.size(), "input " + shape_str(x), &axes));
        for (int64_t axis : axes) {
            if (x[axis] != 1) {
                return fail(node.op + " axis " + str(axis) + " of input " + shape_str(x) +
                            " is not of size 1");
            }
        }
    } else {
        for (size_t d = 0; d < x.size(); ++d) {
            if (x[d] == 1) axes.push_back(static_cast<int64_t>(d));
        }
    }
    Shape y;
    for (size_t d = 0; d < x.size(); ++d) {
        if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) == axes.end()) {
            y.push_back(x[d]);
        }
    }
    return set_single(outputs, std::move(y), inputs[0].dtype);
}

Status infer_unsqueeze(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    const std::vector<int64_t> &raw = node.get_ints("axes");
    const size_t rank = x.size() + raw.size();
    if (raw.empty()) return fail(node.op + " axes is empty");
    if (rank > SALUS_MAX_RANK) {
        return fail(node.op + " output rank " + str(static_cast<int64_t>(rank)) +
                    " exceeds the maximum of " + str(SALUS_MAX_RANK));
    }
    std::vector<int64_t> axes;
    SALUS_RETURN_IF_ERROR(
        axes_list(node, raw, rank, "an output of rank " + str(static_cast<int64_t>(rank)), &axes));
    Shape y(rank, 1);
    size_t next = 0;
    for (size_t d = 0; d < rank; ++d) {
        if (std::find(axes.begin(), axes.end(), static_cast<int64_t>(d)) == axes.end()) {
            y[d] = x[next++];
        }
    }
    return set_single(outputs, std::move(y), inputs[0].dtype);
}

Status infer_flatten(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                     std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    const int64_t rank = static_cast<int64_t>(x.size());
    int64_t axis = node.get_int("axis");
    if (axis < -rank || axis > rank) {
        return fail(node.op + " axis " + str(axis) + " is outside [-" + str(rank) + ", " +
                    str(rank) + "] for input " + shape_str(x));
    }
    if (axis < 0) axis += rank;
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < rank; ++d) (d < axis ? outer : inner) *= x[d];
    return set_single(outputs, {outer, inner}, inputs[0].dtype);
}

Status infer_tile(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    const std::vector<int64_t> &repeats = node.get_ints("repeats");
    if (repeats.size() != x.size()) {
        return fail(node.op + " repeats " + ints_str(repeats) +
                    " must have one entry per axis of " + "input " + shape_str(x));
    }
    Shape y = x;
    for (size_t d = 0; d < x.size(); ++d) {
        if (repeats[d] < 0) {
            return fail(node.op + " repeats " + ints_str(repeats) + " has a negative entry");
        }
        if (x[d] > 0 && repeats[d] > INT64_MAX / x[d]) {
            return fail(node.op + " repeats " + ints_str(repeats) + " overflow the output shape");
        }
        y[d] = x[d] * repeats[d];
    }
    int64_t n = 0;
    if (!checked_num_elements(y, &n)) {
        return fail(node.op + " output " + shape_str(y) + " has too many elements");
    }
    return set_single(outputs, std::move(y), inputs[0].dtype);
}

Status infer_tile_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    Shape x;
    SALUS_RETURN_IF_ERROR(shape_attr(node, &x));
    const Shape &dy = shape_of(inputs, 0);
    bool tiles = dy.size() == x.size();
    for (size_t d = 0; tiles && d < x.size(); ++d) {
        tiles = x[d] == 0 ? dy[d] == 0 : dy[d] % x[d] == 0;
    }
    if (!tiles) {
        return fail(node.op + " dY " + shape_str(dy) + " is not a tiling of shape " + shape_str(x));
    }
    return set_single(outputs, std::move(x));
}

Status infer_gather(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                    std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    int64_t axis = 0;
    Shape y;
    SALUS_RETURN_IF_ERROR(gather_shape(node, shape_of(inputs, 0), shape_of(inputs, 1), &axis, &y));
    return set_single(outputs, std::move(y), inputs[0].dtype);
}

Status infer_gather_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                         std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    Shape x;
    SALUS_RETURN_IF_ERROR(shape_attr(node, &x));
    int64_t axis = 0;
    Shape y;
    SALUS_RETURN_IF_ERROR(gather_shape(node, x, shape_of(inputs, 1), &axis, &y));
    if (shape_of(inputs, 0) != y) {
        return fail(node.op + " dY " + shape_str(shape_of(inputs, 0)) + " is not Gather's output " +
                    shape_str(y) + " for shape " + shape_str(x) + " and indices " +
                    shape_str(shape_of(inputs, 1)));
    }
    return set_single(outputs, std::move(x));
}

Status infer_gather_elements(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                             std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    int64_t axis = 0;
    SALUS_RETURN_IF_ERROR(
        gather_elements_check(node, shape_of(inputs, 0), shape_of(inputs, 1), &axis));
    return set_single(outputs, shape_of(inputs, 1), inputs[0].dtype);
}

Status infer_gather_elements_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    Shape x;
    SALUS_RETURN_IF_ERROR(shape_attr(node, &x));
    int64_t axis = 0;
    SALUS_RETURN_IF_ERROR(gather_elements_check(node, x, shape_of(inputs, 1), &axis));
    if (shape_of(inputs, 0) != shape_of(inputs, 1)) {
        return fail(node.op + " needs dY of indices' shape: dY " + shape_str(shape_of(inputs, 0)) +
                    ", indices " + shape_str(shape_of(inputs, 1)));
    }
    return set_single(outputs, std::move(x));
}

Status infer_gemm(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    bool ta = false, tb = false;
    SALUS_RETURN_IF_ERROR(flag_attr(node, "transA", &ta));
    SALUS_RETURN_IF_ERROR(flag_attr(node, "transB", &tb));
    const Shape &a = shape_of(inputs, 0);
    const Shape &b = shape_of(inputs, 1);
    if (a.size() != 2 || b.size() != 2) {
        return fail(node.op + " needs rank-2 A and B: A " + shape_str(a) + ", B " + shape_str(b));
    }
    const int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
    const int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
    if (k != kb) {
        return fail(node.op + " inner dimensions differ: A " + shape_str(a) +
                    " (transA=" + str(ta) + "), B " + shape_str(b) + " (transB=" + str(tb) + ")");
    }
    if (inputs.size() > 2 && !broadcasts_to(shape_of(inputs, 2), {m, n})) {
        return fail(node.op + " C " + shape_str(shape_of(inputs, 2)) + " does not broadcast to " +
                    shape_str({m, n}));
    }
    return set_single(outputs, {m, n});
}

} // namespace salus
