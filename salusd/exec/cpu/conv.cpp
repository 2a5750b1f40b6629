// CPU kernels of the conv family (ops/conv.cpp): convolutions on oneDNN
// (conv_dnnl.cpp), pooling (pool.cpp), padding and resampling (resample.cpp).
#include "exec/cpu/conv_kernels.h"
#include "exec/cpu/cpu_kernels.h"

namespace salus::cpu {

void register_conv_kernels(KernelRegistry *registry) {
    register_conv_dnnl_kernels(registry);
    register_pool_kernels(registry);
    register_resample_kernels(registry);
}

} // namespace salus::cpu
