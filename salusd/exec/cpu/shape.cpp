// CPU kernels of the shape family (ops/shape.cpp).
#include "exec/cpu/cpu_kernels.h"

namespace salus::cpu {

void register_shape_kernels(KernelRegistry *registry) {
    (void)registry;
}

} // namespace salus::cpu
