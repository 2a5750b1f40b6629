// The norm family's formulas, compiled for the device (norm.cu) and the host:
// the CPU kernels (exec/cpu/norm*.cpp) call them too, so both devices draw the
// same dropout masks, and the unit tests check the CUDA side on the CPU.
#pragma once

#include "exec/cuda/device_code.h"

namespace salus::cuda {

// SplitMix64's finalizer: a bijection of 64-bit words that mixes every bit.
SALUS_HD inline uint64_t splitmix64(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Dropout's uniform draw in [0, 1) for element `index` of iteration
// `iteration` under `seed` (Dropout's doc in ops/norm.cpp): counter-based, so
// any thread computes any element's draw on its own.
// (The stream of a seed and iteration, then each element's draw from it: a
// kernel takes the stream once, not per element.)
// A node's seed under its session's (SessionOptions.seed): session seed 0
// leaves the node's own, so graphs run without one draw what they always did;
// any other gives every Dropout of the session masks of its own.
SALUS_HD inline int64_t dropout_seed(int64_t node_seed, uint64_t session_seed) {
    return static_cast<int64_t>(static_cast<uint64_t>(node_seed) +
                                session_seed * 0x9e3779b97f4a7c15ull);
}

SALUS_HD inline uint64_t dropout_stream(int64_t seed, uint64_t iteration) {
    return splitmix64(splitmix64(static_cast<uint64_t>(seed)) ^ iteration);
}

SALUS_HD inline float dropout_draw(uint64_t stream, int64_t index) {
    const uint64_t bits = splitmix64(stream ^ static_cast<uint64_t>(index));
    return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f); // top 24 bits
}

SALUS_HD inline float dropout_uniform(int64_t seed, uint64_t iteration, int64_t index) {
    return dropout_draw(dropout_stream(seed, iteration), index);
}

// 1 / (1 − ratio), 0 when every element is dropped.
SALUS_HD inline float dropout_scale(float ratio) {
    return ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
}

// Whether element `index` is kept, from its stream.
SALUS_HD inline bool dropout_kept(uint64_t stream, int64_t index, float ratio) {
    return dropout_draw(stream, index) >= ratio;
}

SALUS_HD inline bool dropout_keep(int64_t seed, uint64_t iteration, int64_t index, float ratio) {
    return dropout_kept(dropout_stream(seed, iteration), index, ratio);
}

// Normalization statistics: 1/√(var + eps) from a biased variance.
SALUS_HD inline float norm_inv_std(double var, float eps) {
    return static_cast<float>(1.0 / sqrt(var + static_cast<double>(eps)));
}

// y = (x − mean) · inv_std · scale + bias.
SALUS_HD inline float norm_apply(float x, float mean, float inv_std, float scale, float bias) {
    return (x - mean) * inv_std * scale + bias;
}

// One element of the backward of a normalization whose statistics depend on
// its input: g = dY · scale at that element, mean_g and mean_gx the means of g
// and g · x̂ over the normalized group.
SALUS_HD inline float norm_grad_input(float g, float xhat, float inv_std, double mean_g,
                                      double mean_gx) {
    return inv_std * static_cast<float>(g - mean_g - xhat * mean_gx);
}

// The normalization groups of X [N, C, inner]: batch normalization has one
// per channel (its N · inner elements are strided), group and instance
// normalization one per (sample, group of C / groups channels) (contiguous).
struct NormGroups {
    int64_t outer = 1, channels = 1, inner = 1;
    int64_t groups = 1; // per sample; ignored when `batch`
    bool batch = false;
};

SALUS_HD inline int64_t norm_group_count(const NormGroups &p) {
    return p.batch ? p.channels : p.outer * p.groups;
}

SALUS_HD inline int64_t norm_group_size(const NormGroups &p) {
    return p.batch ? p.outer * p.inner : p.channels / p.groups * p.inner;
}

// Element j of group q: its offset in X, and its channel.
SALUS_HD inline int64_t norm_group_offset(const NormGroups &p, int64_t q, int64_t j) {
    if (p.batch) return ((j / p.inner) * p.channels + q) * p.inner + j % p.inner;
    const int64_t n = q / p.groups, g = q - n * p.groups;
    return (n * p.channels + g * (p.channels / p.groups)) * p.inner + j;
}

SALUS_HD inline int64_t norm_group_channel(const NormGroups &p, int64_t q, int64_t j) {
    if (p.batch) return q;
    return (q % p.groups) * (p.channels / p.groups) + j / p.inner;
}

// Channel c's element j of its N · inner elements (per-channel sums of the
// parameter gradients).
SALUS_HD inline int64_t norm_channel_offset(const NormGroups &p, int64_t c, int64_t j) {
    return ((j / p.inner) * p.channels + c) * p.inner + j % p.inner;
}

// The group of element j of channel c (its statistics' index).
SALUS_HD inline int64_t norm_channel_group(const NormGroups &p, int64_t c, int64_t j) {
    if (p.batch) return c;
    return (j / p.inner) * p.groups + c / (p.channels / p.groups);
}

// A running statistic after one batch: running · momentum + batch · (1 − momentum).
SALUS_HD inline float running_update(float running, double batch, double momentum) {
    return static_cast<float>(running * momentum + batch * (1.0 - momentum));
}

} // namespace salus::cuda
