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
#include <string>
#include <unordered_map>
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
    // Validates, plans (for the device: T holds its kernels' scratch space)
    // and finds kernels; on a device that is not host-visible also allocates
    // the session's staging buffer (host memory for every input and output).
    // No device memory yet: bind() next.
    static Status prepare(Device *device, const KernelRegistry &kernels, Graph graph,
                          std::unique_ptr<Executable> *out);
    // Prepares another graph of a session to run over the persistent region
    // of `base`, the session's first graph: each of its variables and
    // constants must be one of base's, by name, of the same kind, dtype and
    // shape, and a constant of the same value. It brings no persistent bytes
    // of its own (plan().persistent_bytes is 0) and no initial values: bind()
    // it to base's persistent block.
    static Status prepare_shared(Device *device, const KernelRegistry &kernels, Graph graph,
                                 const Executable &base, std::unique_ptr<Executable> *out);

    // Points the executable at plan().persistent_bytes at `persistent` and
    // plan().ephemeral_bytes at `arena` (either may be null when 0 bytes).
    // The first bind writes the initial values of variables and constants
    // and drops their host copies; a later bind (after the daemon moved the
    // block with its contents) only re-points. Fails only when the device
    // does (the initial values could not be written).
    Status bind(uint8_t *persistent, uint8_t *arena);
    bool bound() const { return bound_; }
    ~Executable();
    Executable(const Executable &) = delete;
    Executable &operator=(const Executable &) = delete;

    const Graph &graph() const { return graph_; }
    const MemoryPlan &plan() const { return plan_; }
    const std::vector<uint32_t> &order() const { return order_; }
    // Input tensor ids, in graph order.
    const std::vector<uint32_t> &inputs() const { return inputs_; }
    // Bytes of host staging memory the session holds (0 on a host-visible device).
    size_t staging_bytes() const { return staging_bytes_; }

    // Checks feeds against the graph: every input exactly once, dtype, shape
    // and byte count as declared. Cheap; call before queueing an iteration.
    Status check_feeds(const Feed *feeds, size_t n) const;
    // One value for tensor f.tensor (an input, or a variable being written):
    // dtype, shape and byte count as declared. `kind` names it in errors.
    Status check_value(const Feed &f, const char *kind) const;

    // Runs one iteration on `stream`: copies feeds into the arena (through
    // the staging buffer where the device is not host-visible), queues every
    // step, copies outputs back to host memory, and waits for the stream.
    // Feeds must have passed check_feeds(). Not thread-safe: one iteration at
    // a time. After a failure the stream is still waited for, so nothing of
    // the iteration is left running.
    Status run(Stream *stream, const Feed *feeds, size_t n);

    // Graph output i after run(), in host memory of output_bytes(i) bytes,
    // valid until the next run: the arena itself on a host-visible device
    // (no copy), else the session's staging buffer.
    const void *output_host(size_t i) const;

    // The variable or constant of this name: its tensor id, or an error
    // naming what is wrong (none, or several of that name).
    Status find_persistent(const std::string &name, uint32_t *id) const;
    // Copies persistent tensor `id` to host memory of its nbytes(), or
    // writes a variable from it, on `stream`, and waits. Between iterations
    // of the session only (its lane runs nothing else meanwhile).
    Status read_persistent(Stream *stream, uint32_t id, void *dst) const;
    Status write_persistent(Stream *stream, uint32_t id, const void *src);
    // The session's seed for random ops (KernelContext::session_seed); set
    // before the first iteration.
    void set_session_seed(uint64_t seed);
    uint64_t session_seed() const { return session_seed_; }
    // Copies output_host(i) to dst.
    void read_output(size_t i, void *dst) const;
    size_t output_bytes(size_t i) const;

  private:
    Executable(Device *device, Graph graph);
    void point_tensors();
    Status plan_staging();
    Status share_persistent(const Executable &base);
    Status write_zeros(uint32_t id);
    Status enqueue(Stream *stream, const Feed *feeds, size_t n);

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
    std::vector<PreparedKernel> step_kernels_;
    std::vector<KernelContext> step_contexts_;
    Stream *contexts_stream_ = nullptr; // the stream step_contexts_ name
    // Iterations enqueued so far (KernelContext::iteration).
    uint64_t iterations_ = 0;
    uint64_t session_seed_ = 0;
    // Host staging (devices that are not host-visible): one buffer, an
    // offset per input tensor (by tensor id) and per graph output.
    bool staged_ = false; // the device is not host-visible
    uint8_t *staging_ = nullptr;
    size_t staging_bytes_ = 0;
    std::vector<uint64_t> input_staging_;
    std::vector<uint64_t> output_staging_;
    // Named variables and constants by name (kAmbiguous: several), and each
    // constant's initial value hash, kept after bind() drops the values.
    static constexpr uint32_t kAmbiguous = UINT32_MAX;
    std::unordered_map<std::string, uint32_t> persistent_by_name_;
    // Variables sent without initial data: the first bind() zeroes them.
    std::vector<uint32_t> zero_variables_;
    std::vector<uint64_t> constant_hash_;
};

} // namespace salus
