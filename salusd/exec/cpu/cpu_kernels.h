// The CPU kernels, one per op of doc/ops.md; cpu_kernels.cpp registers them.
#pragma once

#include "exec/kernel.h"

namespace salus::cpu {

// matmul.cpp: MatMul and Gemm on oneDNN.
Status make_matmul(const KernelInit &init, std::unique_ptr<OpKernel> *out);

// softmax.cpp
Status softmax(const KernelContext &ctx);
Status softmax_grad(const KernelContext &ctx);
Status softmax_cross_entropy(const KernelContext &ctx);
Status softmax_cross_entropy_grad(const KernelContext &ctx);

// one_hot.cpp
Status one_hot(const KernelContext &ctx);

// reduce.cpp
Status reduce_sum(const KernelContext &ctx);
Status reduce_mean(const KernelContext &ctx);
Status expand(const KernelContext &ctx);

// layout.cpp
Status identity(const KernelContext &ctx);
Status reshape(const KernelContext &ctx);
Status transpose(const KernelContext &ctx);

// Each family of ops/ registers its CPU kernels from its own file.
void register_elementwise_kernels(KernelRegistry *registry); // elementwise.cpp
void register_conv_kernels(KernelRegistry *registry);        // conv.cpp
void register_norm_kernels(KernelRegistry *registry);        // norm.cpp
void register_shape_kernels(KernelRegistry *registry);       // shape.cpp
void register_loss_kernels(KernelRegistry *registry);        // loss.cpp

// test_fault.cpp: TestFault, known only to daemons started for tests.
Status test_fault(const KernelContext &ctx);

} // namespace salus::cpu
