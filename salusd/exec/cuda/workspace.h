// Scratch space of the CUDA kernels that have no state of their own: what a
// kernel needs besides its inputs and outputs, planned into the session's
// ephemeral memory T like any tensor, so that no kernel allocates behind the
// planner's back. Registered beside the kernels (cuda_kernels.cpp); built on
// every machine so the unit tests check the sizes.
//  - MatMul gives cuBLAS a workspace of kCublasWorkspaceBytes (cuBLAS would
//    otherwise use a pool of its own, device memory the planner cannot see).
//    4 MiB is cuBLAS's recommended size before Hopper; it recommends 32 MiB
//    on Hopper for large GEMMs, but every MatMul session would then carry
//    32 MiB more in T, a poor trade for the small jobs Salus packs together;
//    with 4 MiB cuBLAS still has its split-K algorithms for the GEMM sizes of
//    such jobs. cuBLAS wants the workspace 256-byte aligned and the planner
//    aligns to 64 (kPlanAlignment), so the plan reserves 192 bytes more and
//    the kernel aligns the pointer up (cuda_workspace_aligned()).
//  - SoftmaxCrossEntropy keeps one double per row (the row losses, summed
//    in double as on the CPU) before it sums them into the mean.
#pragma once

#include "exec/kernel.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace salus {

constexpr size_t kCublasWorkspaceBytes = size_t{4} << 20;
constexpr size_t kCublasWorkspaceAlignment = 256;

size_t matmul_workspace(const KernelInit &init);
size_t softmax_cross_entropy_workspace(const KernelInit &init);

// The scratch-size function of `op`'s CUDA kernel, or nullptr when it needs
// none (or is a prepared OpKernel that sizes itself). The one list the CUDA
// registration reads; built without the CUDA toolkit too, so tools and the
// device-code tests size CUDA plans in any build.
WorkspaceFn cuda_workspace_fn(std::string_view op);

// The 256-byte aligned start of a MatMul workspace planned by
// matmul_workspace() for CUDA, and what remains of it from there: at least
// kCublasWorkspaceBytes whenever the plan's alignment holds.
struct AlignedWorkspace {
    void *data = nullptr;
    size_t bytes = 0;
};
AlignedWorkspace cuda_workspace_aligned(void *workspace, size_t bytes);

} // namespace salus
