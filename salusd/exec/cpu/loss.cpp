// CPU kernels of the loss family (ops/loss.cpp).
#include "exec/cpu/cpu_kernels.h"

namespace salus::cpu {

void register_loss_kernels(KernelRegistry *registry) {
    (void)registry;
}

} // namespace salus::cpu
