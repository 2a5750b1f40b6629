#include "ops/conv_infer.h"

#include "ops/conv_window.h"

#include <string>

namespace salus {

namespace {

using infer::fail;
using infer::shape_of;

std::string dim(int64_t v) {
    return std::to_string(v);
}

// W's spatial sizes, checked against the optional kernel_shape attribute.
Status weight_kernel(const NodeDesc &node, const Shape &x, const Shape &w,
                     std::vector<int64_t> *kernel) {
    if (w.size() != x.size()) {
        return fail(node.op + " needs W of X's rank " + dim(static_cast<int64_t>(x.size())) +
                    ", got W " + shape_str(w) + " for X " + shape_str(x));
    }
    kernel->assign(w.begin() + 2, w.end());
    const AttrValue *ks = node.attr("kernel_shape");
    if (ks != nullptr && ks->ints != *kernel) {
        return fail(node.op + " kernel_shape " + ints_str(ks->ints) + " differs from W " +
                    shape_str(w));
    }
    return {};
}

Status check_group(const NodeDesc &node, int64_t group, int64_t in_ch, int64_t out_ch) {
    if (group < 1) return fail(node.op + " group " + dim(group) + " must be positive");
    if (in_ch % group != 0 || out_ch % group != 0) {
        return fail(node.op + " group " + dim(group) + " must divide the input channels " +
                    dim(in_ch) + " and the output channels " + dim(out_ch));
    }
    return {};
}

Status check_bias(const NodeDesc &node, const std::vector<InputInfo> &inputs, int64_t m) {
    if (inputs.size() < 3) return {};
    const Shape &b = shape_of(inputs, 2);
    if (b != Shape{m}) {
        return fail(node.op + " needs B [" + dim(m) + "] (one per output channel), got " +
                    shape_str(b));
    }
    return {};
}

Status check_pool_pads(const NodeDesc &node, const Window &w) {
    for (int a = 0; a < w.rank; ++a) {
        if (w.pad_begin[a] >= w.extent(a) || w.pad_end[a] >= w.extent(a)) {
            return fail(node.op + " pads " + ints_str(node.get_ints("pads")) +
                        " must be smaller than the window " +
                        ints_str(node.get_ints("kernel_shape")));
        }
    }
    return {};
}

Status pool_window(const NodeDesc &node, const Shape &x, Window *w) {
    if (node.attr("storage_order") != nullptr && node.get_int("storage_order") != 0) {
        return fail(node.op + " storage_order " + dim(node.get_int("storage_order")) +
                    " is not supported: only 0");
    }
    bool flag = false;
    SALUS_RETURN_IF_ERROR(infer::flag_attr(node, "ceil_mode", &flag));
    if (node.attr("count_include_pad") != nullptr) {
        SALUS_RETURN_IF_ERROR(infer::flag_attr(node, "count_include_pad", &flag));
    }
    SALUS_RETURN_IF_ERROR(make_window(node, x, node.get_ints("kernel_shape"), pool_rule(node), w));
    return check_pool_pads(node, *w);
}

Status block_attrs(const NodeDesc &node, const Shape &x, int64_t *b) {
    if (x.size() != 4) return fail(node.op + " needs X [N, C, H, W], got " + shape_str(x));
    *b = node.get_int("blocksize");
    if (*b < 1) return fail(node.op + " blocksize " + dim(*b) + " must be positive");
    const std::string &mode = node.get_string("mode");
    if (mode != "DCR" && mode != "CRD") {
        return fail(node.op + " mode \"" + mode + "\" must be DCR or CRD");
    }
    return {};
}

Status pad_attrs(const NodeDesc &node, const Shape &x, const char *x_name) {
    const std::vector<int64_t> &pads = node.get_ints("pads");
    if (pads.size() != 2 * x.size()) {
        return fail(node.op + " pads " + ints_str(pads) + " needs " +
                    dim(static_cast<int64_t>(2 * x.size())) + " values for " + x_name + " " +
                    shape_str(x));
    }
    for (int64_t p : pads) {
        if (p < 0) return fail(node.op + " pads " + ints_str(pads) + " must be >= 0");
    }
    const std::string &mode = node.get_string("mode");
    if (mode != "constant" && mode != "reflect" && mode != "edge") {
        return fail(node.op + " mode \"" + mode + "\" must be constant, reflect or edge");
    }
    return {};
}

// Pad's input and output sizes of axis i must allow the mode.
Status pad_fits(const NodeDesc &node, int64_t in, size_t i, size_t rank) {
    const std::vector<int64_t> &pads = node.get_ints("pads");
    const std::string &mode = node.get_string("mode");
    const int64_t before = pads[i], after = pads[i + rank];
    if (mode == "reflect" && (before >= in || after >= in)) {
        return fail(node.op + " mode reflect needs pads " + ints_str(pads) +
                    " smaller than the padded axis " + dim(static_cast<int64_t>(i)) + " (" +
                    dim(in) + ")");
    }
    if (mode == "edge" && in == 0 && before + after > 0) {
        return fail(node.op + " mode edge cannot pad the empty axis " +
                    dim(static_cast<int64_t>(i)));
    }
    return {};
}

Status scales_attr(const NodeDesc &node, const Shape &x, const char *x_name) {
    const std::vector<int64_t> &scales = node.get_ints("scales");
    if (scales.size() != x.size()) {
        return fail(node.op + " scales " + ints_str(scales) + " needs one value per axis of " +
                    x_name + " " + shape_str(x));
    }
    for (int64_t s : scales) {
        if (s < 1) return fail(node.op + " scales " + ints_str(scales) + " must be >= 1");
    }
    if (node.get_string("mode") != "nearest") {
        return fail(node.op + " mode \"" + node.get_string("mode") + "\" must be nearest");
    }
    return {};
}

} // namespace

Status infer_conv(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 2));
    const Shape &x = shape_of(inputs, 0), &w = shape_of(inputs, 1);
    std::vector<int64_t> kernel;
    SALUS_RETURN_IF_ERROR(weight_kernel(node, x, w, &kernel));
    Window win;
    SALUS_RETURN_IF_ERROR(make_window(node, x, kernel, WindowRule::Floor, &win));
    const int64_t group = node.get_int("group");
    SALUS_RETURN_IF_ERROR(check_group(node, group, x[1], w[0]));
    if (w[1] * group != x[1]) {
        return fail(node.op + " needs W [M, C/group, k...] with C/group = " + dim(x[1] / group) +
                    " for X " + shape_str(x) + " and group " + dim(group) + ", got W " +
                    shape_str(w));
    }
    SALUS_RETURN_IF_ERROR(check_bias(node, inputs, w[0]));
    return infer::set_single(outputs, window_output_shape(x, w[0], win));
}

Status infer_conv_transpose(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                            std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 2));
    const Shape &x = shape_of(inputs, 0), &w = shape_of(inputs, 1);
    std::vector<int64_t> kernel;
    SALUS_RETURN_IF_ERROR(weight_kernel(node, x, w, &kernel));
    Window win;
    SALUS_RETURN_IF_ERROR(make_window(node, x, kernel, WindowRule::Transpose, &win));
    const int64_t group = node.get_int("group");
    if (w[0] != x[1]) {
        return fail(node.op + " needs W [C, M/group, k...] with C = " + dim(x[1]) + " for X " +
                    shape_str(x) + ", got W " + shape_str(w));
    }
    const int64_t m = w[1] * group;
    SALUS_RETURN_IF_ERROR(check_group(node, group, x[1], m));
    SALUS_RETURN_IF_ERROR(check_bias(node, inputs, m));
    return infer::set_single(outputs, window_output_shape(x, m, win));
}

Status infer_conv_grad_weight(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                              std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 2));
    const Shape &dy = shape_of(inputs, 0), &x = shape_of(inputs, 1);
    Window win;
    SALUS_RETURN_IF_ERROR(
        make_window(node, x, node.get_ints("kernel_shape"), WindowRule::Floor, &win));
    const int64_t group = node.get_int("group");
    if (dy.size() != x.size()) {
        return fail(node.op + " needs dY of X's rank, got dY " + shape_str(dy) + " for X " +
                    shape_str(x));
    }
    SALUS_RETURN_IF_ERROR(check_group(node, group, x[1], dy[1]));
    const Shape want = window_output_shape(x, dy[1], win);
    if (dy != want) {
        return fail(node.op + " needs dY " + shape_str(want) + " (Conv's output for X " +
                    shape_str(x) + "), got " + shape_str(dy));
    }
    Shape dw{dy[1], x[1] / group};
    for (int a = 0; a < win.rank; ++a) dw.push_back(win.kernel[a]);
    outputs->assign(1, OutputInfo{DType::F32, dw});
    if (node.outputs.size() > 1) outputs->push_back(OutputInfo{DType::F32, Shape{dy[1]}});
    return {};
}

Status infer_max_pool(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                      std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    Window win;
    SALUS_RETURN_IF_ERROR(pool_window(node, x, &win));
    const Shape y = window_output_shape(x, x[1], win);
    outputs->assign(1, OutputInfo{DType::F32, y});
    if (node.outputs.size() > 1) outputs->push_back(OutputInfo{DType::I64, y});
    return {};
}

Status infer_average_pool(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                          std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    Window win;
    SALUS_RETURN_IF_ERROR(pool_window(node, x, &win));
    return infer::set_single(outputs, window_output_shape(x, x[1], win));
}

Status infer_pool_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 2));
    const Shape &dy = shape_of(inputs, 0), &x = shape_of(inputs, 1);
    Window win;
    SALUS_RETURN_IF_ERROR(pool_window(node, x, &win));
    const Shape want = window_output_shape(x, x[1], win);
    if (dy != want) {
        return fail(node.op + " needs dY " + shape_str(want) + " (the pooled shape of X " +
                    shape_str(x) + "), got " + shape_str(dy));
    }
    return infer::set_single(outputs, x);
}

Status infer_global_average_pool(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                                 std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    if (x.size() < 3) {
        return fail(node.op + " needs X [N, C, spatial...] of rank >= 3, got " + shape_str(x));
    }
    Shape y = x;
    for (size_t i = 2; i < y.size(); ++i) {
        if (x[i] == 0) return fail(node.op + " cannot average the empty X " + shape_str(x));
        y[i] = 1;
    }
    return infer::set_single(outputs, y);
}

Status infer_pad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                 std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    SALUS_RETURN_IF_ERROR(pad_attrs(node, x, "X"));
    const std::vector<int64_t> &pads = node.get_ints("pads");
    Shape y = x;
    for (size_t i = 0; i < x.size(); ++i) {
        SALUS_RETURN_IF_ERROR(pad_fits(node, x[i], i, x.size()));
        y[i] += pads[i] + pads[i + x.size()];
    }
    return infer::set_single(outputs, y);
}

Status infer_pad_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                      std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 1));
    const Shape &dy = shape_of(inputs, 0);
    SALUS_RETURN_IF_ERROR(pad_attrs(node, dy, "dY"));
    const std::vector<int64_t> &pads = node.get_ints("pads");
    Shape dx = dy;
    for (size_t i = 0; i < dy.size(); ++i) {
        dx[i] -= pads[i] + pads[i + dy.size()];
        if (dx[i] < 0) {
            return fail(node.op + " pads " + ints_str(pads) + " exceed dY " + shape_str(dy));
        }
        SALUS_RETURN_IF_ERROR(pad_fits(node, dx[i], i, dy.size()));
    }
    return infer::set_single(outputs, dx);
}

Status infer_depth_to_space(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                            std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    int64_t b = 0;
    SALUS_RETURN_IF_ERROR(block_attrs(node, x, &b));
    if (x[1] % (b * b) != 0) {
        return fail(node.op + " needs channels divisible by blocksize² = " + dim(b * b) +
                    ", got X " + shape_str(x));
    }
    return infer::set_single(outputs, Shape{x[0], x[1] / (b * b), x[2] * b, x[3] * b});
}

Status infer_space_to_depth(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                            std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    int64_t b = 0;
    SALUS_RETURN_IF_ERROR(block_attrs(node, x, &b));
    if (x[2] % b != 0 || x[3] % b != 0) {
        return fail(node.op + " needs H and W divisible by blocksize " + dim(b) + ", got X " +
                    shape_str(x));
    }
    return infer::set_single(outputs, Shape{x[0], x[1] * b * b, x[2] / b, x[3] / b});
}

Status infer_upsample(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                      std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 1));
    const Shape &x = shape_of(inputs, 0);
    SALUS_RETURN_IF_ERROR(scales_attr(node, x, "X"));
    Shape y = x;
    for (size_t i = 0; i < x.size(); ++i) y[i] *= node.get_ints("scales")[i];
    return infer::set_single(outputs, y);
}

Status infer_upsample_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                           std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::check_inputs(node, inputs, 1));
    const Shape &dy = shape_of(inputs, 0);
    SALUS_RETURN_IF_ERROR(scales_attr(node, dy, "dY"));
    const std::vector<int64_t> &scales = node.get_ints("scales");
    Shape dx = dy;
    for (size_t i = 0; i < dy.size(); ++i) {
        if (dy[i] % scales[i] != 0) {
            return fail(node.op + " scales " + ints_str(scales) + " must divide dY " +
                        shape_str(dy));
        }
        dx[i] /= scales[i];
    }
    return infer::set_single(outputs, dx);
}

} // namespace salus
