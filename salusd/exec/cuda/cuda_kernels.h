// The CUDA kernels, one per op of doc/ops.md; cuda_kernels.cpp registers
// them. Each checks its shapes (kernel_plans.h), queues its work on the
// lane's stream and returns; a kernel for a new op is one function here and
// one line in register_cuda_kernels().
#pragma once

#include "exec/kernel.h"

namespace salus::cuda {

Status copy(const KernelContext &ctx); // Identity and Reshape
Status softmax(const KernelContext &ctx);
Status softmax_grad(const KernelContext &ctx);
Status softmax_cross_entropy(const KernelContext &ctx);
Status softmax_cross_entropy_grad(const KernelContext &ctx);
Status reduce_sum(const KernelContext &ctx);
Status reduce_mean(const KernelContext &ctx);
Status expand(const KernelContext &ctx);
Status transpose(const KernelContext &ctx);
Status one_hot(const KernelContext &ctx);
Status test_fault(const KernelContext &ctx);

// The families of ops/ beyond the MLP set register their CUDA kernels from
// their own files (<family>_kernels.cpp).
void register_elementwise_kernels(KernelRegistry *registry);
void register_conv_kernels(KernelRegistry *registry);
void register_norm_kernels(KernelRegistry *registry);
void register_shape_kernels(KernelRegistry *registry);
void register_loss_kernels(KernelRegistry *registry);

// matmul.cpp: cuBLAS.
Status matmul(const KernelContext &ctx);

} // namespace salus::cuda
