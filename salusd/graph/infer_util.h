// Building blocks of shape inference functions (ops/*.cpp). Attributes are
// canonical when inference runs (graph/ops.h), so these read them without
// fallbacks; messages name shapes and attributes, never the node: the
// validator prefixes its label.
#pragma once

#include "graph/ops.h"
#include "graph/shape_util.h"

#include <string>
#include <vector>

namespace salus::infer {

inline Status fail(std::string message) {
    return Status(SALUS_EGRAPH, std::move(message));
}

inline const Shape &shape_of(const std::vector<InputInfo> &inputs, size_t i) {
    return *inputs[i].shape;
}

// Guards the inputs an inference function indexes; the validator checked the
// op's arity and dtypes already (check_node_inputs), but inference is also
// called directly by tests and tools.
Status check_inputs(const NodeDesc &node, const std::vector<InputInfo> &inputs, size_t min);

Status set_single(std::vector<OutputInfo> *outputs, Shape shape, DType dtype = DType::F32);

// A 0/1 flag such as transA or keepdims; other values are refused rather than
// guessed at, so that kernels and inference cannot disagree.
Status flag_attr(const NodeDesc &node, std::string_view name, bool *out);

// A target shape given as an attribute becomes a tensor shape, so it obeys
// the same rank limit.
Status check_attr_rank(const NodeDesc &node, const std::vector<int64_t> &shape);

// node's "axis" attribute (or `attr`) normalized against x; x_name names x
// in the message.
Status axis_attr(const NodeDesc &node, const Shape &x, const char *x_name, int64_t *axis,
                 std::string_view attr = "axis");

// The two inputs have one shape, which the single output takes.
Status same_shape_pair(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                       const char *first, const char *second, std::vector<OutputInfo> *outputs);

// One output of every input's shape and dtype: Identity, activations.
InferSig infer_unary;

} // namespace salus::infer
