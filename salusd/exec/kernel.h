// The kernel interface. A kernel computes one node; it gets views of its
// input and output tensors (already placed by the memory planner) and its
// scratch space. Kernels must not allocate: everything they need is planned.
#pragma once

#include "device/device.h"
#include "graph/graph.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace salus {

struct TensorView {
    void *data = nullptr;
    DType dtype = DType::F32;
    Shape shape;

    float *f32() const { return static_cast<float *>(data); }
    int64_t numel() const { return num_elements(shape); }
};

struct KernelContext {
    const NodeDesc *node = nullptr;
    std::vector<TensorView> inputs;
    std::vector<TensorView> outputs;
    void *workspace = nullptr;
    size_t workspace_bytes = 0;
    // The lane's stream the kernel queues its work on (CUDA kernels launch
    // on it; CPU kernels run at once and ignore it).
    Stream *stream = nullptr;
    // The session's iterations run before this one (0 on the first): what
    // makes random ops (Dropout) reproducible per iteration.
    uint64_t iteration = 0;
    // The session's seed (SessionOptions.seed, 0 by default), mixed into each
    // random op's own: sessions of one graph with different seeds draw
    // different masks.
    uint64_t session_seed = 0;
};

// Returns OK or a SALUS_EEXEC status whose message says what went wrong.
// A CUDA kernel returns once its work is queued; errors of that work surface
// when the stream is synchronized.
using KernelFn = Status (*)(const KernelContext &ctx);

// What a kernel knows when the session is prepared: the node with canonical
// attributes (every default filled in: graph/ops.h), the inferred dtype and
// shape of each input and output, and the device it will run on.
struct KernelInit {
    const NodeDesc *node = nullptr;
    std::vector<TensorView> inputs; // data is null: nothing is placed yet
    std::vector<TensorView> outputs;
    DeviceType device_type = DeviceType::CPU;
    Device *device = nullptr; // null in tools and tests that only size kernels
};

// Scratch bytes a kernel needs during its node, planned into T.
using WorkspaceFn = size_t (*)(const KernelInit &init);

// A kernel with state prepared once per session: attributes parsed, library
// primitives created (oneDNN, cuDNN), scratch size known. run() is called on
// every iteration and must not allocate.
class OpKernel {
  public:
    virtual ~OpKernel() = default;
    virtual size_t workspace_bytes() const { return 0; }
    virtual Status run(const KernelContext &ctx) = 0;
};

using KernelFactory = Status (*)(const KernelInit &init, std::unique_ptr<OpKernel> *out);

// The factory of a kernel class K with `Status init(const KernelInit &)`.
template <typename K>
Status make_kernel(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    auto kernel = std::make_unique<K>();
    SALUS_RETURN_IF_ERROR(kernel->init(init));
    *out = std::move(kernel);
    return {};
}

// One device's kernel for one op: a plain function (with an optional
// scratch-size function) or a factory of prepared kernels.
struct KernelDef {
    DeviceType device = DeviceType::CPU;
    std::string op;
    KernelFn fn = nullptr;
    WorkspaceFn workspace = nullptr;
    KernelFactory create = nullptr;
};

// A kernel made ready for one node of one session.
struct PreparedKernel {
    KernelFn fn = nullptr;               // or
    std::unique_ptr<OpKernel> instance;  // a prepared one
    size_t workspace_bytes = 0;

    Status run(const KernelContext &ctx) const { return fn ? fn(ctx) : instance->run(ctx); }
};

class KernelRegistry {
  public:
    // Each replaces an earlier registration of the same (device, op).
    void add(DeviceType device, std::string_view op, KernelFn fn, WorkspaceFn workspace = nullptr);
    void add(DeviceType device, std::string_view op, KernelFactory create);
    // nullptr when the device has no kernel for op.
    const KernelDef *find(DeviceType device, std::string_view op) const;
    // Makes the kernel of init's node ready (SALUS_ENOTSUP when the device
    // has none); the error message does not name the node.
    Status prepare(const KernelInit &init, PreparedKernel *out) const;

  private:
    void put(KernelDef def);
    std::vector<KernelDef> entries_;
};

// Registers every CPU kernel (exec/cpu/).
void register_cpu_kernels(KernelRegistry *registry);
// Registers every CUDA kernel (exec/cuda/; builds with SALUS_HAVE_CUDA only).
void register_cuda_kernels(KernelRegistry *registry);

// Prepares the kernel of every step of `order` (a validated graph's) for
// `device_type`; the message names the node that failed.
Status prepare_kernels(const Graph &graph, const std::vector<uint32_t> &order,
                       DeviceType device_type, Device *device, const KernelRegistry &kernels,
                       std::vector<PreparedKernel> *out);

// The scratch bytes of each prepared kernel, what plan_memory() takes.
std::vector<uint64_t> workspace_bytes(const std::vector<PreparedKernel> &kernels);

// The registry with every kernel this build has, filled on first use.
const KernelRegistry &default_kernels();

} // namespace salus
