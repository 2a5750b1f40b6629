#include "exec/kernel.h"

namespace salus {

void KernelRegistry::put(KernelDef def) {
    for (KernelDef &e : entries_) {
        if (e.device == def.device && e.op == def.op) {
            e = std::move(def);
            return;
        }
    }
    entries_.push_back(std::move(def));
}

void KernelRegistry::add(DeviceType device, std::string_view op, KernelFn fn,
                         WorkspaceFn workspace) {
    put({device, std::string(op), fn, workspace, nullptr});
}

void KernelRegistry::add(DeviceType device, std::string_view op, KernelFactory create) {
    put({device, std::string(op), nullptr, nullptr, create});
}

const KernelDef *KernelRegistry::find(DeviceType device, std::string_view op) const {
    for (const KernelDef &e : entries_) {
        if (e.device == device && e.op == op) return &e;
    }
    return nullptr;
}

Status KernelRegistry::prepare(const KernelInit &init, PreparedKernel *out) const {
    const DeviceType device = init.device_type;
    const KernelDef *def = find(device, init.node->op);
    if (!def) return Status(SALUS_ENOTSUP, std::string("no ") + device_type_name(device) + " kernel");
    if (def->create) {
        SALUS_RETURN_IF_ERROR(def->create(init, &out->instance));
        out->workspace_bytes = out->instance->workspace_bytes();
        return {};
    }
    out->fn = def->fn;
    out->workspace_bytes = def->workspace ? def->workspace(init) : 0;
    return {};
}

Status prepare_kernels(const Graph &graph, const std::vector<uint32_t> &order,
                       DeviceType device_type, Device *device, const KernelRegistry &kernels,
                       std::vector<PreparedKernel> *out) {
    out->clear();
    out->resize(order.size());
    for (size_t s = 0; s < order.size(); ++s) {
        const NodeDesc &node = graph.nodes[order[s]];
        KernelInit init;
        init.node = &node;
        init.device_type = device_type;
        init.device = device;
        auto view = [&](uint32_t id) {
            const TensorDesc &t = graph.tensors[id];
            return TensorView{nullptr, t.dtype, t.shape};
        };
        for (uint32_t id : node.inputs) init.inputs.push_back(view(id));
        for (uint32_t id : node.outputs) init.outputs.push_back(view(id));
        Status st = kernels.prepare(init, &(*out)[s]);
        if (!st.ok()) return Status(st.code(), node_label(graph.nodes, order[s]) + ": " + st.message());
    }
    return {};
}

std::vector<uint64_t> workspace_bytes(const std::vector<PreparedKernel> &kernels) {
    std::vector<uint64_t> bytes;
    for (const PreparedKernel &k : kernels) bytes.push_back(k.workspace_bytes);
    return bytes;
}

const KernelRegistry &default_kernels() {
    static const KernelRegistry registry = [] {
        KernelRegistry r;
        register_cpu_kernels(&r);
#ifdef SALUS_HAVE_CUDA
        register_cuda_kernels(&r);
#endif
        return r;
    }();
    return registry;
}

} // namespace salus
