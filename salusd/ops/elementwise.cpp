// The elementwise family: arithmetic, math functions, comparisons, logic,
// casts and activations beyond the MLP set (ONNX opset 17 names, inputs and
// attributes; aten where ONNX has no such op). Each formula is written once,
// in exec/cuda/elementwise_device.h, for both backends.
#include "graph/shape_inference.h"
#include "ops/op_families.h"

#include <string>

namespace salus {

namespace {

using infer::check_inputs;
using infer::fail;
using infer::set_single;
using infer::shape_of;

constexpr DTypeSet kCompared = kNumericDTypes;
constexpr DTypeSet kSelected = kNumericDTypes | kBoolOnly;

Status broadcast_pair(const NodeDesc &node, const std::vector<InputInfo> &inputs, Shape *y) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    if (!broadcast_shapes(shape_of(inputs, 0), shape_of(inputs, 1), y)) {
        return fail(node.op + " inputs do not broadcast: A " + shape_str(shape_of(inputs, 0)) +
                    ", B " + shape_str(shape_of(inputs, 1)));
    }
    return {};
}

// Comparisons: two numbers of one dtype, broadcast, to bool.
Status infer_compare(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                     std::vector<OutputInfo> *outputs) {
    Shape y;
    SALUS_RETURN_IF_ERROR(broadcast_pair(node, inputs, &y));
    if (inputs[0].dtype != inputs[1].dtype) {
        return fail(node.op + " compares inputs of one dtype, got A " +
                    dtype_name(inputs[0].dtype) + " and B " + dtype_name(inputs[1].dtype));
    }
    return set_single(outputs, std::move(y), DType::Bool);
}

Status infer_logic(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                   std::vector<OutputInfo> *outputs) {
    Shape y;
    SALUS_RETURN_IF_ERROR(broadcast_pair(node, inputs, &y));
    return set_single(outputs, std::move(y), DType::Bool);
}

// PRelu: slope broadcasts to X (one way), Y is X's shape.
Status infer_prelu(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                   std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
    const Shape &x = shape_of(inputs, 0), &slope = shape_of(inputs, 1);
    Shape y;
    if (!broadcast_shapes(x, slope, &y) || y != x) {
        return fail(node.op + " slope " + shape_str(slope) + " does not broadcast to X " +
                    shape_str(x));
    }
    return set_single(outputs, x);
}

// PReluGrad(dY, X, slope) -> dX (X's shape), dSlope (slope's shape).
Status infer_prelu_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                        std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
    if (shape_of(inputs, 0) != shape_of(inputs, 1)) {
        return fail(node.op + " needs dY and X of the same shape: dY " +
                    shape_str(shape_of(inputs, 0)) + ", X " + shape_str(shape_of(inputs, 1)));
    }
    const std::vector<InputInfo> forward = {inputs[1], inputs[2]};
    SALUS_RETURN_IF_ERROR(infer_prelu(node, forward, outputs));
    outputs->push_back(OutputInfo{DType::F32, shape_of(inputs, 2)});
    return {};
}

// Clip's and ClipGrad's optional bounds (inputs from `first` on) are scalars.
Status check_bounds(const NodeDesc &node, const std::vector<InputInfo> &inputs, size_t first) {
    static const char *const kNames[] = {"min", "max"};
    for (size_t i = first; i < inputs.size() && i < first + 2; ++i) {
        if (num_elements(shape_of(inputs, i)) != 1) {
            return fail(node.op + " " + kNames[i - first] + " must be a scalar ([] or [1]), got " +
                        shape_str(shape_of(inputs, i)));
        }
    }
    return {};
}

Status infer_clip(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    SALUS_RETURN_IF_ERROR(check_bounds(node, inputs, 1));
    return set_single(outputs, shape_of(inputs, 0));
}

Status infer_clip_grad(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(infer::same_shape_pair(node, inputs, "dY", "X", outputs));
    return check_bounds(node, inputs, 2);
}

// Where(condition, X, Y): all three broadcast; X and Y share a dtype.
Status infer_where(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                   std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 3));
    if (inputs[1].dtype != inputs[2].dtype) {
        return fail(node.op + " needs X and Y of one dtype, got X " + dtype_name(inputs[1].dtype) +
                    " and Y " + dtype_name(inputs[2].dtype));
    }
    Shape xy, y;
    if (!broadcast_shapes(shape_of(inputs, 1), shape_of(inputs, 2), &xy) ||
        !broadcast_shapes(shape_of(inputs, 0), xy, &y)) {
        return fail(node.op + " inputs do not broadcast: condition " +
                    shape_str(shape_of(inputs, 0)) + ", X " + shape_str(shape_of(inputs, 1)) +
                    ", Y " + shape_str(shape_of(inputs, 2)));
    }
    return set_single(outputs, std::move(y), inputs[1].dtype);
}

Status infer_cast(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs) {
    SALUS_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
    const std::string &to = node.get_string("to");
    for (unsigned d = 0; d <= static_cast<unsigned>(kLastDType); ++d) {
        const DType dtype = static_cast<DType>(d);
        if ((kSelected & dtype_bit(dtype)) && to == dtype_name(dtype)) {
            return set_single(outputs, shape_of(inputs, 0), dtype);
        }
    }
    return fail(node.op + " attribute \"to\" must be one of " + dtype_set_str(kSelected) +
                "; got \"" + to + "\"");
}

// An activation (X) or its Grad (dY, X): X's shape. Gelu's "approximate",
// the one attribute with values to check, is checked where present.
Status infer_activation(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                        std::vector<OutputInfo> *outputs) {
    const std::string &approx = node.get_string("approximate");
    if (node.attr("approximate") && approx != "none" && approx != "tanh") {
        return fail(node.op + " attribute \"approximate\" must be \"none\" or \"tanh\", got \"" +
                    approx + "\"");
    }
    return inputs.size() == 1 ? infer::infer_unary(node, inputs, outputs)
                              : infer::same_shape_pair(node, inputs, "dY", "X", outputs);
}

// The attributes of an activation, shared by the op and its Grad.
struct Activation {
    const char *name;
    const char *formula; // of Y
    const char *grad;    // of dX
    void (*attrs)(OpDef *);
};

void no_attrs(OpDef *) {}

} // namespace

void add_elementwise_ops(OpList *ops) {
    using T = AttrValue::Type;
    const char *math = "Linear algebra and arithmetic";
    const char *act = "Activations";
    const char *logic = "Comparisons and logic";

    struct Binary {
        const char *name;
        const char *doc;
    };
    ops->push_back(
        OpDef("Div", math)
            .doc("Y = A / B, broadcast; floats as IEEE (x/0 is ±inf or NaN), integers truncated "
                 "toward zero as ONNX and C (torch's trunc mode), x/0 = 0 and the one overflow, "
                 "MIN / −1, wrapping to MIN")
            .input("A", kNumericDTypes).input("B", kNumericDTypes).output("Y", "A's dtype")
            .infer(infer_broadcast_binary).build());
    for (const Binary &b :
         {Binary{"Pow", "Y = A ^ B, broadcast (`powf`; a negative A with a non-integer B is NaN)"},
          Binary{"Max", "Y = max(A, B), broadcast; NaN if either is (torch.maximum; ONNX's is "
                        "variadic, this takes two)"},
          Binary{"Min", "Y = min(A, B), broadcast; NaN if either is (torch.minimum)"}}) {
        ops->push_back(OpDef(b.name, math).doc(b.doc).input("A").input("B").output("Y")
                           .infer(infer_broadcast_binary).build());
    }

    struct Unary {
        const char *name;
        const char *doc;
    };
    for (const Unary &u : {Unary{"Neg", "Y = −X"}, Unary{"Abs", "Y = abs(X)"},
                           Unary{"Sign", "Y = −1, 0 or 1 by the sign of X (0 for NaN, as torch)"},
                           Unary{"Exp", "Y = e^X"}, Unary{"Log", "Y = ln X (NaN below 0)"},
                           Unary{"Sqrt", "Y = √X (NaN below 0)"}, Unary{"Reciprocal", "Y = 1 / X"},
                           Unary{"Rsqrt", "Y = 1 / √X (aten rsqrt)"},
                           Unary{"Erf", "Y = erf(X), the Gauss error function"},
                           Unary{"Sin", "Y = sin X (radians)"},
                           Unary{"Cos", "Y = cos X (radians)"}}) {
        ops->push_back(OpDef(u.name, math).doc(u.doc).input("X").output("Y")
                           .infer(infer::infer_unary).build());
    }

    ops->push_back(
        OpDef("Clip", math)
            .doc("Y = min(max(X, min), max) (ONNX 17: bounds are optional scalar inputs; an absent "
                 "one does not bound; min > max gives max, as torch.clamp; NaN stays NaN)")
            .input("X").optional_input("min", kF32Only, "[] or [1]")
            .optional_input("max", kF32Only, "[] or [1]").output("Y").infer(infer_clip).build());
    ops->push_back(OpDef("ClipGrad", math)
                       .doc("dX = dY where min ≤ X ≤ max, else 0 (torch.clamp's backward)")
                       .input("dY").input("X").optional_input("min", kF32Only, "[] or [1]")
                       .optional_input("max", kF32Only, "[] or [1]").output("dX")
                       .infer(infer_clip_grad).build());
    ops->push_back(
        OpDef("Where", logic)
            .doc("output = X where condition, else Y, all three broadcast (numpy.where); X and Y "
                 "of one dtype, which the output takes")
            .input("condition", kBoolOnly).input("X", kSelected).input("Y", kSelected)
            .output("output", "X's dtype").infer(infer_where).build());

    struct Compare {
        const char *name;
        const char *relation;
    };
    for (const Compare &c : {Compare{"Equal", "A = B"}, Compare{"Less", "A < B"},
                             Compare{"LessOrEqual", "A ≤ B"}, Compare{"Greater", "A > B"},
                             Compare{"GreaterOrEqual", "A ≥ B"}}) {
        ops->push_back(OpDef(c.name, logic)
                           .doc(std::string("Y = (") + c.relation +
                                "), broadcast; A and B of one numeric dtype")
                           .input("A", kCompared).input("B", kCompared).output("Y", "bool")
                           .infer(infer_compare).build());
    }
    ops->push_back(OpDef("Not", logic).doc("Y = not X").input("X", kBoolOnly)
                       .output("Y", "bool").infer(infer::infer_unary).build());
    for (const Compare &c : {Compare{"And", "A and B"}, Compare{"Or", "A or B"},
                             Compare{"Xor", "A xor B"}}) {
        ops->push_back(OpDef(c.name, logic).doc(std::string("Y = (") + c.relation + "), broadcast")
                           .input("A", kBoolOnly).input("B", kBoolOnly).output("Y", "bool")
                           .infer(infer_logic).build());
    }
    ops->push_back(
        OpDef("Cast", logic)
            .doc("Y = X converted to the dtype `to`, between f32, f64, i32, i64 and bool: a float "
                 "becomes an integer by truncation toward zero (out of range or NaN is "
                 "undefined), anything becomes bool as ≠ 0, bool becomes 0 or 1")
            .input("X", kSelected).output("Y", "the dtype `to`")
            .required_attr("to", T::String, "f32, f64, i32, i64 or bool").infer(infer_cast)
            .build());

    ops->push_back(
        OpDef("PRelu", act)
            .doc("Y = X if X ≥ 0, else slope · X; slope broadcasts to X (one per channel: [C, 1, "
                 "1] against [N, C, H, W])")
            .input("X").input("slope").output("Y", "X's shape").infer(infer_prelu).build());
    ops->push_back(OpDef("PReluGrad", act)
                       .doc("dX = dY where X ≥ 0, else slope · dY; dSlope = Σ dY · X over the "
                            "elements where X < 0 that read each slope element")
                       .input("dY").input("X").input("slope").output("dX", "X's shape")
                       .output("dSlope", "slope's shape").infer(infer_prelu_grad).build());

    static const Activation kActivations[] = {
        {"LeakyRelu", "Y = X if X > 0, else alpha · X", "dX = dY if X > 0, else alpha · dY",
         [](OpDef *d) { d->attr_float("alpha", 0.01); }},
        {"Elu", "Y = X if X > 0, else alpha · (e^X − 1)", "dX = dY if X > 0, else dY · alpha · e^X",
         [](OpDef *d) { d->attr_float("alpha", 1.0); }},
        {"Selu", "Y = gamma · (X if X > 0, else alpha · (e^X − 1)) (ONNX's constants)",
         "dX = gamma · dY if X > 0, else dY · gamma · alpha · e^X",
         [](OpDef *d) {
             d->attr_float("alpha", 1.67326319217681884765625)
                 .attr_float("gamma", 1.05070102214813232421875);
         }},
        {"Softplus", "Y = ln(1 + e^X) (X itself above 20, as torch)",
         "dX = dY · sigmoid(X)", no_attrs},
        {"Gelu",
         "Y = X · Φ(X) (approximate \"none\"), or 0.5 · X · (1 + tanh(√(2/π) · (X + 0.044715 · "
         "X³))) (\"tanh\"), as ONNX 20 and torch",
         "dX = dY · dGelu/dX, either variant",
         [](OpDef *d) { d->attr_string("approximate", "none", "\"none\" or \"tanh\""); }},
        {"Silu", "Y = X · sigmoid(X) (aten silu, Swish)", "dX = dY · s · (1 + X · (1 − s)), s = "
                                                          "sigmoid(X)",
         no_attrs},
        {"HardSigmoid",
         "Y = max(0, min(1, alpha · X + beta)) (ONNX's defaults; torch's hardsigmoid is alpha = "
         "1/6)",
         "dX = alpha · dY where 0 < alpha · X + beta < 1, else 0",
         [](OpDef *d) { d->attr_float("alpha", 0.2).attr_float("beta", 0.5); }},
        {"HardSwish", "Y = X · min(max(X + 3, 0), 6) / 6",
         "dX = 0 below −3, dY · (X/3 + 1/2) up to 3, dY above", no_attrs},
    };
    for (const Activation &a : kActivations) {
        OpDef fwd(a.name, act);
        fwd.doc(a.formula).input("X").output("Y");
        a.attrs(&fwd);
        ops->push_back(fwd.infer(infer_activation).build());
        OpDef bwd(std::string(a.name) + "Grad", act);
        bwd.doc(std::string(a.grad) + " (X is the forward input)").input("dY").input("X")
            .output("dX");
        a.attrs(&bwd);
        ops->push_back(bwd.infer(infer_activation).build());
    }
}

} // namespace salus
