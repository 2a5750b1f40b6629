// How our tensors and sliding windows look to cuDNN's 4-d NCHW API, shared by
// every cuDNN kernel's plan (convolution, pooling, batch normalization).
// Plain C++, built everywhere, so the unit tests check the mappings without
// CUDA.
#pragma once

#include "exec/kernel.h"
#include "ops/conv_window.h"

#include <string>

namespace salus::cuda {

// SALUS_ENOTSUP for node on cuDNN, saying why: the caller runs our own kernel
// or refuses the node.
Status dnn_unsupported(const NodeDesc &node, const std::string &why);

// s [N, C, spatial...] (1-D or 2-D) as cuDNN's NCHW, a 1-D one with height 1.
// cuDNN's 4-d descriptors take int sizes and strides: the whole tensor must
// fit.
Status dnn_nchw(const NodeDesc &node, const Shape &s, int out[4]);

// A window as cuDNN's (height, width); a 1-D window is the width's, with
// height 1. SALUS_ENOTSUP for sizes beyond cuDNN's int.
struct DnnWindow {
    int kernel[2] = {1, 1}, pad[2] = {}, stride[2] = {1, 1}, dilation[2] = {1, 1};
    int pad_end[2] = {};
    // cuDNN pads both ends of an axis alike, by pad: only a symmetric
    // window's pads are cuDNN's as they are.
    bool symmetric() const { return pad[0] == pad_end[0] && pad[1] == pad_end[1]; }
};
Status dnn_window(const NodeDesc &node, const Window &win, DnnWindow *out);

} // namespace salus::cuda
