// The conv family's CPU kernels, one registration function per file.
#pragma once

#include "exec/kernel.h"

namespace salus::cpu {

void register_conv_dnnl_kernels(KernelRegistry *registry); // conv_dnnl.cpp
void register_pool_kernels(KernelRegistry *registry);      // pool.cpp
void register_resample_kernels(KernelRegistry *registry);  // resample.cpp

// pool_dnnl.cpp: pooling on oneDNN, where it computes what the op says
// (pool.cpp registers the ops and falls back to its loops elsewhere).
bool dnnl_pool_fits(const KernelInit &init);
Status make_dnnl_pool(const KernelInit &init, std::unique_ptr<OpKernel> *out);
Status make_dnnl_pool_grad(const KernelInit &init, std::unique_ptr<OpKernel> *out);

} // namespace salus::cpu
