// The norm family's CPU kernels (ops/norm.cpp), registered by norm.cpp.
#pragma once

#include "exec/kernel.h"

#include <cstdint>

namespace salus::cpu {

// batch_norm.cpp
Status batch_norm(const KernelContext &ctx);
Status batch_norm_training(const KernelContext &ctx);
Status batch_norm_grad(const KernelContext &ctx);
Status batch_norm_inference_grad(const KernelContext &ctx);

// layer_norm.cpp
// X seen as [rows, k], k the product of the normalized axes [axis, rank).
struct LayerRows {
    int64_t rows = 1, k = 1;
};
LayerRows split_layer_rows(const NodeDesc &node, const Shape &x);
Status layer_norm(const KernelContext &ctx);
Status layer_norm_grad(const KernelContext &ctx);
size_t layer_norm_grad_workspace(const KernelInit &init);

// group_norm.cpp: InstanceNormalization is GroupNormalization with a group
// per channel.
Status group_norm(const KernelContext &ctx);
Status group_norm_grad(const KernelContext &ctx);
size_t group_norm_grad_workspace(const KernelInit &init);

// dropout.cpp
Status dropout(const KernelContext &ctx);
Status dropout_grad(const KernelContext &ctx);

// X of shape [N, C, ...] seen as [outer = N, channels = C, inner = the rest].
struct ChannelSplit {
    int64_t outer = 1, channels = 1, inner = 1;
};
ChannelSplit split_channels(const Shape &x);

// Checks that the first `n` inputs and `outputs` outputs are f32, with at
// least `min_inputs` inputs (the validator guarantees it; this only builds
// the message).
Status check_norm_f32(const KernelContext &ctx, size_t min_inputs, size_t min_outputs);

} // namespace salus::cpu
