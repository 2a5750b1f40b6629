// The memory planner: lifetimes from the order, then the placement of every
// ephemeral buffer (inputs, intermediates, per-step scratch; placement.h).
#include "graph/planner.h"

#include "graph/ops.h"
#include "graph/placement.h"

#include <algorithm>
#include <utility>

namespace salus {
namespace {

uint64_t align_up(uint64_t n) {
    return (n + kPlanAlignment - 1) / kPlanAlignment * kPlanAlignment;
}

} // namespace

bool is_view_op(const std::string &op) {
    return op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten" ||
           op == "Identity";
}

std::vector<size_t> view_roots(const Graph &graph, const std::vector<uint32_t> &order) {
    std::vector<size_t> root(graph.tensors.size());
    for (size_t t = 0; t < root.size(); ++t) root[t] = t;
    // Producers come before consumers, so an input's root is final here.
    for (uint32_t n : order) {
        const NodeDesc &node = graph.nodes[n];
        if (!is_view_op(node.op) || node.inputs.empty() || node.outputs.size() != 1) continue;
        const uint32_t in = node.inputs[0];
        const uint32_t out = node.outputs[0];
        const TensorDesc &x = graph.tensors[in];
        const TensorDesc &y = graph.tensors[out];
        if (x.persistent() || y.persistent() || x.nbytes() != y.nbytes()) continue;
        root[out] = root[in];
    }
    return root;
}

MemoryPlan plan_memory(const Graph &graph, const std::vector<uint32_t> &order,
                       const std::vector<uint64_t> &workspaces, Placement placement) {
    const size_t n_tensors = graph.tensors.size();
    // A graph without nodes still has one (virtual) step during which its
    // inputs are fed and its outputs read.
    const auto last_step = static_cast<uint32_t>(order.empty() ? 0 : order.size() - 1);

    MemoryPlan plan;
    plan.persistent_offset.assign(n_tensors, kNoOffset);
    plan.ephemeral_offset.assign(n_tensors, kNoOffset);
    plan.first_step.assign(n_tensors, 0);
    plan.last_step.assign(n_tensors, 0);

    for (size_t t = 0; t < n_tensors; ++t) {
        const TensorDesc &desc = graph.tensors[t];
        if (!desc.persistent()) continue;
        plan.persistent_offset[t] = plan.persistent_bytes;
        plan.persistent_bytes += align_up(desc.nbytes());
        plan.last_step[t] = last_step;
    }

    // Lifetimes: producers come before consumers in the order, so a single
    // pass sees an intermediate's first step before any of its uses.
    for (uint32_t step = 0; step < order.size(); ++step) {
        const NodeDesc &node = graph.nodes[order[step]];
        for (uint32_t t : node.inputs) {
            if (!graph.tensors[t].persistent()) {
                plan.last_step[t] = std::max(plan.last_step[t], step);
            }
        }
        for (uint32_t t : node.outputs) {
            plan.first_step[t] = step;
            plan.last_step[t] = std::max(plan.last_step[t], step);
        }
    }
    for (uint32_t t : graph.outputs) plan.last_step[t] = last_step;

    // A view's output shares its input's buffer (only variables are updated
    // in place, and views of them are not shared, so no write through one
    // name is seen through another): one buffer per root, live from the
    // first step of any of its tensors to the last.
    const std::vector<size_t> root = view_roots(graph, order);
    std::vector<uint32_t> group_first(n_tensors), group_last(n_tensors);
    for (size_t t = 0; t < n_tensors; ++t) {
        if (graph.tensors[t].persistent()) continue;
        const size_t r = root[t];
        group_first[r] = r == t ? plan.first_step[t] : std::min(group_first[r], plan.first_step[t]);
        group_last[r] = r == t ? plan.last_step[t] : std::max(group_last[r], plan.last_step[t]);
    }
    std::vector<PlacedBuffer> buffers;
    for (size_t t = 0; t < n_tensors; ++t) {
        if (graph.tensors[t].persistent() || root[t] != t) continue;
        buffers.push_back(
            {align_up(graph.tensors[t].nbytes()), group_first[t], group_last[t], t, kNoOffset});
    }
    plan.workspace_bytes = workspaces;
    plan.workspace_bytes.resize(order.size(), 0);
    plan.workspace_offset.assign(order.size(), 0);
    for (uint32_t step = 0; step < order.size(); ++step) {
        if (plan.workspace_bytes[step] == 0) continue;
        buffers.push_back(
            {align_up(plan.workspace_bytes[step]), step, step, n_tensors + step, kNoOffset});
    }

    plan.ephemeral_bytes = place_buffers(&buffers, placement);
    for (const PlacedBuffer &b : buffers) {
        if (b.id < n_tensors) {
            plan.ephemeral_offset[b.id] = b.offset;
        } else {
            plan.workspace_offset[b.id - n_tensors] = b.offset;
        }
    }
    for (size_t t = 0; t < n_tensors; ++t) {
        if (!graph.tensors[t].persistent() && root[t] != t) {
            plan.ephemeral_offset[t] = plan.ephemeral_offset[root[t]];
        }
    }
    return plan;
}

} // namespace salus
