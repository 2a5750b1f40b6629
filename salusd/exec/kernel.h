// The kernel interface. A kernel computes one node; it gets views of its
// input and output tensors (already placed by the memory planner) and its
// scratch space. Kernels must not allocate: everything they need is planned.
#pragma once

#include "device/device.h"
#include "graph/graph.h"

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
};

// Returns OK or a SALUS_EEXEC status whose message says what went wrong.
// A CUDA kernel returns once its work is queued; errors of that work surface
// when the stream is synchronized.
using KernelFn = Status (*)(const KernelContext &ctx);

class KernelRegistry {
  public:
    // Replaces an earlier registration of the same (device, op).
    void add(DeviceType device, std::string_view op, KernelFn fn);
    // nullptr when the device has no kernel for op.
    KernelFn find(DeviceType device, std::string_view op) const;

  private:
    struct Entry {
        DeviceType device;
        std::string op;
        KernelFn fn;
    };
    std::vector<Entry> entries_;
};

// Registers every CPU kernel (exec/cpu/).
void register_cpu_kernels(KernelRegistry *registry);
// Registers every CUDA kernel (exec/cuda/; builds with SALUS_HAVE_CUDA only).
void register_cuda_kernels(KernelRegistry *registry);

// The registry with every kernel this build has, filled on first use.
const KernelRegistry &default_kernels();

} // namespace salus
