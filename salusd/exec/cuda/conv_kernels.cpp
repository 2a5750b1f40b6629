// CUDA kernels of the conv family (ops/conv.cpp).
#include "exec/cuda/cuda_kernels.h"

namespace salus::cuda {

void register_conv_kernels(KernelRegistry *registry) {
    (void)registry;
}

} // namespace salus::cuda
