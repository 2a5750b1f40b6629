#include "exec/cuda/workspace.h"

#include "graph/planner.h"

namespace salus {

size_t matmul_workspace(const KernelInit & /*init*/) {
    return kCublasWorkspaceBytes + kCublasWorkspaceAlignment - kPlanAlignment;
}

size_t softmax_cross_entropy_workspace(const KernelInit &init) {
    if (init.inputs.empty() || init.inputs[0].shape.empty()) return 0;
    // Logits are [N, C] (shape inference checked it): one double per row.
    return static_cast<size_t>(init.inputs[0].shape[0]) * sizeof(double);
}

AlignedWorkspace cuda_workspace_aligned(void *workspace, size_t bytes) {
    const auto at = reinterpret_cast<uintptr_t>(workspace);
    const uintptr_t aligned = (at + kCublasWorkspaceAlignment - 1) / kCublasWorkspaceAlignment *
                              kCublasWorkspaceAlignment;
    const size_t skip = aligned - at;
    if (!workspace || skip > bytes) return {};
    return {reinterpret_cast<void *>(aligned), bytes - skip};
}

} // namespace salus
