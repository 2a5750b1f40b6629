// A session's graph made runnable on one device: its persistent region
// (variables, constants), its arena (everything one iteration needs) and a
// prepared kernel context per step. Running an iteration allocates nothing.
//
// The daemon prepares an Executable without memory, admits it with its exact
// P and T, then binds it to its persistent block and its lane's ephemeral
// region in the device pool (and binds it again when re-partitioning moves
// them). create() does all of that with memory of its own, for tools and tests.
#pragma once

#include "device/device.h"
#include "exec/kernel.h"
#include "graph/graph.h"
#include "graph/planner.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace salus {

// One fed tensor as it arrives from the client.
struct Feed {
    uint32_t tensor;
    DType dtype;
    const int64_t *shape;
    size_t rank;
    const void *data;
    size_t nbytes;
};

class Executable {
  public:
    // Validates the graph, plans its memory and claims both regions from the
    // device, initialising variables and constants.
    static Status create(Device *device, const KernelRegistry &kernels, Graph graph,
                         std::unique_ptr<Executable> *out);
    // Validates, plans and finds kernels; no device memory yet: bind() next.
    static Status prepare(Device *device, const KernelRegistry &kernels, Graph graph,
                          std::unique_ptr<Executable> *out);

    // Points the executable at plan().persistent_bytes at `persistent` and
    // plan().ephemeral_bytes at `arena` (either may be null when 0 bytes).
    // The first bind writes the initial values of variables and constants
    // and drops their host copies; a later bind (after the daemon moved the
    // block with its contents) only re-points.
    void bind(uint8_t *persistent, uint8_t *arena);
    bool bound() const { return bound_; }
    ~Executable();
    Executable(const Executable &) = delete;
    Executable &operator=(const Executable &) = delete;

    const Graph &graph() const { return graph_; }
    const MemoryPlan &plan() const { return plan_; }
    const std::vector<uint32_t> &order() const { return order_; }
    // Input tensor ids, in graph order.
    const std::vector<uint32_t> &inputs() const { return inputs_; }

    // Checks feeds against the graph: every input exactly once, dtype, shape
    // and byte count as declared. Cheap; call before queueing an iteration.
    Status check_feeds(const Feed *feeds, size_t n) const;

    // Runs one iteration: copies feeds into the arena, runs every step, and
    // leaves outputs in the arena until the next run. Feeds must have passed
    // check_feeds(). Not thread-safe: one iteration at a time.
    Status run(const Feed *feeds, size_t n);

    // Copies graph output i (after run) to host memory of output_bytes(i).
    void read_output(size_t i, void *dst) const;
    size_t output_bytes(size_t i) const;

  private:
    Executable(Device *device, Graph graph);
    void point_tensors();

    Device *device_;
    Graph graph_;
    std::vector<uint32_t> order_;
    std::vector<uint32_t> inputs_;
    MemoryPlan plan_;
    uint8_t *persistent_ = nullptr;
    uint8_t *arena_ = nullptr;
    bool bound_ = false;
    bool owns_memory_ = false; // create(): released with the executable
    std::vector<void *> tensor_data_;
    std::vector<KernelFn> step_kernels_;
    std::vector<KernelContext> step_contexts_;
};

} // namespace salus
