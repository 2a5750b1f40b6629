// The norm family: batch, layer, instance and group normalization, and
// dropout. Shape rules: ops/norm_infer.cpp.
#include "ops/norm_infer.h"
#include "ops/op_families.h"

namespace salus {

namespace {

const char *const kNorm = "Normalization and dropout";
// ONNX's (and torch's) epsilon of every normalization, and ONNX's batch
// norm momentum (torch's 0.1 in its convention).
constexpr double kEpsilon = 1e-5;
constexpr double kMomentum = 0.9;

void add_batch_norm(OpList *ops) {
    const OpSchema inference =
        OpDef("BatchNormalization", kNorm)
            .doc("inference mode: Y = scale · (X − input_mean) / √(input_var + epsilon) + B per "
                 "channel (axis 1); the training mode is `BatchNormalizationTraining`")
            .input("X", kF32Only, "[N, C, ...]")
            .input("scale", kF32Only, "[C]")
            .input("B", kF32Only, "[C]")
            .input("input_mean", kF32Only, "[C]")
            .input("input_var", kF32Only, "[C]")
            .output("Y", "X's shape")
            .attr_float("epsilon", kEpsilon)
            .attr_float("momentum", kMomentum, "unused in inference (ONNX's attribute)")
            .attr_int("training_mode", 0, "0 only: training is `BatchNormalizationTraining`")
            .infer(norm_infer::batch_norm)
            .build();
    ops->push_back(inference);
    ops->push_back(
        OpDef("BatchNormalizationTraining", kNorm)
            .doc("training mode: normalizes X with the batch's mean and biased variance per "
                 "channel (over every axis but 1), Y = scale · (X − mean) · inv_std + B, "
                 "inv_std = 1/√(var + epsilon); updates the variables running_mean and "
                 "running_var in place, running = running · momentum + batch · (1 − momentum) "
                 "(ONNX's convention; torch's momentum is 1 − this), running_var from the "
                 "unbiased batch variance as torch does. saved_mean and saved_inv_std feed "
                 "`BatchNormalizationGrad`")
            .input("X", kF32Only, "[N, C, ...]")
            .input("scale", kF32Only, "[C]")
            .input("B", kF32Only, "[C]")
            .input("running_mean", kF32Only, "[C], a variable")
            .input("running_var", kF32Only, "[C], a variable")
            .output("Y", "X's shape")
            .optional_output("saved_mean", "[C]")
            .optional_output("saved_inv_std", "[C]")
            .attrs_of(inference, {"epsilon"})
            .attr_float("momentum", kMomentum, "in [0, 1]")
            .updates({3, 4})
            .infer(norm_infer::batch_norm_training)
            .build());
    ops->push_back(
        OpDef("BatchNormalizationGrad", kNorm)
            .doc("backward of `BatchNormalizationTraining` through the batch statistics: "
                 "x̂ = (X − saved_mean) · saved_inv_std, dBias = Σ dY, dScale = Σ dY · x̂, dX = "
                 "scale · saved_inv_std · (dY − (dBias + x̂ · dScale) / M), sums over the M "
                 "elements of each channel")
            .input("dY", kF32Only, "X's shape")
            .input("X", kF32Only, "[N, C, ...]")
            .input("scale", kF32Only, "[C]")
            .input("saved_mean", kF32Only, "[C]")
            .input("saved_inv_std", kF32Only, "[C]")
            .output("dX")
            .output("dScale", "[C]")
            .output("dBias", "[C]")
            .infer(norm_infer::batch_norm_grad)
            .build());
    ops->push_back(
        OpDef("BatchNormalizationInferenceGrad", kNorm)
            .doc("backward of `BatchNormalization` (fixed statistics): inv_std = "
                 "1/√(input_var + epsilon), dX = dY · scale · inv_std, dScale = Σ dY · (X − "
                 "input_mean) · inv_std, dBias = Σ dY")
            .input("dY", kF32Only, "X's shape")
            .input("X", kF32Only, "[N, C, ...]")
            .input("scale", kF32Only, "[C]")
            .input("input_mean", kF32Only, "[C]")
            .input("input_var", kF32Only, "[C]")
            .output("dX")
            .output("dScale", "[C]")
            .output("dBias", "[C]")
            .attrs_of(inference, {"epsilon"})
            .infer(norm_infer::batch_norm_grad)
            .build());
}

void add_layer_norm(OpList *ops) {
    const OpSchema forward =
        OpDef("LayerNormalization", kNorm)
            .doc("normalizes over the axes [axis, rank): Y = (X − Mean) · InvStdDev · Scale + B, "
                 "InvStdDev = 1/√(biased variance + epsilon); Mean and InvStdDev keep X's rank "
                 "with 1 for the normalized axes (ONNX 17)")
            .input("X")
            .input("Scale", kF32Only, "X.shape[axis:]")
            .optional_input("B", kF32Only, "X.shape[axis:]")
            .output("Y", "X's shape")
            .optional_output("Mean", "f32")
            .optional_output("InvStdDev", "f32")
            .attr_int("axis", -1, "first normalized axis, negative counts from the end")
            .attr_float("epsilon", kEpsilon)
            .attr_int("stash_type", 1, "1 (f32) only")
            .infer(norm_infer::layer_norm)
            .build();
    ops->push_back(forward);
    ops->push_back(
        OpDef("LayerNormalizationGrad", kNorm)
            .doc("backward of `LayerNormalization` from its saved Mean and InvStdDev: x̂ = (X − "
                 "Mean) · InvStdDev, g = dY · Scale, dX = InvStdDev · (g − mean(g) − x̂ · "
                 "mean(g · x̂)) over the normalized axes; dScale = Σ dY · x̂, dB = Σ dY over the "
                 "others")
            .input("dY", kF32Only, "X's shape")
            .input("X")
            .input("Scale", kF32Only, "X.shape[axis:]")
            .input("Mean")
            .input("InvStdDev")
            .output("dX")
            .output("dScale")
            .optional_output("dB")
            .attrs_of(forward, {"axis"})
            .infer(norm_infer::layer_norm_grad)
            .build());
}

void add_channel_norms(OpList *ops) {
    const OpSchema instance =
        OpDef("InstanceNormalization", kNorm)
            .doc("normalizes each (sample, channel) over its spatial axes: Y = scale · (X − "
                 "mean) / √(biased variance + epsilon) + B")
            .input("input", kF32Only, "[N, C, D1, ...]")
            .input("scale", kF32Only, "[C]")
            .input("B", kF32Only, "[C]")
            .output("output", "input's shape")
            .attr_float("epsilon", kEpsilon)
            .infer(norm_infer::instance_norm)
            .build();
    ops->push_back(instance);
    ops->push_back(
        OpDef("InstanceNormalizationGrad", kNorm)
            .doc("backward of `InstanceNormalization` (statistics recomputed from X): dX, "
                 "dScale = Σ dY · x̂, dBias = Σ dY")
            .input("dY")
            .input("X", kF32Only, "[N, C, D1, ...]")
            .input("scale", kF32Only, "[C]")
            .output("dX")
            .output("dScale", "[C]")
            .output("dBias", "[C]")
            .attrs_of(instance, {"epsilon"})
            .infer(norm_infer::channel_norm_grad)
            .build());
    const OpSchema group =
        OpDef("GroupNormalization", kNorm)
            .doc("splits the C channels into num_groups groups and normalizes each (sample, "
                 "group) over its channels and spatial axes, then Y = x̂ · scale + B per channel "
                 "(torch's GroupNorm; ONNX 21's per-channel scale)")
            .input("X", kF32Only, "[N, C, ...]")
            .input("scale", kF32Only, "[C]")
            .input("B", kF32Only, "[C]")
            .output("Y", "X's shape")
            .required_attr("num_groups", AttrValue::Type::Int, "divides C")
            .attr_float("epsilon", kEpsilon)
            .infer(norm_infer::group_norm)
            .build();
    ops->push_back(group);
    ops->push_back(
        OpDef("GroupNormalizationGrad", kNorm)
            .doc("backward of `GroupNormalization` (statistics recomputed from X): dX, dScale = "
                 "Σ dY · x̂, dBias = Σ dY")
            .input("dY")
            .input("X", kF32Only, "[N, C, ...]")
            .input("scale", kF32Only, "[C]")
            .output("dX")
            .output("dScale", "[C]")
            .output("dBias", "[C]")
            .attrs_of(group, {"num_groups", "epsilon"})
            .infer(norm_infer::channel_norm_grad)
            .build());
}

void add_dropout(OpList *ops) {
    const OpSchema dropout =
        OpDef("Dropout", kNorm)
            .doc("training_mode 1: output = data · mask / (1 − ratio), mask false with "
                 "probability ratio (output 0 everywhere when ratio is 1); training_mode 0 or "
                 "ratio 0: output = data, mask all true. Reproducible: element i of a session's "
                 "k-th iteration (k counts from 0) is dropped when u < ratio, u = "
                 "`dropout_uniform(seed, k, i)` (a SplitMix64 hash of the three, "
                 "exec/cuda/norm_device.h; seed under the session's seed, see above), identical "
                 "on every device: the same seeds and iteration give the same mask. Give each "
                 "Dropout of a graph its own seed (the Python "
                 "builder numbers them)")
            .input("data")
            .output("output", "data's shape")
            .optional_output("mask", "bool, data's shape; feeds `DropoutGrad`")
            .attr_float("ratio", 0.5, "in [0, 1]")
            .attr_int("training_mode", 0, "0 or 1")
            .attr_int("seed", 0)
            .infer(norm_infer::dropout)
            .build();
    ops->push_back(dropout);
    ops->push_back(OpDef("DropoutGrad", kNorm)
                       .doc("dX = dY · mask / (1 − ratio) (0 when ratio is 1) through "
                            "`Dropout`'s mask; dX = dY when training_mode is 0. Takes the "
                            "Dropout's ratio and training_mode")
                       .input("dY")
                       .input("mask", kBoolOnly, "dY's shape")
                       .output("dX")
                       .attrs_of(dropout, {"ratio", "training_mode"})
                       .infer(norm_infer::dropout_grad)
                       .build());
}

} // namespace

void add_norm_ops(OpList *ops) {
    add_batch_norm(ops);
    add_layer_norm(ops);
    add_channel_norms(ops);
    add_dropout(ops);
}

} // namespace salus
