// CPU kernels of the norm family (ops/norm.cpp).
#include "exec/cpu/cpu_kernels.h"

namespace salus::cpu {

void register_norm_kernels(KernelRegistry *registry) {
    (void)registry;
}

} // namespace salus::cpu
