// Graph validation and shape inference.
#pragma once

#include "graph/graph.h"

#include <cstdint>
#include <vector>

namespace salus {

struct ValidationLimits {
    uint64_t max_tensor_bytes = 1ull << 34; // 16 GiB
    size_t max_tensors = 1u << 20;
    size_t max_nodes = 1u << 20;
};

// Checks the graph and fills in every intermediate tensor's inferred shape.
// On success `order` holds every node index in an order that respects data
// dependencies and runs each in-place update after all other readers of the
// variable it writes. On failure the message names the offending node or
// tensor and the graph is left unchanged.
Status validate_graph(Graph *graph, std::vector<uint32_t> *order,
                      const ValidationLimits &limits = ValidationLimits());

} // namespace salus
