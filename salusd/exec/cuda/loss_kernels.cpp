// CUDA kernels of the loss family (ops/loss.cpp).
#include "exec/cuda/cuda_kernels.h"

namespace salus::cuda {

void register_loss_kernels(KernelRegistry *registry) {
    (void)registry;
}

} // namespace salus::cuda
