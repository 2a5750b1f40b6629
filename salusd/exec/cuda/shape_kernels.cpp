// CUDA kernels of the shape family (ops/shape.cpp).
#include "exec/cuda/cuda_kernels.h"

namespace salus::cuda {

void register_shape_kernels(KernelRegistry *registry) {
    (void)registry;
}

} // namespace salus::cuda
