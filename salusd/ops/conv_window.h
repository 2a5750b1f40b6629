// The sliding-window geometry of the conv family (Conv, ConvTranspose,
// ConvGradWeight, MaxPool, AveragePool and their grads): strides, pads,
// dilations and output sizes, read once from canonical attributes. Shape
// inference and the kernels of every device share it, so they cannot
// disagree.
#pragma once

#include "graph/graph.h"

#include <cstdint>
#include <vector>

namespace salus {

// 1-D and 2-D windows: X is [N, C, L] or [N, C, H, W].
constexpr int kMaxSpatial = 2;

struct Window {
    int rank = 0; // spatial axes
    int64_t kernel[kMaxSpatial] = {};
    int64_t stride[kMaxSpatial] = {};
    int64_t dilation[kMaxSpatial] = {};
    int64_t pad_begin[kMaxSpatial] = {};
    int64_t pad_end[kMaxSpatial] = {};
    int64_t output_padding[kMaxSpatial] = {}; // ConvTranspose's
    int64_t in[kMaxSpatial] = {};             // X's spatial sizes
    int64_t out[kMaxSpatial] = {};            // Y's spatial sizes

    // The span one window covers in X.
    int64_t extent(int a) const { return dilation[a] * (kernel[a] - 1) + 1; }
    // How far the last window reaches past X's end: at most pad_end, except
    // under ceil_mode, where it may reach past the end pad.
    int64_t end_reach(int a) const {
        return (out[a] - 1) * stride[a] + extent(a) - in[a] - pad_begin[a];
    }
};

enum class WindowRule {
    Floor,     // Conv, pools with ceil_mode 0
    Ceil,      // pools with ceil_mode 1 (a window must start inside X or its begin pad)
    Transpose, // ConvTranspose: out = stride·(in−1) + output_padding + extent − pads
};

// Reads `strides`, `pads`, `dilations` (where the op has it) and
// `output_padding` (rule Transpose) of node for input x [N, C, spatial...]
// and the spatial kernel sizes, and computes the output sizes. An empty
// strides/dilations list means 1 on every spatial axis and an empty pads
// list 0: the schema's defaults, interpreted here only. The message names
// the attribute and shapes, not the node.
Status make_window(const NodeDesc &node, const Shape &x, const std::vector<int64_t> &kernel,
                   WindowRule rule, Window *w);

// The window rule of a pooling node (its ceil_mode attribute).
WindowRule pool_rule(const NodeDesc &node);

// [N, C, out...]: the output shape of a window over x with `channels` output channels.
Shape window_output_shape(const Shape &x, int64_t channels, const Window &w);

} // namespace salus
