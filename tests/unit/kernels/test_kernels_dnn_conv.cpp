// How Conv, ConvTranspose and ConvGradWeight map onto cuDNN's convolution
// (exec/cuda/dnn_conv_plans.h), checked without CUDA; in a CUDA build also
// that their kernels prepare without a GPU (descriptors are host objects;
// the algorithm falls back to one needing no workspace). Their results are
// compared on a GPU (tests/cuda).
#include "dnn_test_util.h"
#include "exec/cuda/dnn_conv_plans.h"
#include "graph/shape_util.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace salus::test {
namespace {

using cuda::DnnConvPass;
using cuda::DnnConvPlan;

DnnConvPlan plan(Prepared &p) {
    p.init.node = &p.node;
    DnnConvPlan plan;
    const Status st = cuda::plan_dnn_conv(p.init, &plan);
    EXPECT_TRUE(st.ok()) << st.message();
    return plan;
}

TEST(DnnConvPlans, ConvIsTheForwardPass) {
    NodeDesc n = make_node("Conv");
    set_int(&n, "group", 2);
    set_ints(&n, "strides", {2, 1});
    set_ints(&n, "pads", {1, 0, 1, 0});
    set_ints(&n, "dilations", {1, 2});
    Prepared p = prepare(n, {{2, 4, 10, 8}, {6, 2, 3, 2}, {6}});
    const DnnConvPlan c = plan(p);
    EXPECT_EQ(c.pass, DnnConvPass::Forward);
    EXPECT_EQ(v4(c.x), (std::vector<int>{2, 4, 10, 8}));
    EXPECT_EQ(v4(c.w), (std::vector<int>{6, 2, 3, 2}));
    EXPECT_EQ(v4(c.y), (std::vector<int>{2, 6, 5, 6}));
    EXPECT_EQ(c.pad[0], 1);
    EXPECT_EQ(c.pad[1], 0);
    EXPECT_EQ(c.stride[0], 2);
    EXPECT_EQ(c.stride[1], 1);
    EXPECT_EQ(c.dilation[0], 1);
    EXPECT_EQ(c.dilation[1], 2);
    EXPECT_EQ(c.group, 2);
    EXPECT_EQ(c.bias, 6);
    EXPECT_FALSE(c.empty);
}

TEST(DnnConvPlans, OneDimensionalIsHeightOne) {
    NodeDesc n = make_node("Conv");
    set_ints(&n, "strides", {2});
    set_ints(&n, "pads", {1, 1});
    set_ints(&n, "dilations", {3});
    Prepared p = prepare(n, {{2, 3, 17}, {5, 3, 4}});
    const DnnConvPlan c = plan(p);
    EXPECT_EQ(v4(c.x), (std::vector<int>{2, 3, 1, 17}));
    EXPECT_EQ(v4(c.w), (std::vector<int>{5, 3, 1, 4}));
    EXPECT_EQ(v4(c.y), (std::vector<int>{2, 5, 1, 5}));
    EXPECT_EQ(c.pad[0], 0);
    EXPECT_EQ(c.pad[1], 1);
    EXPECT_EQ(c.stride[0], 1);
    EXPECT_EQ(c.stride[1], 2);
    EXPECT_EQ(c.dilation[0], 1);
    EXPECT_EQ(c.dilation[1], 3);
    EXPECT_EQ(c.bias, 0);
}

// The data gradient of the convolution from Y (output_padding included) to X.
TEST(DnnConvPlans, ConvTransposeIsTheDataGradient) {
    NodeDesc n = make_node("ConvTranspose");
    set_int(&n, "group", 2);
    set_ints(&n, "strides", {2, 2});
    set_ints(&n, "pads", {1, 1, 1, 1});
    set_ints(&n, "output_padding", {1, 0});
    Prepared p = prepare(n, {{2, 4, 5, 5}, {4, 3, 3, 3}, {6}});
    ASSERT_EQ(p.init.outputs[0].shape, (Shape{2, 6, 10, 9}));
    const DnnConvPlan c = plan(p);
    EXPECT_EQ(c.pass, DnnConvPass::BackwardData);
    EXPECT_EQ(v4(c.x), (std::vector<int>{2, 6, 10, 9}));
    EXPECT_EQ(v4(c.w), (std::vector<int>{4, 3, 3, 3}));
    EXPECT_EQ(v4(c.y), (std::vector<int>{2, 4, 5, 5}));
    EXPECT_EQ(c.group, 2);
    EXPECT_EQ(c.bias, 6);
}

TEST(DnnConvPlans, ConvGradWeightIsTheFilterGradient) {
    NodeDesc n = make_node("ConvGradWeight");
    set_ints(&n, "kernel_shape", {3, 3});
    Prepared with_db = prepare(n, {{2, 6, 3, 3}, {2, 4, 5, 5}}, 2);
    const DnnConvPlan c = plan(with_db);
    EXPECT_EQ(c.pass, DnnConvPass::BackwardFilter);
    EXPECT_EQ(v4(c.x), (std::vector<int>{2, 4, 5, 5}));
    EXPECT_EQ(v4(c.w), (std::vector<int>{6, 4, 3, 3}));
    EXPECT_EQ(v4(c.y), (std::vector<int>{2, 6, 3, 3}));
    EXPECT_EQ(c.bias, 6);
    Prepared without = prepare(n, {{2, 6, 3, 3}, {2, 4, 5, 5}});
    EXPECT_EQ(plan(without).bias, 0);
}

TEST(DnnConvPlans, EmptyTensorsRunNoConvolution) {
    Prepared batch = prepare(make_node("Conv"), {{0, 3, 5, 5}, {2, 3, 3, 3}});
    EXPECT_TRUE(plan(batch).empty);
    Prepared channels = prepare(make_node("Conv"), {{2, 0, 5, 5}, {2, 0, 3, 3}, {2}});
    const DnnConvPlan c = plan(channels);
    EXPECT_TRUE(c.empty);
    EXPECT_EQ(c.bias, 2);
}

TEST(DnnConvPlans, AsymmetricPadsPadXExplicitly) {
    NodeDesc n = make_node("Conv");
    set_ints(&n, "pads", {1, 0, 2, 0});
    Prepared p = prepare(n, {{1, 2, 6, 6}, {3, 2, 3, 3}});
    const DnnConvPlan c = plan(p);
    EXPECT_TRUE(c.explicit_pad);
    EXPECT_EQ(v4(c.x), (std::vector<int>{1, 2, 9, 6}));
    EXPECT_EQ(v4(c.y), (std::vector<int>{1, 3, 7, 4}));
    EXPECT_EQ(c.pad[0], 0);
    EXPECT_EQ(c.pad[1], 0);
    EXPECT_EQ(c.pad_map.before[2], 1);
    EXPECT_EQ(c.pad_map.before[3], 0);
    Prepared symmetric = prepare(make_node("Conv"), {{1, 2, 6, 6}, {3, 2, 3, 3}});
    EXPECT_FALSE(plan(symmetric).explicit_pad);
}

// Runs node's CPU kernel on inputs, outputs shaped by its inference.
std::vector<Tensor> run_cpu(const NodeDesc &node, const std::vector<const Tensor *> &inputs,
                            size_t outputs = 1) {
    std::vector<Shape> shapes;
    for (const Tensor *t : inputs) shapes.push_back(t->shape);
    Prepared p = prepare(node, shapes, outputs);
    std::vector<Tensor> out;
    for (const TensorView &v : p.init.outputs) out.emplace_back(v.shape);
    std::vector<Tensor *> ptrs;
    for (Tensor &t : out) ptrs.push_back(&t);
    const Status st = run_kernel(p.node, inputs, ptrs);
    EXPECT_TRUE(st.ok()) << node.op << ": " << st.message();
    return out;
}

void expect_near_all(const Tensor &got, const Tensor &want, const std::string &what) {
    ASSERT_EQ(got.shape, want.shape) << what;
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_NEAR(got.data[i], want.data[i], 1e-5 * (1 + std::abs(want.data[i])))
            << what << " at " << i;
    }
}

// The explicit padding computes what the pads say: the CPU kernels with
// asymmetric pads against the same kernels unpadded on X padded through the
// plan's map (the device code of the CUDA kernel's pad), and for
// ConvTranspose cropped through it (PadGrad's device code).
TEST(DnnConvPlans, ExplicitPaddingMatchesThePads) {
    std::mt19937 rng(3);
    struct Case {
        Shape x, w;
        std::vector<int64_t> pads, strides;
    };
    for (const Case &c : {Case{{2, 4, 7, 6}, {4, 2, 3, 2}, {1, 0, 2, 1}, {2, 1}},
                          Case{{1, 2, 9}, {4, 2, 3}, {0, 2}, {2}}}) {
        SCOPED_TRACE(shape_str(c.x) + " pads " + ints_str(c.pads));
        const int64_t k = c.w[0];
        const bool grouped = c.x[1] != c.w[1];
        NodeDesc conv = make_node("Conv");
        set_ints(&conv, "pads", c.pads);
        set_ints(&conv, "strides", c.strides);
        if (grouped) set_int(&conv, "group", c.x[1] / c.w[1]);
        NodeDesc unpadded = conv;
        set_ints(&unpadded, "pads", std::vector<int64_t>(c.pads.size(), 0));
        const Tensor x = random_tensor(c.x, rng), w = random_tensor(c.w, rng),
                     b = random_tensor({k}, rng);

        Prepared p = prepare(conv, {c.x, c.w, {k}});
        const DnnConvPlan plan_x = plan(p);
        ASSERT_TRUE(plan_x.explicit_pad);
        Tensor padded(Shape(plan_x.x, plan_x.x + 4));
        for (size_t i = 0; i < padded.size(); ++i) {
            const int64_t s = cuda::resample_source(plan_x.pad_map, static_cast<int64_t>(i));
            padded.data[i] = s < 0 ? 0.0f : x.data[static_cast<size_t>(s)];
        }
        if (c.x.size() == 3) padded.shape = {plan_x.x[0], plan_x.x[1], plan_x.x[3]};
        const Tensor y = run_cpu(conv, {&x, &w, &b})[0];
        expect_near_all(run_cpu(unpadded, {&padded, &w, &b})[0], y, "Conv");

        NodeDesc gw = make_node("ConvGradWeight"), gw_unpadded;
        gw.attrs = conv.attrs;
        set_ints(&gw, "kernel_shape", Shape(c.w.begin() + 2, c.w.end()));
        gw_unpadded = gw;
        set_ints(&gw_unpadded, "pads", std::vector<int64_t>(c.pads.size(), 0));
        const Tensor dy = random_tensor(y.shape, rng);
        expect_near_all(run_cpu(gw_unpadded, {&dy, &padded})[0], run_cpu(gw, {&dy, &x})[0],
                        "ConvGradWeight");

        // ConvTranspose from y's shape back to x's, with the same window: its
        // W has Conv's shape [K, C / group, ...], its B C channels.
        NodeDesc tconv = make_node("ConvTranspose");
        tconv.attrs = conv.attrs;
        const Tensor wt = random_tensor(c.w, rng), bt = random_tensor({c.x[1]}, rng);
        Prepared pt = prepare(tconv, {y.shape, wt.shape, bt.shape});
        const DnnConvPlan plan_t = plan(pt);
        ASSERT_TRUE(plan_t.explicit_pad);
        const Tensor want = run_cpu(tconv, {&y, &wt, &bt})[0];
        NodeDesc t_unpadded = tconv;
        set_ints(&t_unpadded, "pads", std::vector<int64_t>(c.pads.size(), 0));
        const Tensor full = run_cpu(t_unpadded, {&y, &wt, &bt})[0];
        ASSERT_EQ(num_elements(full.shape), num_elements(Shape(plan_t.x, plan_t.x + 4)));
        Tensor cropped(want.shape);
        for (size_t j = 0; j < cropped.size(); ++j) {
            cropped.data[j] =
                cuda::pad_grad_value(plan_t.pad_map, full.data.data(), static_cast<int64_t>(j));
        }
        expect_near_all(cropped, want, "ConvTranspose");
    }
}

#ifdef SALUS_HAVE_CUDA
// No device: descriptors are made and the algorithm needing no workspace is
// taken, so tools and tests can size sessions; what cuDNN cannot run is
// refused at prepare.
TEST(DnnConvKernels, PrepareWithoutADevice) {
    NodeDesc conv = make_node("Conv");
    set_ints(&conv, "pads", {1, 1, 1, 1});
    NodeDesc tconv = make_node("ConvTranspose");
    set_ints(&tconv, "strides", {2, 2});
    NodeDesc gw = make_node("ConvGradWeight");
    set_ints(&gw, "kernel_shape", {3, 3});
    std::vector<Prepared> ps;
    ps.push_back(prepare(conv, {{2, 3, 8, 8}, {4, 3, 3, 3}, {4}}));
    ps.push_back(prepare(tconv, {{2, 4, 5, 5}, {4, 3, 3, 3}, {3}}));
    ps.push_back(prepare(gw, {{2, 4, 6, 6}, {2, 3, 8, 8}}, 2));
    ps.push_back(prepare(make_node("Conv"), {{0, 3, 5, 5}, {2, 3, 3, 3}}));
    for (Prepared &p : ps) {
        p.init.node = &p.node;
        PreparedKernel k;
        const Status st = default_kernels().prepare(p.init, &k);
        ASSERT_TRUE(st.ok()) << p.node.op << ": " << st.message();
        ASSERT_NE(k.instance, nullptr);
        EXPECT_EQ(k.workspace_bytes, 0u) << p.node.op;
    }
    // Asymmetric pads: the padded X, [1, 2, 7, 7] floats, in the workspace
    // (with the slack that aligns it for cuDNN).
    NodeDesc asym = make_node("Conv");
    set_ints(&asym, "pads", {0, 0, 1, 1});
    Prepared p = prepare(asym, {{1, 2, 6, 6}, {3, 2, 3, 3}});
    p.init.node = &p.node;
    PreparedKernel k;
    ASSERT_TRUE(default_kernels().prepare(p.init, &k).ok());
    EXPECT_EQ(k.workspace_bytes, 2 * 7 * 7 * sizeof(float) + 256 - 64);
}

#endif

} // namespace
} // namespace salus::test
