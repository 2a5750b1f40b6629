// Dropout on the CPU, with the mask drawn by the same counter-based hash as
// the CUDA kernel (exec/cuda/norm_device.h), so both devices agree.
#include "exec/cpu/helpers.h"
#include "exec/cpu/norm_kernels.h"
#include "exec/cuda/norm_device.h"

#include <cstring>
#include <string>

namespace salus::cpu {

namespace {

Status check_dropout(const KernelContext &ctx, size_t mask_input) {
    if (ctx.inputs.size() < mask_input + 1 || ctx.outputs.empty()) {
        return Status(SALUS_EEXEC, ctx.node->op + ": kernel called with " +
                                       std::to_string(ctx.inputs.size()) + " inputs and " +
                                       std::to_string(ctx.outputs.size()) + " outputs");
    }
    if (ctx.inputs[0].dtype != DType::F32 || ctx.outputs[0].dtype != DType::F32) {
        return Status(SALUS_EEXEC, ctx.node->op + ": the kernels support f32 only");
    }
    return {};
}

// Branch-free loops so that they vectorize, the stream made once.
SALUS_CPU_CLONES void dropout_loop(uint64_t stream, float ratio, float scale, const float *x,
                                   float *y, uint8_t *mask, int64_t n) {
    if (mask) {
        for (int64_t i = 0; i < n; ++i) {
            const bool keep = cuda::dropout_kept(stream, i, ratio);
            mask[i] = keep ? 1 : 0;
            y[i] = keep ? x[i] * scale : 0.0f;
        }
    } else {
        for (int64_t i = 0; i < n; ++i) {
            y[i] = cuda::dropout_kept(stream, i, ratio) ? x[i] * scale : 0.0f;
        }
    }
}

SALUS_CPU_CLONES void dropout_grad_loop(const float *dy, const uint8_t *mask, float scale,
                                        float *dx, int64_t n) {
    for (int64_t i = 0; i < n; ++i) dx[i] = mask[i] ? dy[i] * scale : 0.0f;
}

} // namespace

Status dropout(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_dropout(ctx, 0));
    const int64_t n = ctx.inputs[0].numel();
    const float *x = ctx.inputs[0].f32();
    float *y = ctx.outputs[0].f32();
    auto *mask = ctx.outputs.size() > 1 ? static_cast<uint8_t *>(ctx.outputs[1].data) : nullptr;
    const float ratio = static_cast<float>(ctx.node->get_float("ratio"));
    if (ctx.node->get_int("training_mode") == 0 || ratio == 0.0f) {
        if (n > 0 && y != x) std::memmove(y, x, static_cast<size_t>(n) * sizeof(float));
        if (mask && n > 0) std::memset(mask, 1, static_cast<size_t>(n));
        return {};
    }
    const uint64_t stream = cuda::dropout_stream(
        cuda::dropout_seed(ctx.node->get_int("seed"), ctx.session_seed), ctx.iteration);
    const float scale = cuda::dropout_scale(ratio);
    dropout_loop(stream, ratio, scale, x, y, mask, n);
    return {};
}

Status dropout_grad(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_dropout(ctx, 1));
    const int64_t n = ctx.inputs[0].numel();
    const float *dy = ctx.inputs[0].f32();
    const auto *mask = static_cast<const uint8_t *>(ctx.inputs[1].data);
    float *dx = ctx.outputs[0].f32();
    const float ratio = static_cast<float>(ctx.node->get_float("ratio"));
    const bool identity = ctx.node->get_int("training_mode") == 0;
    if (identity && dx != dy && n > 0) std::memmove(dx, dy, static_cast<size_t>(n) * sizeof(float));
    if (identity) return {};
    const float scale = cuda::dropout_scale(ratio);
    dropout_grad_loop(dy, mask, scale, dx, n);
    return {};
}

} // namespace salus::cpu
