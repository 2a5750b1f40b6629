// CUDA kernels of the norm family (ops/norm.cpp), our own (norm.cu): batch,
// layer, group and instance normalization and dropout. Batch normalization
// runs on cuDNN where cuDNN computes it as our ops say
// (dnn_batch_norm_plans.h), on ours otherwise.
#include "exec/cuda/cuda_kernels.h"
#include "exec/cuda/kernel_context.h"
#include "exec/cuda/workspace.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cpu/norm_kernels.h"
#include "exec/cuda/dnn_batch_norm.h"
#include "exec/cuda/norm_device.h"
#include "exec/cuda/norm_launchers.h"

#include <string>

namespace salus::cuda {

namespace {

float *optional_output(const KernelContext &ctx, size_t i) {
    return ctx.outputs.size() > i ? ctx.outputs[i].f32() : nullptr;
}

Status layer_norm(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(cpu::check_norm_f32(ctx, 2, 1));
    const cpu::LayerRows r = cpu::split_layer_rows(*ctx.node, ctx.inputs[0].shape);
    const float eps = static_cast<float>(ctx.node->get_float("epsilon"));
    const float *bias = ctx.inputs.size() > 2 ? ctx.inputs[2].f32() : nullptr;
    return launched(ctx,
                    launch_layer_norm(r.rows, r.k, eps, ctx.inputs[0].f32(), ctx.inputs[1].f32(),
                                      bias, ctx.outputs[0].f32(), optional_output(ctx, 1),
                                      optional_output(ctx, 2), stream_of(ctx)));
}

Status layer_norm_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(cpu::check_norm_f32(ctx, 5, 2));
    const cpu::LayerRows r = cpu::split_layer_rows(*ctx.node, ctx.inputs[1].shape);
    return launched(ctx, launch_layer_norm_grad(r.rows, r.k, ctx.inputs[0].f32(),
                                                ctx.inputs[1].f32(), ctx.inputs[2].f32(),
                                                ctx.inputs[3].f32(), ctx.inputs[4].f32(),
                                                ctx.outputs[0].f32(), ctx.outputs[1].f32(),
                                                optional_output(ctx, 2), stream_of(ctx)));
}

// dst = src on the stream (nothing when the planner gave them one buffer).
Status copy_floats(const KernelContext &ctx, void *dst, const void *src, int64_t n) {
    if (n == 0 || dst == src) return {};
    return check(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float),
                                 cudaMemcpyDeviceToDevice, stream_of(ctx)),
                 (ctx.node->op + ": cudaMemcpyAsync").c_str());
}

// X [N, C, ...] of input x_index as normalization groups.
NormGroups norm_groups(const KernelContext &ctx, size_t x_index, bool batch) {
    const cpu::ChannelSplit s = cpu::split_channels(ctx.inputs[x_index].shape);
    NormGroups p;
    p.outer = s.outer;
    p.channels = s.channels;
    p.inner = s.inner;
    p.batch = batch;
    const bool instance = ctx.node->op.rfind("Instance", 0) == 0;
    p.groups = batch || instance ? s.channels : ctx.node->get_int("num_groups");
    return p;
}

float epsilon(const KernelContext &ctx) {
    return static_cast<float>(ctx.node->get_float("epsilon"));
}

Status batch_norm(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(cpu::check_norm_f32(ctx, 5, 1));
    const NormGroups p = norm_groups(ctx, 0, true);
    return launched(ctx, launch_batch_norm_inference(p, epsilon(ctx), ctx.inputs[0].f32(),
                                                     ctx.inputs[1].f32(), ctx.inputs[2].f32(),
                                                     ctx.inputs[3].f32(), ctx.inputs[4].f32(),
                                                     ctx.outputs[0].f32(), stream_of(ctx)));
}

Status batch_norm_training(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(cpu::check_norm_f32(ctx, 5, 1));
    const NormGroups p = norm_groups(ctx, 0, true);
    return launched(
        ctx, launch_group_norm(p, epsilon(ctx), ctx.inputs[0].f32(), ctx.inputs[1].f32(),
                               ctx.inputs[2].f32(), ctx.outputs[0].f32(), optional_output(ctx, 1),
                               optional_output(ctx, 2), ctx.inputs[3].f32(), ctx.inputs[4].f32(),
                               ctx.node->get_float("momentum"), stream_of(ctx)));
}

Status batch_norm_grad(const KernelContext &ctx, bool batch_stats) {
    SALUS_RETURN_IF_ERROR(cpu::check_norm_f32(ctx, 5, 3));
    const NormGroups p = norm_groups(ctx, 1, true);
    return launched(
        ctx, launch_batch_norm_grad(p, batch_stats, batch_stats ? 0.0f : epsilon(ctx),
                                    ctx.inputs[0].f32(), ctx.inputs[1].f32(), ctx.inputs[2].f32(),
                                    ctx.inputs[3].f32(), ctx.inputs[4].f32(), ctx.outputs[0].f32(),
                                    ctx.outputs[1].f32(), ctx.outputs[2].f32(), stream_of(ctx)));
}

Status batch_norm_training_grad(const KernelContext &ctx) {
    return batch_norm_grad(ctx, true);
}

Status batch_norm_inference_grad(const KernelContext &ctx) {
    return batch_norm_grad(ctx, false);
}

// One of our batch normalization functions as a prepared kernel.
template <KernelFn Fn>
class OurBatchNorm : public OpKernel {
  public:
    Status run(const KernelContext &ctx) override { return Fn(ctx); }
};

// cuDNN where it fits, else our Fn; chosen once per session.
template <KernelFn Fn>
Status make_batch_norm(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    DnnBatchNormPlan plan;
    if (plan_dnn_batch_norm(init, &plan).ok()) return make_dnn_batch_norm_kernel(init, out);
    *out = std::make_unique<OurBatchNorm<Fn>>();
    return {};
}

Status group_norm(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(cpu::check_norm_f32(ctx, 3, 1));
    const NormGroups p = norm_groups(ctx, 0, false);
    return launched(ctx,
                    launch_group_norm(p, epsilon(ctx), ctx.inputs[0].f32(), ctx.inputs[1].f32(),
                                      ctx.inputs[2].f32(), ctx.outputs[0].f32(), nullptr, nullptr,
                                      nullptr, nullptr, 0.0, stream_of(ctx)));
}

Status group_norm_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(cpu::check_norm_f32(ctx, 3, 3));
    const NormGroups p = norm_groups(ctx, 1, false);
    const size_t need = 2 * static_cast<size_t>(norm_group_count(p)) * sizeof(float);
    if (ctx.workspace_bytes < need) {
        return Status(SALUS_EEXEC, ctx.node->op + ": workspace too small");
    }
    return launched(
        ctx, launch_group_norm_grad(p, epsilon(ctx), ctx.inputs[0].f32(), ctx.inputs[1].f32(),
                                    ctx.inputs[2].f32(), ctx.outputs[0].f32(), ctx.outputs[1].f32(),
                                    ctx.outputs[2].f32(), static_cast<float *>(ctx.workspace),
                                    stream_of(ctx)));
}

Status dropout(const KernelContext &ctx) {
    if (ctx.inputs.empty() || ctx.outputs.empty() || ctx.inputs[0].dtype != DType::F32) {
        return Status(SALUS_EEXEC, ctx.node->op + ": the kernel takes one f32 input");
    }
    const int64_t n = ctx.inputs[0].numel();
    auto *mask = ctx.outputs.size() > 1 ? static_cast<uint8_t *>(ctx.outputs[1].data) : nullptr;
    const float ratio = static_cast<float>(ctx.node->get_float("ratio"));
    if (ctx.node->get_int("training_mode") == 0 || ratio == 0.0f) {
        SALUS_RETURN_IF_ERROR(copy_floats(ctx, ctx.outputs[0].data, ctx.inputs[0].data, n));
        if (!mask || n == 0) return {};
        return check(cudaMemsetAsync(mask, 1, static_cast<size_t>(n), stream_of(ctx)),
                     (ctx.node->op + ": cudaMemsetAsync").c_str());
    }
    return launched(ctx, launch_dropout(n, ratio,
                                        dropout_seed(ctx.node->get_int("seed"), ctx.session_seed),
                                        ctx.iteration, ctx.inputs[0].f32(), ctx.outputs[0].f32(),
                                        mask, stream_of(ctx)));
}

Status dropout_grad(const KernelContext &ctx) {
    if (ctx.inputs.size() < 2 || ctx.outputs.empty() || ctx.inputs[0].dtype != DType::F32) {
        return Status(SALUS_EEXEC, ctx.node->op + ": the kernel takes f32 dY and a bool mask");
    }
    const float ratio = static_cast<float>(ctx.node->get_float("ratio"));
    if (ctx.node->get_int("training_mode") == 0) {
        return copy_floats(ctx, ctx.outputs[0].data, ctx.inputs[0].data, ctx.inputs[0].numel());
    }
    return launched(ctx, launch_dropout_grad(ctx.inputs[0].numel(), ratio, ctx.inputs[0].f32(),
                                             static_cast<const uint8_t *>(ctx.inputs[1].data),
                                             ctx.outputs[0].f32(), stream_of(ctx)));
}

} // namespace

void register_norm_kernels(KernelRegistry *registry) {
    const DeviceType cuda = DeviceType::CUDA;
    registry->add(cuda, "BatchNormalization", make_batch_norm<batch_norm>);
    registry->add(cuda, "BatchNormalizationTraining", make_batch_norm<batch_norm_training>);
    registry->add(cuda, "BatchNormalizationGrad", make_batch_norm<batch_norm_training_grad>);
    registry->add(cuda, "BatchNormalizationInferenceGrad", batch_norm_inference_grad);
    registry->add(cuda, "InstanceNormalization", group_norm);
    registry->add(cuda, "InstanceNormalizationGrad", group_norm_grad,
                  cuda_workspace_fn("InstanceNormalizationGrad"));
    registry->add(cuda, "GroupNormalization", group_norm);
    registry->add(cuda, "GroupNormalizationGrad", group_norm_grad,
                  cuda_workspace_fn("GroupNormalizationGrad"));
    registry->add(cuda, "LayerNormalization", layer_norm);
    registry->add(cuda, "LayerNormalizationGrad", layer_norm_grad);
    registry->add(cuda, "Dropout", dropout);
    registry->add(cuda, "DropoutGrad", dropout_grad);
}

} // namespace salus::cuda
