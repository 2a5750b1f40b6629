#include "ops/conv_window.h"

#include "graph/infer_util.h"

#include <string>

namespace salus {

namespace {

// attr's values, one per spatial axis (`per_axis` of them: 2·rank for pads),
// or `fill` for each when the list is empty.
Status spatial_list(const NodeDesc &node, const char *attr, size_t per_axis, int64_t fill,
                    int64_t min, std::vector<int64_t> *out) {
    const AttrValue *a = node.attr(attr);
    if (a == nullptr || a->ints.empty()) {
        out->assign(per_axis, fill);
        return {};
    }
    if (a->ints.size() != per_axis) {
        return infer::fail(node.op + " " + attr + " " + ints_str(a->ints) + " needs " +
                           std::to_string(per_axis) + " values");
    }
    for (int64_t v : a->ints) {
        if (v < min) {
            return infer::fail(node.op + " " + attr + " " + ints_str(a->ints) +
                               " must be >= " + std::to_string(min));
        }
    }
    *out = a->ints;
    return {};
}

int64_t floor_div(int64_t a, int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

} // namespace

WindowRule pool_rule(const NodeDesc &node) {
    return node.get_int("ceil_mode") == 1 ? WindowRule::Ceil : WindowRule::Floor;
}

Status make_window(const NodeDesc &node, const Shape &x, const std::vector<int64_t> &kernel,
                   WindowRule rule, Window *w) {
    const int rank = static_cast<int>(x.size()) - 2;
    if (rank < 1 || rank > kMaxSpatial) {
        return infer::fail(node.op + " needs X of rank 3 [N, C, L] or 4 [N, C, H, W], got " +
                           shape_str(x));
    }
    if (kernel.size() != static_cast<size_t>(rank)) {
        return infer::fail(node.op + " kernel " + ints_str(kernel) + " needs " +
                           std::to_string(rank) + " sizes for X " + shape_str(x));
    }
    const std::string &auto_pad = node.get_string("auto_pad");
    if (node.attr("auto_pad") != nullptr && auto_pad != "NOTSET") {
        return infer::fail(node.op + " auto_pad \"" + auto_pad +
                           "\" is not supported: give explicit pads (auto_pad NOTSET)");
    }
    const size_t r = static_cast<size_t>(rank);
    std::vector<int64_t> strides, pads, dilations, output_padding;
    SALUS_RETURN_IF_ERROR(spatial_list(node, "strides", r, 1, 1, &strides));
    SALUS_RETURN_IF_ERROR(spatial_list(node, "pads", 2 * r, 0, 0, &pads));
    SALUS_RETURN_IF_ERROR(spatial_list(node, "dilations", r, 1, 1, &dilations));
    if (rule == WindowRule::Transpose) {
        SALUS_RETURN_IF_ERROR(spatial_list(node, "output_padding", r, 0, 0, &output_padding));
    }
    w->rank = rank;
    for (int a = 0; a < rank; ++a) {
        const size_t i = static_cast<size_t>(a);
        if (kernel[i] < 1) {
            return infer::fail(node.op + " kernel " + ints_str(kernel) + " must be positive");
        }
        w->kernel[a] = kernel[i];
        w->stride[a] = strides[i];
        w->dilation[a] = dilations[i];
        w->pad_begin[a] = pads[i];
        w->pad_end[a] = pads[i + r];
        w->in[a] = x[i + 2];
        const int64_t span = w->in[a] + w->pad_begin[a] + w->pad_end[a] - w->extent(a);
        if (rule == WindowRule::Transpose) {
            if (output_padding[i] >= w->stride[a]) {
                return infer::fail(node.op + " output_padding " + ints_str(output_padding) +
                                   " must be smaller than strides " + ints_str(strides));
            }
            w->output_padding[a] = output_padding[i];
            w->out[a] = w->stride[a] * (w->in[a] - 1) + output_padding[i] + w->extent(a) -
                        w->pad_begin[a] - w->pad_end[a];
        } else if (rule == WindowRule::Ceil) {
            w->out[a] = floor_div(span + w->stride[a] - 1, w->stride[a]) + 1;
            // The last window must start inside X or its begin pad.
            if (w->out[a] > 0 && (w->out[a] - 1) * w->stride[a] >= w->in[a] + w->pad_begin[a]) {
                --w->out[a];
            }
        } else {
            w->out[a] = floor_div(span, w->stride[a]) + 1;
        }
        if (w->out[a] < 1) {
            return infer::fail(node.op + " window " + ints_str(kernel) + " (dilations " +
                               ints_str(dilations) + ", pads " + ints_str(pads) +
                               ") does not fit X " + shape_str(x));
        }
    }
    return {};
}

Shape window_output_shape(const Shape &x, int64_t channels, const Window &w) {
    Shape y{x[0], channels};
    for (int a = 0; a < w.rank; ++a) y.push_back(w.out[a]);
    return y;
}

} // namespace salus
