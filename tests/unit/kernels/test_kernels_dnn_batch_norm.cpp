// Which batch normalization nodes run on cuDNN and how they map onto it
// (exec/cuda/dnn_batch_norm_plans.h), checked without CUDA: what cuDNN does
// not compute as our ops say stays on our kernels. In a CUDA build also that
// both kinds prepare without a GPU. Their results are compared on a GPU
// (tests/cuda/test_cuda_norm.cpp).
#include "dnn_test_util.h"
#include "exec/cuda/dnn_batch_norm_plans.h"
#include "graph/planner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace salus::test {
namespace {

using cuda::DnnBatchNormPass;
using cuda::DnnBatchNormPlan;

Prepared batch_norm(const std::string &op, const Shape &x, size_t outputs = 1) {
    const Shape c{x[1]};
    const bool grad = op.find("Grad") != std::string::npos;
    if (grad) return prepare(make_node(op), {x, x, c, c, c}, outputs);
    return prepare(make_node(op), {x, c, c, c, c}, outputs);
}

DnnBatchNormPlan fits(Prepared &p) {
    return fits(p, cuda::plan_dnn_batch_norm);
}

void stays_ours(Prepared &p, const std::string &why) {
    stays_ours(p, cuda::plan_dnn_batch_norm, why);
}

// Every rank is [N, C, inner, 1]: spatial mode reduces over all but C.
TEST(DnnBatchNormPlans, XIsNCInnerOne) {
    const std::vector<std::pair<Shape, std::vector<int>>> shapes = {
        {{8, 3}, {8, 3, 1, 1}},
        {{4, 5, 7}, {4, 5, 7, 1}},
        {{2, 3, 4, 5}, {2, 3, 20, 1}},
        {{2, 3, 2, 3, 4}, {2, 3, 24, 1}},
    };
    for (const auto &[x, want] : shapes) {
        Prepared p = batch_norm("BatchNormalization", x);
        const DnnBatchNormPlan c = fits(p);
        EXPECT_EQ(c.pass, DnnBatchNormPass::Inference);
        EXPECT_EQ(v4(c.x), want) << shape_str(x);
        EXPECT_DOUBLE_EQ(c.epsilon, 1e-5);
        EXPECT_EQ(cuda::dnn_batch_norm_workspace(c), 0u);
    }
}

// cuDNN's exponentialAverageFactor weighs the batch: 1 − ONNX's momentum.
TEST(DnnBatchNormPlans, TrainingFactorIsOneMinusMomentum) {
    Prepared p = batch_norm("BatchNormalizationTraining", {4, 3, 5, 5}, 3);
    set_float(&p.node, "momentum", 0.7);
    set_float(&p.node, "epsilon", 1e-3);
    const DnnBatchNormPlan c = fits(p);
    EXPECT_EQ(c.pass, DnnBatchNormPass::Training);
    EXPECT_DOUBLE_EQ(c.average_factor, 0.3);
    EXPECT_DOUBLE_EQ(c.epsilon, 1e-3);
    EXPECT_TRUE(c.saved_mean);
    EXPECT_TRUE(c.saved_inv_std);
    EXPECT_EQ(cuda::dnn_batch_norm_workspace(c), 0u);
}

// The saved statistics the graph does not ask for go to aligned slots of T.
TEST(DnnBatchNormPlans, MissingSavedStatisticsGoToTheWorkspace) {
    const size_t slot = kPlanAlignment; // 3 floats, rounded up
    Prepared none = batch_norm("BatchNormalizationTraining", {4, 3, 5}, 1);
    const DnnBatchNormPlan n = fits(none);
    EXPECT_FALSE(n.saved_mean);
    EXPECT_FALSE(n.saved_inv_std);
    EXPECT_EQ(cuda::dnn_batch_norm_workspace(n), 2 * slot);
    EXPECT_EQ(cuda::dnn_batch_norm_inv_std_slot(n), slot);
    Prepared mean_only = batch_norm("BatchNormalizationTraining", {4, 3, 5}, 2);
    const DnnBatchNormPlan m = fits(mean_only);
    EXPECT_TRUE(m.saved_mean);
    EXPECT_FALSE(m.saved_inv_std);
    EXPECT_EQ(cuda::dnn_batch_norm_workspace(m), slot);
    EXPECT_EQ(cuda::dnn_batch_norm_inv_std_slot(m), 0u);
}

TEST(DnnBatchNormPlans, GradientTakesXFromInputOne) {
    Prepared p = batch_norm("BatchNormalizationGrad", {6, 4, 3, 3}, 3);
    const DnnBatchNormPlan c = fits(p);
    EXPECT_EQ(c.pass, DnnBatchNormPass::Backward);
    EXPECT_EQ(v4(c.x), (std::vector<int>{6, 4, 9, 1}));
    EXPECT_EQ(cuda::dnn_batch_norm_workspace(c), 0u);
}

TEST(DnnBatchNormPlans, WhatCudnnDoesNotDoStaysOurs) {
    Prepared inference_grad = batch_norm("BatchNormalizationInferenceGrad", {2, 3, 4}, 3);
    stays_ours(inference_grad, "fixed statistics");
    Prepared negative = batch_norm("BatchNormalization", {2, 3, 4});
    set_float(&negative.node, "epsilon", -1e-5);
    stays_ours(negative, "CUDNN_BN_MIN_EPSILON");
    Prepared empty = batch_norm("BatchNormalization", {0, 3, 4});
    stays_ours(empty, "without elements");
    // Inference takes a single value per channel.
    Prepared one_inference = batch_norm("BatchNormalization", {1, 3});
    fits(one_inference);
}

#ifdef SALUS_HAVE_CUDA
TEST(DnnBatchNormKernels, PrepareWithoutADevice) {
    std::vector<std::pair<Prepared, size_t>> cases;
    cases.emplace_back(batch_norm("BatchNormalization", {2, 3, 4, 4}), 0);
    cases.emplace_back(batch_norm("BatchNormalizationTraining", {2, 3, 4, 4}, 1),
                       2 * kPlanAlignment);
    cases.emplace_back(batch_norm("BatchNormalizationTraining", {2, 3, 4, 4}, 3), 0);
    cases.emplace_back(batch_norm("BatchNormalizationGrad", {2, 3, 4, 4}, 3), 0);
    cases.emplace_back(batch_norm("BatchNormalization", {0, 3}), 0);                 // ours
    cases.emplace_back(batch_norm("BatchNormalizationInferenceGrad", {2, 3}, 3), 0); // ours
    for (auto &[p, workspace] : cases) {
        p.init.node = &p.node;
        PreparedKernel k;
        const Status st = default_kernels().prepare(p.init, &k);
        ASSERT_TRUE(st.ok()) << p.node.op << ": " << st.message();
        EXPECT_EQ(k.workspace_bytes, workspace) << p.node.op;
    }
}
#endif

} // namespace
} // namespace salus::test
