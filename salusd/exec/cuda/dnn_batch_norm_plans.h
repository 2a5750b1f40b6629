// How the batch normalizations map onto cuDNN's (mode
// CUDNN_BATCHNORM_SPATIAL: one mean and variance per channel over N and every
// spatial position), and which nodes stay on our own kernels (norm.cu):
//  - BatchNormalization: cudnnBatchNormalizationForwardInference;
//  - BatchNormalizationTraining: cudnnBatchNormalizationForwardTraining, the
//    running statistics updated in place with exponentialAverageFactor =
//    1 − momentum (cuDNN's running = batch · factor + running · (1 − factor),
//    ours ONNX's running · momentum + batch · (1 − momentum)); its saved mean
//    and inverse standard deviation are our outputs 1 and 2, or buffers in T
//    when the graph does not ask for them (shape inference already refuses
//    one value per channel, where the unbiased running variance would divide
//    by zero);
//  - BatchNormalizationGrad: cudnnBatchNormalizationBackward from the saved
//    statistics;
//  - BatchNormalizationInferenceGrad stays ours (cuDNN has no backward
//    through fixed statistics), as does an epsilon below
//    CUDNN_BN_MIN_EPSILON, and tensors without elements (cuDNN refuses zero
//    sizes) or beyond its int.
// X [N, C, ...] of any rank is [N, C, inner, 1] to cuDNN (spatial mode
// reduces over every axis but 1 alike). Plain C++, built everywhere, so the
// unit tests check the choice without CUDA; dnn_batch_norm.cpp runs a plan.
#pragma once

#include "exec/kernel.h"

#include <cstddef>

namespace salus::cuda {

// cuDNN 9's CUDNN_BN_MIN_EPSILON (cudnn_ops.h; dnn_batch_norm.cpp checks
// that they agree).
constexpr double kDnnBatchNormMinEpsilon = 0.0;

enum class DnnBatchNormPass { Inference, Training, Backward };

struct DnnBatchNormPlan {
    DnnBatchNormPass pass = DnnBatchNormPass::Inference;
    int x[4] = {}; // [N, C, inner, 1]
    double epsilon = 0.0;
    double average_factor = 0.0; // Training: 1 − momentum
    // Training: whether the node has the output (else a buffer in T).
    bool saved_mean = false, saved_inv_std = false;
};

// The plan of a batch normalization node; SALUS_ENOTSUP, saying why, for what
// stays on our kernel.
Status plan_dnn_batch_norm(const KernelInit &init, DnnBatchNormPlan *p);

// Scratch bytes: a slot of C floats for each saved statistic the graph does
// not ask for, each slot aligned as the planner aligns tensors.
size_t dnn_batch_norm_workspace(const DnnBatchNormPlan &p);
// The byte offset of the saved inverse standard deviation's slot (after the
// mean's, when that has one).
size_t dnn_batch_norm_inv_std_slot(const DnnBatchNormPlan &p);

} // namespace salus::cuda
