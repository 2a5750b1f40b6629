#include "exec/kernel.h"

namespace salus {

void KernelRegistry::add(DeviceType device, std::string_view op, KernelFn fn) {
    for (Entry &e : entries_) {
        if (e.device == device && e.op == op) {
            e.fn = fn;
            return;
        }
    }
    entries_.push_back({device, std::string(op), fn});
}

KernelFn KernelRegistry::find(DeviceType device, std::string_view op) const {
    for (const Entry &e : entries_) {
        if (e.device == device && e.op == op) return e.fn;
    }
    return nullptr;
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
