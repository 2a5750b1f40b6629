// Shape rules of the shape family (ops/shape.cpp) and the attribute
// arithmetic its kernels share with them: Slice's ONNX clamping is computed
// here once, for inference, the CPU kernels and the CUDA plans alike.
#pragma once

#include "graph/ops.h"

#include <cstdint>

namespace salus {

// One axis of a Slice after ONNX's normalization and clamping: `count`
// elements at start, start + step, ... (step may be negative).
struct SliceAxis {
    int64_t start = 0;
    int64_t step = 1;
    int64_t count = 0;
};

// Every axis of a sliced tensor (an axis the node does not name is taken
// whole), in fixed storage so that kernels can compute it without allocating.
struct SliceRanges {
    int rank = 0;
    SliceAxis axis[SALUS_MAX_RANK];
};

// The ranges Slice (or SliceGrad) `node` takes from a tensor of shape x; the
// message names the bad attribute, not the node.
Status slice_ranges(const NodeDesc &node, const Shape &x, SliceRanges *out);

InferSig infer_concat;
InferSig infer_split;
InferSig infer_slice;
InferSig infer_slice_grad;
InferSig infer_squeeze;
InferSig infer_unsqueeze;
InferSig infer_flatten;
InferSig infer_tile;
InferSig infer_tile_grad;
InferSig infer_gather;
InferSig infer_gather_grad;
InferSig infer_gather_elements;
InferSig infer_gather_elements_grad;
InferSig infer_gemm;

} // namespace salus
