// Pad, DepthToSpace/SpaceToDepth and nearest Upsample with their gradients:
// index maps walked row by row over fixed-size index arrays (no allocation).
#include "exec/cpu/conv_kernels.h"
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"

#include <algorithm>
#include <string>

namespace salus::cpu {

namespace {

enum class PadMode { Constant, Reflect, Edge };

PadMode pad_mode(const NodeDesc &node) {
    const std::string &mode = node.get_string("mode");
    return mode == "reflect" ? PadMode::Reflect
           : mode == "edge"  ? PadMode::Edge
                             : PadMode::Constant;
}

// X's index along an axis of size `in` for padded index `o`; -1 for the
// constant fill. Shape inference keeps reflect pads below `in`.
int64_t pad_source(int64_t o, int64_t before, int64_t in, PadMode mode) {
    const int64_t i = o - before;
    if (i >= 0 && i < in) return i;
    if (mode == PadMode::Constant) return -1;
    if (mode == PadMode::Edge) return i < 0 ? 0 : in - 1;
    return i < 0 ? -i : 2 * (in - 1) - i;
}

// Calls fn(y_offset, x_offset or -1) for every element of the padded Y.
template <typename Fn>
void walk_pad(const Shape &x, const Shape &y, const std::vector<int64_t> &pads, PadMode mode,
              Fn &&fn) {
    const int rank = static_cast<int>(y.size());
    const int64_t total = num_elements(y);
    if (total == 0) return;
    int64_t xs[kMaxRank];
    contiguous_strides(x, xs);
    int64_t idx[kMaxRank] = {};
    for (int64_t flat = 0; flat < total; ++flat) {
        int64_t off = 0;
        for (int d = 0; d < rank && off >= 0; ++d) {
            const int64_t s = pad_source(idx[d], pads[static_cast<size_t>(d)], x[d], mode);
            off = s < 0 ? -1 : off + s * xs[d];
        }
        fn(flat, off);
        for (int d = rank - 1; d >= 0; --d) {
            if (++idx[d] < y[d]) break;
            idx[d] = 0;
        }
    }
}

Status pad(const KernelContext &ctx) {
    const float *x = ctx.inputs[0].f32();
    float *y = ctx.outputs[0].f32();
    const float value = static_cast<float>(ctx.node->get_float("value"));
    if (ctx.outputs[0].shape.empty()) {
        y[0] = x[0];
        return {};
    }
    walk_pad(ctx.inputs[0].shape, ctx.outputs[0].shape, ctx.node->get_ints("pads"),
             pad_mode(*ctx.node), [&](int64_t o, int64_t i) { y[o] = i < 0 ? value : x[i]; });
    return {};
}

Status pad_grad(const KernelContext &ctx) {
    const float *dy = ctx.inputs[0].f32();
    float *dx = ctx.outputs[0].f32();
    if (ctx.outputs[0].shape.empty()) {
        dx[0] = dy[0];
        return {};
    }
    std::fill(dx, dx + ctx.outputs[0].numel(), 0.0f);
    walk_pad(ctx.outputs[0].shape, ctx.inputs[0].shape, ctx.node->get_ints("pads"),
             pad_mode(*ctx.node), [&](int64_t o, int64_t i) {
                 if (i >= 0) dx[i] += dy[o];
             });
    return {};
}

// Moves between the space tensor [N, C, H·b, W·b] and the depth tensor
// [N, C·b², H, W]; `to_space` picks the direction.
void depth_space(const KernelContext &ctx, bool to_space) {
    const Shape &space = to_space ? ctx.outputs[0].shape : ctx.inputs[0].shape;
    const float *src = ctx.inputs[0].f32();
    float *dst = ctx.outputs[0].f32();
    const int64_t b = ctx.node->get_int("blocksize");
    const bool crd = ctx.node->get_string("mode") == "CRD";
    const int64_t n = space[0], c = space[1], h = space[2], w = space[3];
    const int64_t dh = h / b, dw = w / b;
    int64_t s = 0; // the space tensor's flat index
    for (int64_t ni = 0; ni < n; ++ni) {
        for (int64_t ci = 0; ci < c; ++ci) {
            for (int64_t y = 0; y < h; ++y) {
                for (int64_t x = 0; x < w; ++x, ++s) {
                    const int64_t i = y % b, j = x % b;
                    const int64_t dc = crd ? (ci * b + i) * b + j : (i * b + j) * c + ci;
                    const int64_t d = ((ni * c * b * b + dc) * dh + y / b) * dw + x / b;
                    if (to_space) {
                        dst[s] = src[d];
                    } else {
                        dst[d] = src[s];
                    }
                }
            }
        }
    }
}

Status depth_to_space(const KernelContext &ctx) {
    depth_space(ctx, true);
    return {};
}

Status space_to_depth(const KernelContext &ctx) {
    depth_space(ctx, false);
    return {};
}

// Calls fn(big_row_offset, small_row_offset) for each row (last axis) of the
// upsampled tensor `big`; `small` is big / scales.
template <typename Fn>
void walk_upsample(const Shape &small, const Shape &big, const std::vector<int64_t> &scales,
                   Fn &&fn) {
    const int rank = static_cast<int>(big.size());
    const int64_t total = num_elements(big);
    if (total == 0 || rank == 0) return;
    int64_t ss[kMaxRank];
    contiguous_strides(small, ss);
    const int64_t row = big[rank - 1];
    int64_t idx[kMaxRank] = {};
    for (int64_t off = 0; off < total; off += row) {
        int64_t src = 0;
        for (int d = 0; d + 1 < rank; ++d) src += idx[d] / scales[static_cast<size_t>(d)] * ss[d];
        fn(off, src);
        for (int d = rank - 2; d >= 0; --d) {
            if (++idx[d] < big[d]) break;
            idx[d] = 0;
        }
    }
}

Status upsample(const KernelContext &ctx) {
    const float *x = ctx.inputs[0].f32();
    float *y = ctx.outputs[0].f32();
    const Shape &ys = ctx.outputs[0].shape;
    if (ys.empty()) {
        y[0] = x[0];
        return {};
    }
    const std::vector<int64_t> &scales = ctx.node->get_ints("scales");
    const int64_t row = ys.back(), s = scales.back();
    walk_upsample(ctx.inputs[0].shape, ys, scales, [&](int64_t o, int64_t i) {
        for (int64_t j = 0; j < row; ++j) y[o + j] = x[i + j / s];
    });
    return {};
}

Status upsample_grad(const KernelContext &ctx) {
    const float *dy = ctx.inputs[0].f32();
    float *dx = ctx.outputs[0].f32();
    const Shape &ys = ctx.inputs[0].shape;
    if (ys.empty()) {
        dx[0] = dy[0];
        return {};
    }
    std::fill(dx, dx + ctx.outputs[0].numel(), 0.0f);
    const std::vector<int64_t> &scales = ctx.node->get_ints("scales");
    const int64_t row = ys.back(), s = scales.back();
    walk_upsample(ctx.outputs[0].shape, ys, scales, [&](int64_t o, int64_t i) {
        for (int64_t j = 0; j < row; ++j) dx[i + j / s] += dy[o + j];
    });
    return {};
}

} // namespace

void register_resample_kernels(KernelRegistry *registry) {
    registry->add(DeviceType::CPU, "Pad", pad);
    registry->add(DeviceType::CPU, "PadGrad", pad_grad);
    registry->add(DeviceType::CPU, "DepthToSpace", depth_to_space);
    registry->add(DeviceType::CPU, "SpaceToDepth", space_to_depth);
    registry->add(DeviceType::CPU, "Upsample", upsample);
    registry->add(DeviceType::CPU, "UpsampleGrad", upsample_grad);
}

} // namespace salus::cpu
