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

// layer_norm.cpp, on oneDNN
// X seen as [rows, k], k the product of the normalized axes [axis, rank).
struct LayerRows {
    int64_t rows = 1, k = 1;
};
LayerRows split_layer_rows(const NodeDesc &node, const Shape &x);
Status make_layer_norm(const KernelInit &init, std::unique_ptr<OpKernel> *out);
Status make_layer_norm_grad(const KernelInit &init, std::unique_ptr<OpKernel> *out);

// group_norm.cpp: InstanceNormalization is GroupNormalization with a group
// per channel.
Status group_norm(const KernelContext &ctx);
Status group_norm_grad(const KernelContext &ctx);
size_t group_norm_grad_workspace(const KernelInit &init);

// dropout.cpp
Status dropout(const KernelContext &ctx);
Status dropout_grad(const KernelContext &ctx);

// Σ f(j) for j in [0, n), in double with four interleaved partial sums: a
// single running double sum waits one add latency per element.
template <typename F>
inline double lane_sum(int64_t n, F &&f) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int64_t j = 0;
    for (; j + 4 <= n; j += 4) {
        s0 += f(j);
        s1 += f(j + 1);
        s2 += f(j + 2);
        s3 += f(j + 3);
    }
    for (; j < n; ++j) s0 += f(j);
    return (s0 + s1) + (s2 + s3);
}

// Two such sums in one pass: f(j, &a, &b) adds element j's terms.
template <typename F>
inline void lane_sum2(int64_t n, F &&f, double *a, double *b) {
    double a0 = 0.0, a1 = 0.0, b0 = 0.0, b1 = 0.0;
    int64_t j = 0;
    for (; j + 2 <= n; j += 2) {
        f(j, &a0, &b0);
        f(j + 1, &a1, &b1);
    }
    if (j < n) f(j, &a0, &b0);
    *a = a0 + a1;
    *b = b0 + b1;
}

// Mean and biased variance of n contiguous values, two passes.
void contiguous_stats(const float *x, int64_t n, double *mean, double *var);

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
