// How Conv, ConvTranspose and ConvGradWeight map onto cuDNN's convolution,
// decided from canonical attributes and shapes when the session is prepared.
// Plain C++, built everywhere, so the unit tests check the mapping without
// CUDA; dnn_conv.cpp turns a plan into cuDNN descriptors.
//
// cuDNN sees one convolution from x to y with filter w, all NCHW:
//  - Conv: its forward pass, x = X, w = W, y = Y;
//  - ConvTranspose: the data gradient of the convolution from Y to X (ONNX's
//    definition): x = Y (output_padding lies in its size), w = W, y = X;
//  - ConvGradWeight: its filter gradient, x = X, w = dW, y = dY.
// 1-D convolutions are 2-D ones of height 1. cuDNN pads both ends of an axis
// alike: with asymmetric pads (ONNX models exported with SAME padding have
// them) the convolution runs unpadded on an explicitly padded X in T, which
// costs that copy only for such nodes.
#pragma once

#include "exec/cuda/conv_device.h"
#include "exec/cuda/dnn_shapes.h"

namespace salus::cuda {

enum class DnnConvPass { Forward, BackwardData, BackwardFilter };

struct DnnConvPlan {
    DnnConvPass pass = DnnConvPass::Forward;
    int x[4] = {}, w[4] = {}, y[4] = {}; // NCHW; w is [K, C/group, kh, kw]
    int pad[2] = {}, stride[2] = {}, dilation[2] = {};
    int group = 1;
    // Channels of the bias: Conv's and ConvTranspose's B added to Y, or
    // ConvGradWeight's dB summed from dY; 0 without one.
    int bias = 0;
    // x, w or y has no elements: no convolution runs; the output is zero
    // plus its bias (dB of an empty dY is zero).
    bool empty = false;
    // Asymmetric pads: x above is X zero-padded, in a buffer of T, and pad
    // is 0. Conv and ConvGradWeight pad X into it (pad_map: X into the
    // buffer); ConvTranspose computes it and crops X out (PadGrad's map).
    bool explicit_pad = false;
    ResampleMap pad_map;
};

// The plan of a Conv, ConvTranspose or ConvGradWeight node; SALUS_ENOTSUP
// for what cuDNN cannot run (sizes beyond its int dims).
Status plan_dnn_conv(const KernelInit &init, DnnConvPlan *p);

} // namespace salus::cuda
