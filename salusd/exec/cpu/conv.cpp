// CPU kernels of the conv family (ops/conv.cpp).
#include "exec/cpu/cpu_kernels.h"

namespace salus::cpu {

void register_conv_kernels(KernelRegistry *registry) {
    (void)registry;
}

} // namespace salus::cpu
