#include "exec/cuda/dnn_batch_norm_plans.h"

#include "exec/cpu/norm_kernels.h"
#include "exec/cuda/dnn_shapes.h"
#include "graph/planner.h"
#include "graph/shape_util.h"

#include <climits>
#include <string>

namespace salus::cuda {

namespace {

size_t slot_bytes(const DnnBatchNormPlan &p) {
    const size_t bytes = static_cast<size_t>(p.x[1]) * sizeof(float);
    return (bytes + kPlanAlignment - 1) / kPlanAlignment * kPlanAlignment;
}

} // namespace

Status plan_dnn_batch_norm(const KernelInit &init, DnnBatchNormPlan *p) {
    const NodeDesc &node = *init.node;
    const std::string &op = node.op;
    if (op == "BatchNormalization") {
        p->pass = DnnBatchNormPass::Inference;
    } else if (op == "BatchNormalizationTraining") {
        p->pass = DnnBatchNormPass::Training;
    } else if (op == "BatchNormalizationGrad") {
        p->pass = DnnBatchNormPass::Backward;
    } else if (op == "BatchNormalizationInferenceGrad") {
        return dnn_unsupported(node, "cuDNN has no backward through fixed statistics");
    } else {
        return Status(SALUS_EINTERNAL, op + " is not a cuDNN batch normalization");
    }
    const bool backward = p->pass == DnnBatchNormPass::Backward;
    const Shape &x = init.inputs[backward ? 1 : 0].shape;
    const cpu::ChannelSplit s = cpu::split_channels(x);
    if (num_elements(x) == 0)
        return dnn_unsupported(node, "cuDNN refuses tensors without elements");
    if (num_elements(x) > INT_MAX) {
        return dnn_unsupported(node, shape_str(x) + " has more elements than cuDNN's int strides");
    }
    p->x[0] = static_cast<int>(s.outer);
    p->x[1] = static_cast<int>(s.channels);
    p->x[2] = static_cast<int>(s.inner);
    p->x[3] = 1;
    // The gradient has no epsilon: cuDNN's backward takes the saved
    // statistics, and the smallest epsilon it accepts is only checked.
    p->epsilon = backward ? kDnnBatchNormMinEpsilon : node.get_float("epsilon");
    if (p->epsilon < kDnnBatchNormMinEpsilon) {
        return dnn_unsupported(node, "epsilon is below cuDNN's CUDNN_BN_MIN_EPSILON");
    }
    if (p->pass == DnnBatchNormPass::Training) {
        p->average_factor = 1.0 - node.get_float("momentum");
        p->saved_mean = init.outputs.size() > 1;
        p->saved_inv_std = init.outputs.size() > 2;
    }
    return {};
}

size_t dnn_batch_norm_workspace(const DnnBatchNormPlan &p) {
    if (p.pass != DnnBatchNormPass::Training) return 0;
    return (p.saved_mean ? 0 : slot_bytes(p)) + (p.saved_inv_std ? 0 : slot_bytes(p));
}

size_t dnn_batch_norm_inv_std_slot(const DnnBatchNormPlan &p) {
    return p.saved_mean ? 0 : slot_bytes(p);
}

} // namespace salus::cuda
