// Shape rules of the norm family (ops/norm.cpp declares the ops).
#pragma once

#include "graph/ops.h"

namespace salus::norm_infer {

InferSig batch_norm;          // X, scale, B, mean, var -> Y
InferSig batch_norm_training; // -> Y, saved_mean, saved_inv_std
InferSig batch_norm_grad;     // dY, X, scale, mean, stat -> dX, dScale, dBias
InferSig layer_norm;          // X, Scale[, B] -> Y[, Mean, InvStdDev]
InferSig layer_norm_grad;     // dY, X, Scale, Mean, InvStdDev -> dX, dScale[, dB]
InferSig instance_norm;       // X, scale, B -> Y
InferSig group_norm;
InferSig channel_norm_grad; // dY, X, scale -> dX, dScale, dBias (instance, group)
InferSig dropout;           // data -> output[, mask]
InferSig dropout_grad;      // dY, mask -> dX

} // namespace salus::norm_infer
