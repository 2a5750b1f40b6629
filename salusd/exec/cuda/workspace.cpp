#include "exec/cuda/workspace.h"

#include "exec/cuda/loss_plans.h"
#include "exec/cuda/shape_plans.h"
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

namespace {

// Each group's mean and inverse standard deviation, for the parameter sums.
size_t group_norm_grad_workspace(const KernelInit &init) {
    const Shape &x = init.inputs[1].shape;
    const bool instance = init.node->op.rfind("Instance", 0) == 0;
    const int64_t groups = instance ? x[1] : init.node->get_int("num_groups");
    return 2 * static_cast<size_t>(x[0] * groups) * sizeof(float);
}

} // namespace

WorkspaceFn cuda_workspace_fn(std::string_view op) {
    struct Entry {
        std::string_view op;
        WorkspaceFn fn;
    };
    static constexpr Entry kWorkspaces[] = {
        {"MatMul", matmul_workspace},
        {"Gemm", matmul_workspace},
        {"SoftmaxCrossEntropy", softmax_cross_entropy_workspace},
        {"NegativeLogLikelihoodLoss", cuda::label_loss_workspace},
        {"NegativeLogLikelihoodLossGrad", cuda::label_loss_grad_workspace},
        {"SoftmaxCrossEntropyLoss", cuda::label_loss_workspace},
        {"SoftmaxCrossEntropyLossGrad", cuda::label_loss_grad_workspace},
        {"GroupNormalizationGrad", group_norm_grad_workspace},
        {"Gather", cuda::index_check_workspace},
        {"GatherGrad", cuda::index_check_workspace},
        {"GatherElements", cuda::index_check_workspace},
        {"GatherElementsGrad", cuda::index_check_workspace},
        {"InstanceNormalizationGrad", group_norm_grad_workspace},
    };
    for (const Entry &e : kWorkspaces) {
        if (e.op == op) return e.fn;
    }
    return nullptr;
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
