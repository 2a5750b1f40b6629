// The loss family: reductions beyond sums and means, log-softmax, losses with
// integer labels, and the optimizers. Shape rules: ops/loss_infer.cpp.
#include "graph/shape_inference.h"
#include "ops/loss_infer.h"
#include "ops/op_families.h"

namespace salus {

namespace {

using T = AttrValue::Type;

const char *const kReduce = "Reductions";
const char *const kLoss = "Softmax and losses";
const char *const kOptim = "Optimizers";

void add_reductions(OpList *ops) {
    for (const char *which : {"Max", "Min"}) {
        const std::string lower = which == std::string("Max") ? "max" : "min";
        const OpSchema forward = OpDef(std::string("Reduce") + which, kReduce)
                                     .doc(lower +
                                          " over the axes (negative counts from the end; each "
                                          "at most once), as ONNX Reduce" +
                                          which + " and `torch.a" + lower + "`")
                                     .input("X")
                                     .output("Y")
                                     .optional_attr("axes", T::Ints, "absent or empty: all")
                                     .attr_int("keepdims", 1)
                                     .infer(loss_infer::reduce_extremum)
                                     .build();
        ops->push_back(forward);
        ops->push_back(
            OpDef(std::string("Reduce") + which + "Grad", kReduce)
                .doc("the backward of Reduce" + std::string(which) +
                     " (same attributes): dX = dY / k where X equals Y, else 0, k being the "
                     "number of elements equal to Y in that reduced group (ties share the "
                     "gradient evenly, as `torch.a" +
                     lower + "`)")
                .input("dY", kF32Only, "Y's shape")
                .input("X")
                .input("Y", kF32Only, "the forward output")
                .output("dX", "X's shape")
                .attrs_of(forward, {"axes", "keepdims"})
                .infer(loss_infer::reduce_extremum_grad)
                .build());
    }
    for (const char *which : {"Max", "Min"}) {
        const std::string lower = which == std::string("Max") ? "max" : "min";
        ops->push_back(
            OpDef(std::string("Arg") + which, kReduce)
                .doc("the index of the " + lower + " along `axis` (ONNX Arg" + which +
                     "); among equal values the first, or the last with `select_last_index` 1")
                .input("X")
                .output("Y", "i64")
                .attr_int("axis", 0, "negative counts from the end")
                .attr_int("keepdims", 1, "1 keeps the axis as size 1")
                .attr_int("select_last_index", 0)
                .infer(loss_infer::arg_extremum)
                .build());
    }
}

void add_losses(OpList *ops) {
    const DTypeSet ints = kIntegerDTypes;
    const OpSchema log_softmax =
        OpDef("LogSoftmax", kLoss)
            .doc("Y = X − max − log Σ_axis e^(X − max): log of softmax along `axis`, computed "
                 "without overflow")
            .input("X")
            .output("Y")
            .attr_int("axis", -1)
            .infer(infer_softmax)
            .build();
    ops->push_back(log_softmax);
    ops->push_back(OpDef("LogSoftmaxGrad", kLoss)
                       .doc("dX = dY − e^Y · Σ_axis dY (Y is the forward output)")
                       .input("dY")
                       .input("Y")
                       .output("dX")
                       .attrs_of(log_softmax, {"axis"})
                       .infer(infer_softmax_grad)
                       .build());
    const char *reduction_doc = "\"mean\" (Σ loss / Σ weight of the counted targets), \"sum\" "
                                "or \"none\" (loss per target)";
    const char *ignore_doc = "absent: every target counts; targets equal to it add nothing";
    const OpSchema nll =
        OpDef("NegativeLogLikelihoodLoss", kLoss)
            .doc("loss = −weight[t] · input[n, t, d…] per target t = target[n, d…] (ONNX): "
                 "input holds log-probabilities [N, C] or [N, C, d1, …]. A target outside [0, C) "
                 "that is not `ignore_index` fails the iteration (SALUS_EEXEC naming the label)")
            .input("input", kF32Only, "[N, C] or [N, C, d1, …]")
            .input("target", ints, "[N] or [N, d1, …]")
            .optional_input("weight", kF32Only, "[C]")
            .output("loss", "[] or, with reduction \"none\", target's shape")
            .attr_string("reduction", "mean", reduction_doc)
            .optional_attr("ignore_index", T::Int, ignore_doc)
            .infer(loss_infer::nll_loss)
            .build();
    ops->push_back(nll);
    ops->push_back(
        OpDef("NegativeLogLikelihoodLossGrad", kLoss)
            .doc("dInput of NegativeLogLikelihoodLoss (same attributes): −weight[t] · dLoss (÷ "
                 "Σ weight for \"mean\") at each target, 0 elsewhere")
            .input("dLoss", kF32Only, "the loss's shape")
            .input("input", kF32Only, "only its shape is read")
            .input("target", ints)
            .optional_input("weight", kF32Only, "[C]")
            .output("dInput", "input's shape")
            .attrs_of(nll, {"reduction", "ignore_index"})
            .infer(loss_infer::nll_loss_grad)
            .build());
    ops->push_back(
        OpDef("SoftmaxCrossEntropyLoss", kLoss)
            .doc("NegativeLogLikelihoodLoss of LogSoftmax(scores) along axis 1 (ONNX; "
                 "`torch.nn.functional.cross_entropy` with class indices); an out-of-range label "
                 "fails the iteration like NegativeLogLikelihoodLoss's")
            .input("scores", kF32Only, "[N, C] or [N, C, d1, …]")
            .input("labels", ints, "[N] or [N, d1, …]")
            .optional_input("weights", kF32Only, "[C]")
            .output("output", "[] or, with reduction \"none\", labels' shape")
            .optional_output("log_prob", "scores' shape")
            .attrs_of(nll, {"reduction", "ignore_index"})
            .infer(loss_infer::sce_loss)
            .build());
    ops->push_back(
        OpDef("SoftmaxCrossEntropyLossGrad", kLoss)
            .doc("dScores of SoftmaxCrossEntropyLoss (same attributes): (softmax(scores) − "
                 "onehot(label)) · weight[label] · dLoss (÷ Σ weight for \"mean\"); 0 at ignored "
                 "labels")
            .input("dLoss", kF32Only, "the loss's shape")
            .input("scores")
            .input("labels", ints)
            .optional_input("weights", kF32Only, "[C]")
            .output("dScores", "scores' shape")
            .attrs_of(nll, {"reduction", "ignore_index"})
            .infer(loss_infer::sce_loss_grad)
            .build());
}

void add_optimizers(OpList *ops) {
    const char *lr_doc = "the learning rate; or the optional input `lr` instead (exactly one)";
    const char *lr_input_doc = "f32 scalar [], fed or computed each iteration (schedules)";
    const char *wd_doc = "L2 penalty: grad += weight_decay · var first";
    const OpSchema sgd =
        OpDef("SGDUpdate", kOptim)
            .doc("var −= lr · (grad + weight_decay · var), in place, as `torch.optim.SGD` "
                 "without momentum; var must be a variable of grad's shape; runs after every "
                 "other reader of var in the iteration")
            .input("var")
            .input("grad")
            .optional_input("lr", kF32Only, lr_input_doc)
            .optional_attr("lr", T::Float, lr_doc)
            .attr_float("weight_decay", 0.0, wd_doc)
            .updates({0})
            .infer(loss_infer::sgd_update)
            .build();
    ops->push_back(sgd);
    ops->push_back(
        OpDef("SGDMomentumUpdate", kOptim)
            .doc("SGD with momentum as `torch.optim.SGD`, in place on var, momentum_buffer and "
                 "step: d = grad + weight_decay · var; buf = d on the first step (step 0), "
                 "else momentum · buf + (1 − dampening) · d; var −= lr · (d + momentum · buf if "
                 "nesterov else buf); step += 1. momentum_buffer is a variable of var's shape, "
                 "step an `f32` scalar variable [] starting at 0; all three must be variables, "
                 "each updated by this node only")
            .input("var")
            .input("grad")
            .input("momentum_buffer")
            .input("step", kF32Only, "[]")
            .optional_input("lr", kF32Only, lr_input_doc)
            .attrs_of(sgd, {"lr"})
            .required_attr("momentum", T::Float, ">= 0")
            .attr_float("dampening", 0.0)
            .attr_int("nesterov", 0,
                      "1: Nesterov momentum "
                      "(needs dampening 0)")
            .attrs_of(sgd, {"weight_decay"})
            .updates({0, 2, 3})
            .infer(loss_infer::sgd_momentum_update)
            .build());
    const char *adam_doc =
        "step += 1; m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; var −= lr/(1−β1^step) · m / "
        "(√v / √(1−β2^step) + eps). m and v are variables of var's shape (start them at zero), "
        "step an `f32` scalar variable [] (start it at 0); all four must be variables, each "
        "updated by this node only; it runs after every other reader of them";
    const OpSchema adam =
        OpDef("AdamUpdate", kOptim)
            .doc(std::string("Adam as `torch.optim.Adam` (no amsgrad), in place on var, m, v and "
                             "step, with g = grad + weight_decay · var: ") +
                 adam_doc)
            .input("var")
            .input("grad")
            .input("m")
            .input("v")
            .input("step", kF32Only, "[]")
            .optional_input("lr", kF32Only, lr_input_doc)
            .attrs_of(sgd, {"lr"})
            .attr_float("beta1", 0.9)
            .attr_float("beta2", 0.999)
            .attr_float("eps", 1e-8)
            .attrs_of(sgd, {"weight_decay"})
            .updates({0, 2, 3, 4})
            .infer(loss_infer::adam_update)
            .build();
    ops->push_back(adam);
    ops->push_back(
        OpDef("AdamWUpdate", kOptim)
            .doc(std::string("AdamW as `torch.optim.AdamW` (no amsgrad): var *= 1 − lr · "
                             "weight_decay, then Adam with g = grad: ") +
                 adam_doc)
            .input("var")
            .input("grad")
            .input("m")
            .input("v")
            .input("step", kF32Only, "[]")
            .optional_input("lr", kF32Only, lr_input_doc)
            .attrs_of(adam, {"lr", "beta1", "beta2", "eps"})
            .attr_float("weight_decay", 0.01, "decoupled decay")
            .updates({0, 2, 3, 4})
            .infer(loss_infer::adam_update)
            .build());
}

} // namespace

void add_loss_ops(OpList *ops) {
    add_reductions(ops);
    add_losses(ops);
    add_optimizers(ops);
}

} // namespace salus
