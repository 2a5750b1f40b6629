// Which pooling nodes run on cuDNN and how they map onto its pooling
// (exec/cuda/dnn_pool_plans.h), checked without CUDA: the cases cuDNN does
// not pool as ONNX says stay on our kernel. In a CUDA build also that both
// kinds prepare without a GPU (descriptors are host objects). Their results
// are compared on a GPU (tests/cuda/test_cuda_pool.cpp).
#include "dnn_test_util.h"
#include "exec/cuda/dnn_pool_plans.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace salus::test {
namespace {

using cuda::DnnPoolMode;
using cuda::DnnPoolPlan;

NodeDesc pool_node(const std::string &op, std::vector<int64_t> kernel,
                   std::vector<int64_t> strides = {}, std::vector<int64_t> pads = {},
                   int64_t ceil_mode = 0) {
    NodeDesc n = make_node(op);
    set_ints(&n, "kernel_shape", std::move(kernel));
    if (!strides.empty()) set_ints(&n, "strides", std::move(strides));
    if (!pads.empty()) set_ints(&n, "pads", std::move(pads));
    set_int(&n, "ceil_mode", ceil_mode);
    return n;
}

DnnPoolPlan fits(Prepared &p) {
    return fits(p, cuda::plan_dnn_pool);
}

void stays_ours(Prepared &p, const std::string &why) {
    stays_ours(p, cuda::plan_dnn_pool, why);
}

// The window's kernel, stride and pad, each as (height, width).
std::vector<int> window(const DnnPoolPlan &c) {
    const cuda::DnnWindow &w = c.window;
    return {w.kernel[0], w.kernel[1], w.stride[0], w.stride[1], w.pad[0], w.pad[1]};
}

TEST(DnnPoolPlans, MaxPoolIsCudnnMax) {
    Prepared p = prepare(pool_node("MaxPool", {3, 2}, {2, 1}, {1, 0, 1, 0}), {{2, 3, 9, 8}});
    const DnnPoolPlan c = fits(p);
    EXPECT_EQ(c.mode, DnnPoolMode::Max);
    EXPECT_FALSE(c.grad);
    EXPECT_EQ(v4(c.x), (std::vector<int>{2, 3, 9, 8}));
    EXPECT_EQ(v4(c.y), (std::vector<int>{2, 3, 5, 7}));
    EXPECT_EQ(window(c), (std::vector<int>{3, 2, 2, 1, 1, 0}));
}

TEST(DnnPoolPlans, OneDimensionalIsHeightOne) {
    Prepared p = prepare(pool_node("AveragePool", {4}, {3}, {1, 1}), {{2, 3, 10}});
    const DnnPoolPlan c = fits(p);
    EXPECT_EQ(c.mode, DnnPoolMode::AverageExcludePad);
    EXPECT_EQ(v4(c.x), (std::vector<int>{2, 3, 1, 10}));
    EXPECT_EQ(v4(c.y), (std::vector<int>{2, 3, 1, 3}));
    EXPECT_EQ(window(c), (std::vector<int>{1, 4, 1, 3, 0, 1}));
}

TEST(DnnPoolPlans, CountIncludePadPicksTheDivisor) {
    NodeDesc n = pool_node("AveragePool", {3, 3}, {2, 2}, {1, 1, 1, 1});
    set_int(&n, "count_include_pad", 1);
    Prepared include = prepare(n, {{1, 2, 9, 9}});
    EXPECT_EQ(fits(include).mode, DnnPoolMode::AverageIncludePad);
    set_int(&n, "count_include_pad", 0);
    Prepared exclude = prepare(n, {{1, 2, 9, 9}});
    EXPECT_EQ(fits(exclude).mode, DnnPoolMode::AverageExcludePad);
}

// The gradient describes X and dY; MaxPoolGrad stays ours (ties).
TEST(DnnPoolPlans, AveragePoolGradIsCudnnsBackward) {
    Prepared avg =
        prepare(pool_node("AveragePoolGrad", {2, 2}, {2, 2}), {{2, 3, 4, 4}, {2, 3, 8, 8}});
    const DnnPoolPlan a = fits(avg);
    EXPECT_TRUE(a.grad);
    EXPECT_EQ(v4(a.x), (std::vector<int>{2, 3, 8, 8}));
    EXPECT_EQ(v4(a.y), (std::vector<int>{2, 3, 4, 4}));
    Prepared mx = prepare(pool_node("MaxPoolGrad", {2, 2}, {2, 2}), {{2, 3, 4, 4}, {2, 3, 8, 8}});
    stays_ours(mx, "tied maxima");
}

// ceil_mode: cuDNN documents only the floor rule's output size, so a window
// past the end pad stays ours; where ceil and floor agree, cuDNN pools.
TEST(DnnPoolPlans, CeilModeFitsWhereItAddsNoWindow) {
    // 8 + 1 + 1 − 3 = 7, odd: the ceil window starting at 7 reaches 10, one
    // past the end pad.
    Prepared mx = prepare(pool_node("MaxPool", {3, 3}, {2, 2}, {1, 1, 1, 1}, 1), {{1, 2, 8, 8}});
    stays_ours(mx, "past the end pad");
    NodeDesc avg = pool_node("AveragePool", {3, 3}, {2, 2}, {1, 1, 1, 1}, 1);
    Prepared exclude = prepare(avg, {{1, 2, 8, 8}});
    stays_ours(exclude, "past the end pad");
    // 9 + 2 − 3 = 8, even: ceil and floor agree, no window past the pad.
    set_int(&avg, "count_include_pad", 1);
    Prepared within = prepare(avg, {{1, 2, 9, 9}});
    EXPECT_EQ(v4(fits(within).y), (std::vector<int>{1, 2, 5, 5}));
    EXPECT_EQ(fits(within).mode, DnnPoolMode::AverageIncludePad);
}

TEST(DnnPoolPlans, WhatCudnnDoesNotDoStaysOurs) {
    Prepared indices = prepare(pool_node("MaxPool", {2, 2}), {{1, 2, 4, 4}}, 2);
    stays_ours(indices, "Indices");
    NodeDesc dilated = pool_node("MaxPool", {2, 2});
    set_ints(&dilated, "dilations", {2, 1});
    Prepared d = prepare(dilated, {{1, 2, 6, 6}});
    stays_ours(d, "dilations");
    Prepared asym = prepare(pool_node("AveragePool", {3, 3}, {}, {1, 0, 0, 0}), {{1, 2, 6, 6}});
    stays_ours(asym, "asymmetric");
    Prepared empty = prepare(pool_node("MaxPool", {2, 2}), {{0, 2, 4, 4}});
    stays_ours(empty, "without elements");
    Prepared empty_grad =
        prepare(pool_node("AveragePoolGrad", {2, 2}, {2, 2}), {{2, 0, 2, 2}, {2, 0, 4, 4}});
    stays_ours(empty_grad, "without elements");
}

#ifdef SALUS_HAVE_CUDA
// No device: cuDNN's kernels and ours prepare alike, and size their workspace.
TEST(DnnPoolKernels, PrepareWithoutADevice) {
    std::vector<std::pair<Prepared, size_t>> cases;
    cases.emplace_back(prepare(pool_node("MaxPool", {3, 3}, {2, 2}, {1, 1, 1, 1}), {{2, 3, 8, 8}}),
                       0);
    cases.emplace_back(
        prepare(pool_node("AveragePoolGrad", {2, 2}, {2, 2}), {{2, 3, 4, 4}, {2, 3, 8, 8}}), 0);
    cases.emplace_back(
        prepare(pool_node("MaxPoolGrad", {2, 2}, {2, 2}), {{2, 3, 4, 4}, {2, 3, 8, 8}}),
        0); // ours
    cases.emplace_back(prepare(pool_node("AveragePool", {4}, {3}, {1, 1}), {{2, 3, 10}}), 0);
    cases.emplace_back(prepare(pool_node("MaxPool", {2, 2}), {{1, 2, 4, 4}}, 2), 0); // ours
    cases.emplace_back(prepare(pool_node("MaxPool", {2, 2}), {{0, 2, 4, 4}}), 0);    // ours
    for (auto &[p, workspace] : cases) {
        p.init.node = &p.node;
        PreparedKernel k;
        const Status st = default_kernels().prepare(p.init, &k);
        ASSERT_TRUE(st.ok()) << p.node.op << ": " << st.message();
        ASSERT_NE(k.instance, nullptr);
        EXPECT_EQ(k.workspace_bytes, workspace) << p.node.op;
    }
}
#endif

} // namespace
} // namespace salus::test
