// Per-op shape inference functions, referenced by the op table in ops.cpp.
// Each checks what its kernel relies on (dtypes, ranks, attributes) and
// returns SALUS_EGRAPH with a message that names shapes but not the node:
// the validator prefixes the node label.
#pragma once

#include "graph/infer_util.h"

namespace salus {

InferSig infer_matmul;
InferSig infer_broadcast_binary; // Add, Sub, Mul
InferSig infer_relu_grad;
InferSig infer_activation_grad; // SigmoidGrad, TanhGrad
InferSig infer_softmax;
InferSig infer_softmax_grad;
InferSig infer_softmax_cross_entropy;
InferSig infer_softmax_cross_entropy_grad;
InferSig infer_one_hot;
InferSig infer_reduce; // ReduceSum, ReduceMean
InferSig infer_expand;
InferSig infer_reshape;
InferSig infer_transpose;

} // namespace salus
