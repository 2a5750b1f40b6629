// Per-op shape inference functions, referenced by the op table in ops.cpp.
// Each checks what its kernel relies on (dtypes, ranks, attributes) and
// returns SALUS_EGRAPH with a message that names shapes but not the node:
// the validator prefixes the node label.
#pragma once

#include "graph/ops.h"

namespace salus {

using InferFn = Status(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       std::vector<OutputInfo> *outputs);

InferFn infer_matmul;
InferFn infer_broadcast_binary; // Add, Sub, Mul
InferFn infer_unary;            // Relu, Sigmoid, Tanh, Identity (keeps the dtype)
InferFn infer_relu_grad;
InferFn infer_activation_grad; // SigmoidGrad, TanhGrad
InferFn infer_softmax;
InferFn infer_softmax_grad;
InferFn infer_softmax_cross_entropy;
InferFn infer_softmax_cross_entropy_grad;
InferFn infer_one_hot;
InferFn infer_reduce; // ReduceSum, ReduceMean
InferFn infer_expand;
InferFn infer_reshape;
InferFn infer_transpose;
InferFn infer_sgd_update;
InferFn infer_adam_update;

} // namespace salus
