// Kernels run on the iteration hot path and must not allocate: this
// executable replaces the global operator new with a counting one and runs
// every kernel, on fast paths and general ones, while counting.
#include "kernel_cases.h"
#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "../counting_new.h"

namespace salus::test {
namespace {

struct Case {
    NodeDesc node;
    std::vector<Tensor> inputs;
    std::vector<Shape> outputs;
};

Case make_case(const std::string &op, std::vector<Shape> in, std::vector<Shape> out,
               std::mt19937 &rng) {
    Case c{make_node(op), {}, std::move(out)};
    for (const Shape &s : in) c.inputs.push_back(random_tensor(s, rng, 0.1f, 1.0f));
    return c;
}

TEST(KernelsNoAlloc, NoKernelAllocatesOnSuccess) {
    std::mt19937 rng(3);
    std::vector<Case> cases;
    for (const char *op : {"Add", "Sub", "Mul"}) {
        cases.push_back(make_case(op, {{4, 1, 3}, {2, 1}}, {{4, 2, 3}}, rng));
        cases.push_back(make_case(op, {{5, 7}, {7}}, {{5, 7}}, rng));
        cases.push_back(make_case(op, {{5, 7}, {5, 7}}, {{5, 7}}, rng));
    }
    for (const char *op : {"Relu", "Sigmoid", "Tanh", "Identity"}) {
        cases.push_back(make_case(op, {{3, 4}}, {{3, 4}}, rng));
    }
    for (const char *op : {"ReluGrad", "SigmoidGrad", "TanhGrad"}) {
        cases.push_back(make_case(op, {{3, 4}, {3, 4}}, {{3, 4}}, rng));
    }
    for (const char *op : {"Softmax", "SoftmaxGrad"}) {
        const bool grad = std::string(op) == "SoftmaxGrad";
        cases.push_back(make_case(
            op, grad ? std::vector<Shape>{{4, 3, 5}, {4, 3, 5}} : std::vector<Shape>{{4, 3, 5}},
            {{4, 3, 5}}, rng));
        set_int(&cases.back().node, "axis", 0);
    }
    cases.push_back(make_case("SoftmaxCrossEntropy", {{4, 6}, {4, 6}}, {{}}, rng));
    cases.push_back(make_case("SoftmaxCrossEntropyGrad", {{4, 6}, {4, 6}, {}}, {{4, 6}}, rng));
    for (const char *op : {"ReduceSum", "ReduceMean"}) {
        cases.push_back(make_case(op, {{2, 3, 4, 5}}, {{3, 5}}, rng));
        set_ints(&cases.back().node, "axes", {0, -2});
        set_int(&cases.back().node, "keepdims", 0);
    }
    cases.push_back(make_case("Expand", {{3, 1}}, {{2, 3, 4}}, rng));
    set_ints(&cases.back().node, "shape", {2, 3, 4});
    cases.push_back(make_case("Reshape", {{2, 3, 4}}, {{6, 4}}, rng));
    set_ints(&cases.back().node, "shape", {-1, 4});
    cases.push_back(make_case("Transpose", {{2, 3, 4}}, {{4, 2, 3}}, rng));
    set_ints(&cases.back().node, "perm", {2, 0, 1});
    cases.push_back(make_case("Transpose", {{40, 50}}, {{50, 40}}, rng));
    cases.push_back(make_case("SGDUpdate", {{3, 4}, {3, 4}}, {}, rng));
    set_float(&cases.back().node, "lr", 0.1);
    cases.push_back(make_case("AdamUpdate", {{3, 4}, {3, 4}, {3, 4}, {3, 4}, {}}, {}, rng));
    set_float(&cases.back().node, "lr", 0.1);
    // OneHot reads i32 indices: small non-negative integers as bits.
    cases.push_back(make_case("OneHot", {{5}}, {{5, 3}}, rng));
    set_int(&cases.back().node, "depth", 3);
    for (size_t i = 0; i < 5; ++i) {
        const int32_t index = static_cast<int32_t>(i % 4) - 1;
        std::memcpy(&cases.back().inputs[0].data[i], &index, sizeof index);
    }

    // The conv family's plain loops (oneDNN's: OneDnnExecuteAllocatesOnlyItsOwnBookkeeping):
    // MaxPool with Indices (i64: room for them as pairs of floats), and
    // count_include_pad with a ceil_mode window past the end pad.
    cases.push_back(make_case("MaxPool", {{2, 3, 7, 6}}, {{2, 3, 4, 3}, {2, 3, 4, 3, 2}}, rng));
    set_ints(&cases.back().node, "kernel_shape", {3, 2});
    set_ints(&cases.back().node, "strides", {2, 2});
    set_ints(&cases.back().node, "pads", {1, 0, 1, 0});
    for (const char *op : {"AveragePool", "AveragePoolGrad"}) {
        const bool grad = std::string(op) == "AveragePoolGrad";
        cases.push_back(make_case(
            op, grad ? std::vector<Shape>{{2, 3, 5}, {2, 3, 8}} : std::vector<Shape>{{2, 3, 8}},
            {grad ? Shape{2, 3, 8} : Shape{2, 3, 5}}, rng));
        set_ints(&cases.back().node, "kernel_shape", {3});
        set_ints(&cases.back().node, "strides", {2});
        set_ints(&cases.back().node, "pads", {1, 1});
        set_int(&cases.back().node, "ceil_mode", 1);
        set_int(&cases.back().node, "count_include_pad", 1);
    }
    cases.push_back(make_case("GlobalAveragePool", {{2, 3, 4, 5}}, {{2, 3, 1, 1}}, rng));
    for (const char *op : {"Pad", "PadGrad"}) {
        const bool grad = std::string(op) == "PadGrad";
        const Shape small{2, 3, 4}, big{3, 6, 5};
        cases.push_back(make_case(op, {grad ? big : small}, {grad ? small : big}, rng));
        set_ints(&cases.back().node, "pads", {1, 2, 0, 0, 1, 1});
        cases.back().node.attrs["mode"].type = AttrValue::Type::String;
        cases.back().node.attrs["mode"].s = "reflect";
    }
    cases.push_back(make_case("DepthToSpace", {{2, 8, 3, 2}}, {{2, 2, 6, 4}}, rng));
    set_int(&cases.back().node, "blocksize", 2);
    cases.push_back(make_case("SpaceToDepth", {{2, 2, 6, 4}}, {{2, 8, 3, 2}}, rng));
    set_int(&cases.back().node, "blocksize", 2);
    cases.push_back(make_case("Upsample", {{2, 3, 4}}, {{2, 6, 12}}, rng));
    set_ints(&cases.back().node, "scales", {1, 2, 3});
    cases.push_back(make_case("UpsampleGrad", {{2, 6, 12}}, {{2, 3, 4}}, rng));
    set_ints(&cases.back().node, "scales", {1, 2, 3});

    // The shape family; the gathers read i32 indices 0, 1, 2, ...
    const auto shape_case = [&](const char *op, std::vector<Shape> in, std::vector<Shape> out,
                                const char *key, std::vector<int64_t> ints) {
        cases.push_back(make_case(op, std::move(in), std::move(out), rng));
        if (key) set_ints(&cases.back().node, key, std::move(ints));
        if (std::string(op).rfind("Gather", 0) != 0) return;
        std::vector<float> &idx = cases.back().inputs[1].data;
        for (size_t i = 0; i < idx.size(); ++i) {
            const int32_t v = static_cast<int32_t>(i % 2);
            std::memcpy(&idx[i], &v, sizeof v);
        }
    };
    shape_case("Concat", {{2, 3}, {2, 1}}, {{2, 4}}, nullptr, {});
    set_int(&cases.back().node, "axis", 1);
    shape_case("Split", {{4, 3}}, {{1, 3}, {3, 3}}, "split", {1, 3});
    shape_case("Slice", {{5, 4}}, {{2, 4}}, "starts", {-1});
    set_ints(&cases.back().node, "ends", {0});
    set_ints(&cases.back().node, "steps", {-2});
    shape_case("SliceGrad", {{2, 4}}, {{5, 4}}, "starts", {-1});
    set_ints(&cases.back().node, "ends", {0});
    set_ints(&cases.back().node, "steps", {-2});
    set_ints(&cases.back().node, "shape", {5, 4});
    shape_case("Squeeze", {{1, 3}}, {{3}}, nullptr, {});
    shape_case("Unsqueeze", {{3}}, {{3, 1}}, "axes", {1});
    shape_case("Flatten", {{2, 3, 4}}, {{2, 12}}, nullptr, {});
    shape_case("Tile", {{2, 3}}, {{4, 6}}, "repeats", {2, 2});
    shape_case("TileGrad", {{4, 6}}, {{2, 3}}, "shape", {2, 3});
    shape_case("Gather", {{4, 3}, {5}}, {{5, 3}}, nullptr, {});
    shape_case("GatherGrad", {{5, 3}, {5}}, {{4, 3}}, "shape", {4, 3});
    shape_case("GatherElements", {{4, 3}, {2, 3}}, {{2, 3}}, nullptr, {});
    shape_case("GatherElementsGrad", {{2, 3}, {2, 3}}, {{4, 3}}, "shape", {4, 3});

    for (Case &c : cases) {
        std::vector<Tensor> outputs;
        for (const Shape &s : c.outputs) outputs.emplace_back(s);
        KernelContext ctx;
        ctx.node = &c.node;
        for (const Tensor &t : c.inputs) ctx.inputs.push_back(view(t));
        if (c.node.op == "OneHot") ctx.inputs[0].dtype = DType::I32;
        if (c.node.op.rfind("Gather", 0) == 0) ctx.inputs[1].dtype = DType::I32;
        for (const Tensor &t : outputs) ctx.outputs.push_back(view(t));
        // Preparing may allocate (it runs when the session is created);
        // running may not.
        NodeDesc node = c.node;
        ASSERT_TRUE(canonicalize_attrs(*find_op(node.op), &node).ok()) << node.op;
        ctx.node = &node;
        KernelInit init;
        init.node = &node;
        init.device = cpu_device();
        init.device_type = DeviceType::CPU;
        init.inputs = ctx.inputs;
        init.outputs = ctx.outputs;
        PreparedKernel kernel;
        ASSERT_TRUE(default_kernels().prepare(init, &kernel).ok()) << c.node.op;
        std::vector<uint8_t> workspace(kernel.workspace_bytes);
        ctx.workspace = workspace.empty() ? nullptr : workspace.data();
        ctx.workspace_bytes = workspace.size();

        g_allocations = 0;
        g_counting = true;
        const Status st = kernel.run(ctx);
        g_counting = false;
        ASSERT_TRUE(st.ok()) << c.node.op << ": " << st.message();
        EXPECT_EQ(g_allocations, 0) << c.node.op << " allocated on its success path";
    }
}

// Every case of the elementwise family's catalogue: each op on its fast and
// broadcast paths, every dtype.
TEST(KernelsNoAlloc, ElementwiseKernelsDoNotAllocate) {
    std::mt19937 rng(5);
    std::vector<KernelCase> cases;
    add_elementwise_cases(&cases);
    for (const KernelCase &c : cases) {
        CaseData d = instantiate(c, DeviceType::CPU, rng);
        NodeDesc node = c.node;
        ASSERT_TRUE(canonicalize_attrs(*find_op(node.op), &node).ok()) << c.label;
        KernelInit init;
        init.node = &node;
        init.device = cpu_device();
        init.device_type = DeviceType::CPU;
        for (const Tensor &t : d.inputs) init.inputs.push_back(view(t));
        for (const Tensor &t : d.outputs) init.outputs.push_back(view(t));
        PreparedKernel kernel;
        ASSERT_TRUE(default_kernels().prepare(init, &kernel).ok()) << c.label;
        KernelContext ctx;
        ctx.node = &node;
        ctx.inputs = init.inputs;
        ctx.outputs = init.outputs;

        g_allocations = 0;
        g_counting = true;
        const Status st = kernel.run(ctx);
        g_counting = false;
        ASSERT_TRUE(st.ok()) << c.label << ": " << st.message();
        EXPECT_EQ(g_allocations, 0) << c.label << " allocated on its success path";
    }
}

// oneDNN 2.6's dnnl_primitive_execute() builds a map of its arguments and an
// execution context on every call: 4 to 6 small allocations per primitive
// (ConvTranspose runs a nested backward-data convolution), reorders into
// and out of oneDNN's preferred layouts included; 5 to 18 per run here, for
// one to four primitives. No user scratchpad avoids them. The oneDNN
// kernels (exec/cpu/dnnl_kernel.h: convolutions, pooling, layer norm,
// MatMul and Gemm)
// allocate nothing of their own:
// primitives, memory objects and argument arrays are made when the session
// is prepared, the scratchpads and buffers are planned into T. The bound is
// what oneDNN needs; a count growing past it shows here.
TEST(KernelsNoAlloc, OneDnnExecuteAllocatesOnlyItsOwnBookkeeping) {
    std::mt19937 rng(4);
    std::vector<Case> cases;
    cases.push_back(make_case("Conv", {{2, 4, 9, 9}, {6, 2, 3, 3}, {6}}, {{2, 6, 5, 5}}, rng));
    set_int(&cases.back().node, "group", 2);
    set_ints(&cases.back().node, "strides", {2, 2});
    set_ints(&cases.back().node, "pads", {1, 1, 1, 1});
    cases.push_back(make_case("ConvTranspose", {{2, 6, 5, 5}, {6, 2, 3, 3}}, {{2, 4, 9, 9}}, rng));
    set_int(&cases.back().node, "group", 2);
    set_ints(&cases.back().node, "strides", {2, 2});
    set_ints(&cases.back().node, "pads", {1, 1, 1, 1});
    cases.push_back(
        make_case("ConvGradWeight", {{2, 6, 5, 5}, {2, 4, 9, 9}}, {{6, 2, 3, 3}, {6}}, rng));
    set_int(&cases.back().node, "group", 2);
    set_ints(&cases.back().node, "strides", {2, 2});
    set_ints(&cases.back().node, "pads", {1, 1, 1, 1});
    set_ints(&cases.back().node, "kernel_shape", {3, 3});
    cases.push_back(make_case("MaxPool", {{2, 3, 7, 6}}, {{2, 3, 4, 3}}, rng));
    set_ints(&cases.back().node, "kernel_shape", {3, 2});
    set_ints(&cases.back().node, "strides", {2, 2});
    set_ints(&cases.back().node, "pads", {1, 0, 1, 0});
    for (const char *op : {"MaxPoolGrad", "AveragePoolGrad"}) {
        cases.push_back(make_case(op, {{2, 3, 3, 3}, {2, 3, 7, 6}}, {{2, 3, 7, 6}}, rng));
        set_ints(&cases.back().node, "kernel_shape", {3, 2});
        set_ints(&cases.back().node, "strides", {2, 2});
        set_ints(&cases.back().node, "pads", {0, 1, 0, 0});
    }
    cases.push_back(make_case("AveragePool", {{2, 3, 9}}, {{2, 3, 5}}, rng));
    set_ints(&cases.back().node, "kernel_shape", {3});
    set_ints(&cases.back().node, "strides", {2});
    set_ints(&cases.back().node, "pads", {1, 1});
    set_int(&cases.back().node, "ceil_mode", 1);
    cases.push_back(make_case("MatMul", {{5, 3}, {4, 5}}, {{3, 4}}, rng));
    set_int(&cases.back().node, "transA", 1);
    set_int(&cases.back().node, "transB", 1);
    cases.push_back(make_case("MatMul", {{3, 1, 2, 4}, {2, 4, 5}}, {{3, 2, 2, 5}}, rng));
    cases.push_back(make_case("MatMul", {{3, 2, 4}, {4, 5}}, {{3, 2, 5}}, rng));
    cases.push_back(make_case("Gemm", {{2, 4}, {4, 5}, {5}}, {{2, 5}}, rng));
    cases.push_back(make_case("LayerNormalization", {{2, 3, 5}, {3, 5}, {3, 5}},
                              {{2, 3, 5}, {2, 1, 1}, {2, 1, 1}}, rng));
    set_int(&cases.back().node, "axis", 1);
    cases.push_back(make_case("LayerNormalizationGrad",
                              {{2, 3, 5}, {2, 3, 5}, {5}, {2, 3, 1}, {2, 3, 1}},
                              {{2, 3, 5}, {5}, {5}}, rng));
    for (Case &c : cases) {
        NodeDesc node = c.node;
        ASSERT_TRUE(canonicalize_attrs(*find_op(node.op), &node).ok()) << node.op;
        std::vector<Tensor> outputs;
        for (const Shape &s : c.outputs) outputs.emplace_back(s);
        KernelInit init;
        init.node = &node;
        init.device = cpu_device();
        init.device_type = DeviceType::CPU;
        for (const Tensor &t : c.inputs) init.inputs.push_back(view(t));
        for (const Tensor &t : outputs) init.outputs.push_back(view(t));
        PreparedKernel kernel;
        ASSERT_TRUE(default_kernels().prepare(init, &kernel).ok()) << node.op;
        std::vector<uint8_t> workspace(kernel.workspace_bytes);
        KernelContext ctx;
        ctx.node = &node;
        ctx.inputs = init.inputs;
        ctx.outputs = init.outputs;
        ctx.workspace = workspace.empty() ? nullptr : workspace.data();
        ctx.workspace_bytes = workspace.size();
        ASSERT_TRUE(kernel.run(ctx).ok()) << node.op; // oneDNN's first run sets itself up
        g_allocations = 0;
        g_counting = true;
        const Status st = kernel.run(ctx);
        g_counting = false;
        ASSERT_TRUE(st.ok()) << node.op << ": " << st.message();
        std::printf("%s: %ld allocations per run\n", node.op.c_str(), g_allocations);
        EXPECT_LE(g_allocations, 24) << node.op << " allocated more than oneDNN's execute needs";
    }
}

} // namespace
} // namespace salus::test
