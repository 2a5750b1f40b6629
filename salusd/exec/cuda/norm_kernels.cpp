// CUDA kernels of the norm family (ops/norm.cpp): layer normalization and
// dropout (norm.cu). The other norm ops await theirs
// (tests/unit/kernels/awaiting_cuda.h).
#include "exec/cuda/cuda_kernels.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cpu/norm_kernels.h"
#include "exec/cuda/norm_launchers.h"

#include <string>

namespace salus::cuda {

namespace {

cudaStream_t stream_of(const KernelContext &ctx) {
    return lane_stream(ctx.stream).handle();
}

Status launched(const KernelContext &ctx, cudaError_t err) {
    return check(err, (ctx.node->op + " kernel").c_str());
}

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
    return launched(ctx, launch_dropout(n, ratio, ctx.node->get_int("seed"), ctx.iteration,
                                        ctx.inputs[0].f32(), ctx.outputs[0].f32(), mask,
                                        stream_of(ctx)));
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
    registry->add(DeviceType::CUDA, "LayerNormalization", layer_norm);
    registry->add(DeviceType::CUDA, "LayerNormalizationGrad", layer_norm_grad);
    registry->add(DeviceType::CUDA, "Dropout", dropout);
    registry->add(DeviceType::CUDA, "DropoutGrad", dropout_grad);
}

} // namespace salus::cuda
