// The conv family's CPU kernels, one registration function per file.
#pragma once

#include "exec/kernel.h"

namespace salus::cpu {

void register_conv_dnnl_kernels(KernelRegistry *registry); // conv_dnnl.cpp
void register_pool_kernels(KernelRegistry *registry);      // pool.cpp
void register_resample_kernels(KernelRegistry *registry);  // resample.cpp

} // namespace salus::cpu
