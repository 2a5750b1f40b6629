// The memory planner: exact persistent bytes P and ephemeral peak T of a
// validated graph, and the offset of every tensor in its region.
#pragma once

#include "graph/graph.h"
#include "graph/placement.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace salus {

// Every buffer starts at a multiple of this, so kernels may use aligned loads.
constexpr uint64_t kPlanAlignment = 64;
constexpr uint64_t kNoOffset = std::numeric_limits<uint64_t>::max();

struct MemoryPlan {
    uint64_t persistent_bytes = 0; // P: variables and constants
    uint64_t ephemeral_bytes = 0;  // T: peak of the arena for one iteration
    // Per tensor: offset in the persistent region (variables, constants) or
    // in the arena (inputs, intermediates); kNoOffset in the other one.
    std::vector<uint64_t> persistent_offset;
    std::vector<uint64_t> ephemeral_offset;
    // Per step of the order: scratch offset in the arena and its size (0: none).
    std::vector<uint64_t> workspace_offset;
    std::vector<uint64_t> workspace_bytes;
    // Per tensor: the first and last step (index into the order) during which
    // it is live; inputs are live from step 0 and outputs to the last step.
    std::vector<uint32_t> first_step;
    std::vector<uint32_t> last_step;
};

// Requires a graph that passed validate_graph() and its order.
// Ephemeral buffers are placed as `placement` says (placement.h: greedily by
// size up to a few thousand buffers, by step beyond).
// `workspaces` holds the scratch bytes of each step's kernel (missing ones
// are 0); kernels are per device (exec/kernel.h), so T is too.
// A view (is_view_op: Reshape, Squeeze, Unsqueeze, Flatten, Identity) of an
// ephemeral tensor shares that tensor's buffer: its ephemeral_offset is the
// input's, and its kernel moves nothing. first_step and last_step stay each
// tensor's own.
MemoryPlan plan_memory(const Graph &graph, const std::vector<uint32_t> &order,
                       const std::vector<uint64_t> &workspaces = {},
                       Placement placement = Placement::Auto);

// Whether op's output is its input's bytes unchanged.
bool is_view_op(const std::string &op);

// Per tensor: the tensor whose buffer it uses (itself, or for the output of
// a view of an ephemeral tensor of the same size, that tensor's root).
std::vector<size_t> view_roots(const Graph &graph, const std::vector<uint32_t> &order);

} // namespace salus
