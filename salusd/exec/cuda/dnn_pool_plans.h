// How MaxPool, AveragePool and their gradients map onto cuDNN's pooling, and
// which nodes stay on our own kernel (conv_kernels.cpp's PoolKernel) because
// cuDNN would not pool them as ONNX says:
//  - MaxPool with its Indices output (cuDNN has none);
//  - MaxPoolGrad: cuDNN does not say which of tied maxima (a window of
//    zeros after a ReLU) takes dY, ONNX and torch give it to the first;
//  - dilations other than 1 (cuDNN's pooling has none);
//  - asymmetric pads (cuDNN pads both ends of an axis alike);
//  - a ceil_mode window past the end pad: cuDNN documents only the floor
//    rule's output size (and with count_include_pad would divide by the
//    whole window where ONNX divides by the part inside X and its pads);
//  - tensors without elements (cuDNN refuses zero sizes) or beyond its int.
// Decided from canonical attributes and shapes when the session is prepared;
// plain C++, built everywhere, so the unit tests check the choice without
// CUDA. dnn_pool.cpp turns a plan into cuDNN calls.
#pragma once

#include "exec/cuda/dnn_shapes.h"

namespace salus::cuda {

enum class DnnPoolMode { Max, AverageIncludePad, AverageExcludePad };

struct DnnPoolPlan {
    DnnPoolMode mode = DnnPoolMode::Max;
    bool grad = false;
    int x[4] = {}, y[4] = {}; // NCHW; y is dY's for the gradient
    DnnWindow window;
};

// The plan of a pooling node; SALUS_ENOTSUP, saying why, for what stays on
// our kernel.
Status plan_dnn_pool(const KernelInit &init, DnnPoolPlan *p);

} // namespace salus::cuda
