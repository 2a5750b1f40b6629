// CPU kernels of the norm family (ops/norm.cpp): registration and the pieces
// the kernels share. The kernels: batch_norm.cpp, layer_norm.cpp,
// group_norm.cpp, dropout.cpp.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/norm_kernels.h"

#include <string>

namespace salus::cpu {

ChannelSplit split_channels(const Shape &x) {
    ChannelSplit s;
    s.outer = x[0];
    s.channels = x[1];
    for (size_t d = 2; d < x.size(); ++d) s.inner *= x[d];
    return s;
}

void contiguous_stats(const float *x, int64_t n, double *mean, double *var) {
    *mean =
        n > 0 ? lane_sum(n, [&](int64_t j) { return double{x[j]}; }) / static_cast<double>(n) : 0.0;
    const double m = *mean;
    *var = n > 0 ? lane_sum(n,
                            [&](int64_t j) {
                                const double d = x[j] - m;
                                return d * d;
                            }) /
                       static_cast<double>(n)
                 : 0.0;
}

Status check_norm_f32(const KernelContext &ctx, size_t min_inputs, size_t min_outputs) {
    if (ctx.inputs.size() < min_inputs || ctx.outputs.size() < min_outputs) {
        return Status(SALUS_EEXEC, ctx.node->op + ": kernel called with " +
                                       std::to_string(ctx.inputs.size()) + " inputs and " +
                                       std::to_string(ctx.outputs.size()) + " outputs");
    }
    auto f32 = [&](const TensorView &t, const char *what, size_t i) -> Status {
        if (t.dtype == DType::F32) return {};
        return Status(SALUS_EEXEC, ctx.node->op + ": " + what + " " + std::to_string(i) + " is " +
                                       dtype_name(t.dtype) + "; the kernels support f32 only");
    };
    for (size_t i = 0; i < ctx.inputs.size(); ++i) {
        SALUS_RETURN_IF_ERROR(f32(ctx.inputs[i], "input", i));
    }
    for (size_t i = 0; i < ctx.outputs.size(); ++i) {
        SALUS_RETURN_IF_ERROR(f32(ctx.outputs[i], "output", i));
    }
    return {};
}

void register_norm_kernels(KernelRegistry *registry) {
    const DeviceType cpu = DeviceType::CPU;
    registry->add(cpu, "BatchNormalization", batch_norm);
    registry->add(cpu, "BatchNormalizationTraining", batch_norm_training);
    registry->add(cpu, "BatchNormalizationGrad", batch_norm_grad);
    registry->add(cpu, "BatchNormalizationInferenceGrad", batch_norm_inference_grad);
    registry->add(cpu, "LayerNormalization", make_layer_norm);
    registry->add(cpu, "LayerNormalizationGrad", make_layer_norm_grad);
    registry->add(cpu, "InstanceNormalization", group_norm);
    registry->add(cpu, "InstanceNormalizationGrad", group_norm_grad, group_norm_grad_workspace);
    registry->add(cpu, "GroupNormalization", group_norm);
    registry->add(cpu, "GroupNormalizationGrad", group_norm_grad, group_norm_grad_workspace);
    registry->add(cpu, "Dropout", dropout);
    registry->add(cpu, "DropoutGrad", dropout_grad);
}

} // namespace salus::cpu
