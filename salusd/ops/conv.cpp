// The conv family: convolution, pooling, padding and resampling. Window
// geometry (strides, pads, dilations, output sizes): ops/conv_window.h;
// shape rules: ops/conv_infer.cpp.
#include "ops/conv_infer.h"
#include "ops/op_families.h"

namespace salus {

namespace {

const char *kConv = "Convolution and pooling";
const char *kResample = "Padding and resampling";

// The attributes every sliding window shares (ONNX names and defaults).
OpDef &window_attrs(OpDef &def, bool dilations) {
    def.attr_string("auto_pad", "NOTSET", "only NOTSET: pads are explicit")
        .attr_ints("strides", {}, "one per spatial axis; empty: 1 each")
        .attr_ints("pads", {},
                   "[begin..., end...] per spatial axis, >= 0, may be asymmetric; empty: 0");
    if (dilations) def.attr_ints("dilations", {}, "one per spatial axis; empty: 1 each");
    return def;
}

OpDef conv_def(const char *name, const char *doc) {
    OpDef def(name, kConv);
    def.doc(doc);
    return def;
}

void add_convolutions(OpList *ops) {
    using T = AttrValue::Type;
    OpDef conv = conv_def(
        "Conv", "Y = X ⋆ W + B, 1-D or 2-D cross-correlation in groups (ONNX Conv): X [N, C, "
                "spatial...], W [M, C/group, k...], Y [N, M, out...] with out = ⌊(in + pads − "
                "dilation·(k−1) − 1) / stride⌋ + 1; group = C = M is depthwise");
    conv.input("X").input("W", kF32Only, "[M, C/group, k...]")
        .optional_input("B", kF32Only, "[M]").output("Y")
        .attr_int("group", 1, "divides C and M")
        .optional_attr("kernel_shape", T::Ints, "checked against W when given");
    const OpSchema forward = window_attrs(conv, true).infer(infer_conv).build();
    ops->push_back(forward);

    OpDef tconv = conv_def(
        "ConvTranspose",
        "the transpose of Conv (ONNX ConvTranspose, the data gradient of Conv): X [N, C, "
        "spatial...], W [C, M/group, k...], Y [N, M, out...] with out = stride·(in − 1) + "
        "output_padding + dilation·(k−1) + 1 − pads");
    tconv.input("X").input("W", kF32Only, "[C, M/group, k...]")
        .optional_input("B", kF32Only, "[M]").output("Y")
        .attrs_of(forward, {"group", "kernel_shape"})
        .attr_ints("output_padding", {}, "added at the end of each spatial axis, < stride; "
                                         "empty: 0");
    ops->push_back(window_attrs(tconv, true).infer(infer_conv_transpose).build());

    OpDef gw = conv_def(
        "ConvGradWeight",
        "the gradients of Conv's W and B from dY and X: dW [M, C/group, k...] = Σ over N and "
        "positions of dY ⊗ X's windows; dB [M] = Σ of dY over N and positions (computed only "
        "when the node has that output). Also ConvTranspose's weight gradient with dY and X "
        "swapped");
    gw.input("dY", kF32Only, "[N, M, out...]").input("X", kF32Only, "[N, C, in...]")
        .output("dW").optional_output("dB")
        .required_attr("kernel_shape", T::Ints, "W's spatial sizes")
        .attrs_of(forward, {"group"});
    ops->push_back(window_attrs(gw, true).infer(infer_conv_grad_weight).build());
}

void add_pools(OpList *ops) {
    using T = AttrValue::Type;
    OpDef mp = conv_def("MaxPool",
                        "Y = the maximum over each window, 1-D or 2-D (ONNX MaxPool; padding "
                        "never wins); Indices (i64, when the node has that output) is the flat "
                        "position in X of each maximum, the first one on ties");
    mp.input("X").output("Y").optional_output("Indices", "i64, Y's shape")
        .required_attr("kernel_shape", T::Ints, "one per spatial axis")
        .attr_int("ceil_mode", 0, "1: output sizes rounded up")
        .attr_int("storage_order", 0, "only 0 (row-major indices)");
    const OpSchema max_pool = window_attrs(mp, true).infer(infer_max_pool).build();
    ops->push_back(max_pool);

    OpDef mpg = conv_def("MaxPoolGrad",
                         "dX: each dY added at the position of its window's maximum in X "
                         "(found again as MaxPool finds it)");
    mpg.input("dY").input("X").output("dX").attrs_of(max_pool, {"kernel_shape", "ceil_mode"});
    ops->push_back(window_attrs(mpg, true).infer(infer_pool_grad).build());

    OpDef ap = conv_def("AveragePool",
                        "Y = the mean over each window, 1-D or 2-D (ONNX AveragePool); the "
                        "divisor counts the pads when count_include_pad is 1 (never the part "
                        "of a ceil_mode window past the end pad), else X's elements only");
    ap.input("X").output("Y").attrs_of(max_pool, {"kernel_shape", "ceil_mode"})
        .attr_int("count_include_pad", 0, "1: pads count in the divisor");
    const OpSchema average_pool = window_attrs(ap, false).infer(infer_average_pool).build();
    ops->push_back(average_pool);

    OpDef apg = conv_def("AveragePoolGrad",
                         "dX: each dY spread evenly over its window's elements of X, with "
                         "AveragePool's divisor");
    apg.input("dY").input("X").output("dX")
        .attrs_of(average_pool, {"kernel_shape", "ceil_mode", "count_include_pad"});
    ops->push_back(window_attrs(apg, false).infer(infer_pool_grad).build());

    ops->push_back(OpDef("GlobalAveragePool", kConv)
                       .doc("Y [N, C, 1...] = the mean of X [N, C, spatial...] over its "
                            "spatial axes (adaptive average pooling to 1); its gradient is "
                            "Expand and Mul")
                       .input("X").output("Y").infer(infer_global_average_pool).build());
}

void add_resampling(OpList *ops) {
    using T = AttrValue::Type;
    const char *mode_doc = "constant (value), reflect (mirror without the edge) or edge";
    const OpSchema pad =
        OpDef("Pad", kResample)
            .doc("Y = X with pads[i] elements before and pads[rank + i] after axis i (ONNX "
                 "Pad with pads as an attribute, as Pad-2): constant fills `value`, reflect "
                 "mirrors X without repeating its edge (pads < the axis size), edge repeats "
                 "the edge")
            .input("X").output("Y")
            .required_attr("pads", T::Ints, "[begin..., end...], 2·rank values >= 0")
            .attr_string("mode", "constant", mode_doc)
            .attr_float("value", 0.0, "the constant of mode constant")
            .infer(infer_pad).build();
    ops->push_back(pad);
    ops->push_back(OpDef("PadGrad", kResample)
                       .doc("dX = the gradient of Pad: dY cropped (constant), plus the "
                            "mirrored or repeated positions added back (reflect, edge)")
                       .input("dY").output("dX")
                       .required_attr("pads", T::Ints, "Pad's pads")
                       .attrs_of(pad, {"mode"})
                       .infer(infer_pad_grad).build());
    ops->push_back(
        OpDef("DepthToSpace", kResample)
            .doc("Y [N, C/b², H·b, W·b] from X [N, C, H, W], b = blocksize (ONNX "
                 "DepthToSpace): mode DCR takes channel (i·b + j)·C/b² + c for block "
                 "position (i, j) of Y's channel c, mode CRD (PixelShuffle) channel c·b² + "
                 "i·b + j")
            .input("X").output("Y").required_attr("blocksize", T::Int, "> 0")
            .attr_string("mode", "DCR", "DCR or CRD").infer(infer_depth_to_space).build());
    ops->push_back(
        OpDef("SpaceToDepth", kResample)
            .doc("the inverse of DepthToSpace with the same mode, X [N, C, H, W] to Y [N, "
                 "C·b², H/b, W/b] (ONNX SpaceToDepth is mode DCR); DepthToSpace's gradient")
            .input("X").output("Y").required_attr("blocksize", T::Int, "> 0, divides H and W")
            .attr_string("mode", "DCR", "DCR or CRD").infer(infer_space_to_depth).build());
    const OpSchema upsample =
        OpDef("Upsample", kResample)
            .doc("nearest-neighbour upsampling by integer factors (ONNX Upsample/Resize mode "
                 "nearest with integer scales): Y[i...] = X[i / scales...], Y's axis k is "
                 "X's times scales[k]")
            .input("X").output("Y")
            .required_attr("scales", T::Ints, "one per axis of X, >= 1 (1 for N and C)")
            .attr_string("mode", "nearest", "only nearest").infer(infer_upsample).build();
    ops->push_back(upsample);
    ops->push_back(OpDef("UpsampleGrad", kResample)
                       .doc("dX = the sum of dY over each block of scales copies: the "
                            "gradient of Upsample")
                       .input("dY").output("dX")
                       .required_attr("scales", T::Ints, "Upsample's scales, dividing dY")
                       .attrs_of(upsample, {"mode"})
                       .infer(infer_upsample_grad).build());
}

} // namespace

void add_conv_ops(OpList *ops) {
    add_convolutions(ops);
    add_pools(ops);
    add_resampling(ops);
}

} // namespace salus
