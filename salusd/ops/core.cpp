// The ops Salus started with: enough for multilayer perceptrons and their
// training (the optimizers are in ops/loss.cpp). Shape rules: graph/shape_inference.cpp.
#include "graph/shape_inference.h"
#include "ops/op_families.h"

namespace salus {

void add_core_ops(OpList *ops) {
    using T = AttrValue::Type;
    const DTypeSet ints = kIntegerDTypes;
    const DTypeSet any = kAllDTypes;
    const char *math = "Linear algebra and arithmetic";
    const char *act = "Activations";
    const char *loss = "Softmax and losses";
    const char *layout = "Shape and data movement";
    const char *reduce = "Reductions";
    ops->push_back(
        OpDef("MatMul", math)
            .doc("Y = op(A) · op(B) per matrix of the last two axes, op = transpose of those two "
                 "when the flag is 1; op(A) is [..., M,K], op(B) [..., K,N], Y [..., M,N], the "
                 "leading (batch) axes broadcast as numpy's")
            .input("A", kF32Only, "rank >= 2").input("B", kF32Only, "rank >= 2").output("Y")
            .attr_int("transA", 0).attr_int("transB", 0)
            .infer(infer_matmul).build());
    // Arithmetic takes every numeric dtype (A and B of one, which Y takes);
    // integers wrap around on overflow, as numpy and torch.
    const DTypeSet num = kNumericDTypes;
    ops->push_back(OpDef("Add", math).doc("Y = A + B, broadcast; integers wrap around")
                       .input("A", num).input("B", num).output("Y", "A's dtype")
                       .infer(infer_broadcast_binary).build());
    ops->push_back(OpDef("Sub", math).doc("Y = A − B, broadcast; integers wrap around")
                       .input("A", num).input("B", num).output("Y", "A's dtype")
                       .infer(infer_broadcast_binary).build());
    ops->push_back(OpDef("Mul", math).doc("Y = A ⊙ B, broadcast; integers wrap around")
                       .input("A", num).input("B", num).output("Y", "A's dtype")
                       .infer(infer_broadcast_binary).build());
    ops->push_back(OpDef("Relu", act).doc("Y = max(X, 0)").input("X").output("Y")
                       .infer(infer::infer_unary).build());
    ops->push_back(OpDef("ReluGrad", act).doc("dX = dY where X > 0, else 0").input("dY")
                       .input("X").output("dX").infer(infer_relu_grad).build());
    ops->push_back(OpDef("Sigmoid", act).doc("Y = 1 / (1 + e^−X)").input("X").output("Y")
                       .infer(infer::infer_unary).build());
    ops->push_back(OpDef("SigmoidGrad", act)
                       .doc("dX = dY · Y · (1 − Y) (Y is the forward output)")
                       .input("dY").input("Y").output("dX").infer(infer_activation_grad).build());
    ops->push_back(OpDef("Tanh", act).doc("Y = tanh(X)").input("X").output("Y")
                       .infer(infer::infer_unary).build());
    ops->push_back(OpDef("TanhGrad", act).doc("dX = dY · (1 − Y²) (Y is the forward output)")
                       .input("dY").input("Y").output("dX").infer(infer_activation_grad).build());
    const OpSchema softmax = OpDef("Softmax", loss)
                       .doc("softmax along `axis` (negative counts from the end)")
                       .input("X").output("Y").attr_int("axis", -1).infer(infer_softmax).build();
    ops->push_back(softmax);
    ops->push_back(OpDef("SoftmaxGrad", loss).doc("dX = Y ⊙ (dY − Σ_axis(dY ⊙ Y))")
                       .input("dY").input("Y").output("dX").attrs_of(softmax, {"axis"})
                       .infer(infer_softmax_grad).build());
    ops->push_back(
        OpDef("SoftmaxCrossEntropy", loss)
            .doc("loss = mean over N of −Σ_c labels · log_softmax(logits); labels are "
                 "probabilities (one-hot or soft)")
            .input("logits", kF32Only, "[N,C]").input("labels", kF32Only, "[N,C]")
            .output("loss", "scalar []").infer(infer_softmax_cross_entropy).build());
    ops->push_back(OpDef("SoftmaxCrossEntropyGrad", loss)
                       .doc("dLogits = (softmax(logits) − labels) / N, times dLoss when given")
                       .input("logits", kF32Only, "[N,C]").input("labels", kF32Only, "[N,C]")
                       .optional_input("dLoss", kF32Only, "[]").output("dLogits", "[N,C]")
                       .infer(infer_softmax_cross_entropy_grad).build());
    ops->push_back(
        OpDef("OneHot", loss)
            .doc("Y[..., k] = 1 where k is the index, else 0; a negative index counts from the "
                 "end, one outside [−depth, depth) gives a row of zeros (ONNX semantics). "
                 "`SoftmaxCrossEntropy` with integer labels is `OneHot` then "
                 "`SoftmaxCrossEntropy`")
            .input("indices", ints, "any shape").output("Y", "f32, indices.shape + [depth]")
            .required_attr("depth", T::Int, "> 0").infer(infer_one_hot).build());
    ops->push_back(OpDef("ReduceSum", reduce)
                       .doc("sum over the axes (negative counts from the end; each at most once)")
                       .input("X").output("Y").optional_attr("axes", T::Ints, "absent: all")
                       .attr_int("keepdims", 1).infer(infer_reduce).build());
    ops->push_back(OpDef("ReduceMean", reduce).doc("mean over the axes").input("X").output("Y")
                       .optional_attr("axes", T::Ints, "absent: all").attr_int("keepdims", 1)
                       .infer(infer_reduce).build());
    ops->push_back(OpDef("Expand", layout)
                       .doc("broadcast X to `shape` (X must broadcast to it exactly); the "
                            "backward of a reduction")
                       .input("X").output("Y").required_attr("shape", T::Ints)
                       .infer(infer_expand).build());
    ops->push_back(OpDef("Reshape", layout)
                       .doc("same elements, new shape; one −1 is inferred, 0 copies the input's "
                            "dimension at that index")
                       .input("X", any).output("Y", "X's dtype").required_attr("shape", T::Ints)
                       .infer(infer_reshape).build());
    ops->push_back(OpDef("Transpose", layout).doc("Y's axis i is X's axis perm[i]").input("X")
                       .output("Y").optional_attr("perm", T::Ints, "absent: reversed")
                       .infer(infer_transpose).build());
    ops->push_back(OpDef("Identity", layout).doc("Y = X").input("X", any)
                       .output("Y", "X's dtype").infer(infer::infer_unary).build());
}

} // namespace salus
