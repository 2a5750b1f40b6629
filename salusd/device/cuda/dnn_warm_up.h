// The first convolution of a cuDNN handle loads cuDNN's convolution
// libraries (libcudnn_cnn, the precompiled engines) and with them their
// kernel modules, which take device memory: one 1x1 convolution of each
// pass, run while the streams are created, makes that happen before the
// daemon measures the free memory and claims its pool, never while serving.
// Pooling and batch normalization (libcudnn_ops) get the same: one unit
// pooling each way and one batch normalization of each pass.
#pragma once

#include "common/status.h"

#include <cudnn.h>

namespace salus::cuda {

// The device floats dnn_warm_up works in.
constexpr int kDnnWarmUpFloats = 16;

// Runs the forward, data-gradient and filter-gradient passes of a 1x1x1x1
// convolution, a 1x1 max pooling forward and backward, and batch
// normalization's inference, training and backward passes over two values,
// on `dnn`'s stream over scratch[0, kDnnWarmUpFloats) (zeroed).
Status dnn_warm_up(cudnnHandle_t dnn, float *scratch);

} // namespace salus::cuda
