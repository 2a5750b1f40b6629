// Shape rules of the conv family (ops/conv.cpp).
#pragma once

#include "graph/infer_util.h"

namespace salus {

InferSig infer_conv;
InferSig infer_conv_transpose;
InferSig infer_conv_grad_weight;
InferSig infer_max_pool;
InferSig infer_average_pool;
InferSig infer_pool_grad; // MaxPoolGrad, AveragePoolGrad
InferSig infer_global_average_pool;
InferSig infer_pad;
InferSig infer_pad_grad;
InferSig infer_depth_to_space;
InferSig infer_space_to_depth;
InferSig infer_upsample;
InferSig infer_upsample_grad;

} // namespace salus
