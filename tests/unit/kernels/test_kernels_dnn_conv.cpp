// How Conv, ConvTranspose and ConvGradWeight map onto cuDNN's convolution
// (exec/cuda/dnn_conv_plans.h), checked without CUDA; in a CUDA build also
// that their kernels prepare without a GPU (descriptors are host objects;
// the algorithm falls back to one needing no workspace) and refuse what
// cuDNN cannot run. Their results are compared on a GPU (tests/cuda).
#include "exec/cuda/dnn_conv_plans.h"
#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace salus::test {
namespace {

using cuda::DnnConvPass;
using cuda::DnnConvPlan;

// A node with canonical attributes and the shapes its inference gives.
struct Prepared {
    NodeDesc node;
    KernelInit init;
};

Prepared prepare(NodeDesc node, const std::vector<Shape> &inputs, size_t outputs = 1) {
    Prepared p;
    node.outputs.resize(outputs);
    const OpSchema *op = find_op(node.op);
    EXPECT_TRUE(canonicalize_attrs(*op, &node).ok());
    std::vector<InputInfo> infos;
    for (const Shape &s : inputs) infos.push_back({DType::F32, &s});
    std::vector<OutputInfo> outs;
    const Status st = infer_node(*op, &node, infos, &outs);
    EXPECT_TRUE(st.ok()) << st.message();
    p.node = std::move(node);
    p.init.device_type = DeviceType::CUDA;
    for (const Shape &s : inputs) p.init.inputs.push_back({nullptr, DType::F32, s});
    for (const OutputInfo &o : outs) p.init.outputs.push_back({nullptr, o.dtype, o.shape});
    return p;
}

DnnConvPlan plan(Prepared &p) {
    p.init.node = &p.node;
    DnnConvPlan plan;
    const Status st = cuda::plan_dnn_conv(p.init, &plan);
    EXPECT_TRUE(st.ok()) << st.message();
    return plan;
}

std::vector<int> v4(const int d[4]) {
    return {d[0], d[1], d[2], d[3]};
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

TEST(DnnConvPlans, AsymmetricPadsAreRefused) {
    NodeDesc n = make_node("Conv");
    set_ints(&n, "pads", {1, 0, 2, 0});
    Prepared p = prepare(n, {{1, 2, 6, 6}, {3, 2, 3, 3}});
    p.init.node = &p.node;
    DnnConvPlan c;
    const Status st = cuda::plan_dnn_conv(p.init, &c);
    EXPECT_EQ(st.code(), SALUS_ENOTSUP);
    EXPECT_NE(st.message().find("asymmetric"), std::string::npos) << st.message();
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
    NodeDesc asym = make_node("Conv");
    set_ints(&asym, "pads", {0, 0, 1, 1});
    Prepared p = prepare(asym, {{1, 2, 6, 6}, {3, 2, 3, 3}});
    p.init.node = &p.node;
    PreparedKernel k;
    EXPECT_EQ(default_kernels().prepare(p.init, &k).code(), SALUS_ENOTSUP);
}

// A session's preparation refuses asymmetric pads naming the node.
TEST(DnnConvKernels, AsymmetricPadsRefusedNamingTheNode) {
    NodeDesc n = make_node("Conv");
    n.name = "stem";
    set_ints(&n, "pads", {0, 1, 1, 1});
    ASSERT_TRUE(canonicalize_attrs(*find_op("Conv"), &n).ok());
    Graph g;
    for (const Shape &s : std::vector<Shape>{{1, 2, 6, 6}, {3, 2, 3, 3}, {1, 3, 5, 4}}) {
        TensorDesc t;
        t.shape = s;
        t.has_shape = true;
        g.tensors.push_back(t);
    }
    n.inputs = {0, 1};
    n.outputs = {2};
    g.nodes.push_back(n);
    std::vector<PreparedKernel> kernels;
    const Status st =
        prepare_kernels(g, {0}, DeviceType::CUDA, nullptr, default_kernels(), &kernels);
    EXPECT_EQ(st.code(), SALUS_ENOTSUP);
    EXPECT_NE(st.message().find("node 0 \"stem\" (Conv)"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("asymmetric"), std::string::npos) << st.message();
}
#endif

} // namespace
} // namespace salus::test
