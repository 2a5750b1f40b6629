// Shape rules of the loss family (ops/loss.cpp).
#pragma once

#include "graph/ops.h"

namespace salus::loss_infer {

InferSig reduce_extremum;      // ReduceMax, ReduceMin
InferSig reduce_extremum_grad; // ReduceMaxGrad, ReduceMinGrad: dY, X, Y -> dX
InferSig arg_extremum;         // ArgMax, ArgMin
InferSig nll_loss;             // NegativeLogLikelihoodLoss
InferSig nll_loss_grad;        // dLoss, input, target[, weight] -> dInput
InferSig sce_loss;             // SoftmaxCrossEntropyLoss
InferSig sce_loss_grad;        // dLoss, scores, labels[, weights] -> dScores
InferSig sgd_update;
InferSig sgd_momentum_update;
InferSig adam_update; // AdamUpdate, AdamWUpdate

} // namespace salus::loss_infer
