// The loss family (ops/loss.cpp): malformed uses refused at validation with
// a message naming the node; kernel edge cases (out-of-range and ignored
// labels, ties, NaN, the optimizers' first steps, decoupled decay); no
// allocation on any kernel's success path. The CUDA kernels' device code is
// checked against these CPU kernels by test_kernels_cuda_device_code.cpp
// (loss_cases.h).
#include "../graph/graph_helpers.h"
#include "graph/validate.h"
#include "kernel_cases.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "../counting_new.h"

namespace salus::test {
namespace {

AttrValue string_attr(std::string s) {
    AttrValue a;
    a.type = AttrValue::Type::String;
    a.s = std::move(s);
    return a;
}

// --- validation ---------------------------------------------------------------

struct Malformed {
    const char *what;
    void (*build)(GraphBuilder &b);
    std::string expected;
};

uint32_t labels(GraphBuilder &b, Shape shape, DType dtype = DType::I64) {
    return b.tensor("labels", TensorKind::Input, std::move(shape), true, dtype);
}

std::vector<Malformed> malformed() {
    return {
        {"reduce axis out of range",
         [](GraphBuilder &b) {
             b.output(b.op("ReduceMax", {b.input("x", {2, 3})}, {{"axes", ints_attr({2})}}, "r"));
         },
         "node 0 \"r\" (ReduceMax): ReduceMax axis 2 is out of range for X [2, 3]"},
        {"reduce grad with a wrong dY",
         [](GraphBuilder &b) {
             const uint32_t x = b.input("x", {2, 3});
             b.output(b.op("ReduceMaxGrad", {b.input("dy", {3}), x, b.input("y", {2})},
                           {{"axes", ints_attr({1})}, {"keepdims", int_attr(0)}}, "rg"));
         },
         "node 0 \"rg\" (ReduceMaxGrad): ReduceMaxGrad needs dY and Y of the reduced shape [2]"},
        {"argmax axis out of range",
         [](GraphBuilder &b) {
             b.output(b.op("ArgMax", {b.input("x", {2, 3})}, {{"axis", int_attr(-3)}}, "a"));
         },
         "node 0 \"a\" (ArgMax): ArgMax axis -3 is out of range"},
        {"argmin select_last_index not a flag",
         [](GraphBuilder &b) {
             b.output(
                 b.op("ArgMin", {b.input("x", {2, 3})}, {{"select_last_index", int_attr(2)}}, "a"));
         },
         "node 0 \"a\" (ArgMin): ArgMin attribute \"select_last_index\" must be 0 or 1, got 2"},
        {"argmax of a scalar",
         [](GraphBuilder &b) { b.output(b.op("ArgMax", {b.input("x", {})}, {}, "a")); },
         "ArgMax needs X of rank >= 1"},
        {"log softmax axis out of range",
         [](GraphBuilder &b) {
             b.output(b.op("LogSoftmax", {b.input("x", {2, 3})}, {{"axis", int_attr(2)}}, "ls"));
         },
         "node 0 \"ls\" (LogSoftmax): LogSoftmax axis 2 is out of range"},
        {"nll input of rank 1",
         [](GraphBuilder &b) {
             b.output(
                 b.op("NegativeLogLikelihoodLoss", {b.input("x", {4}), labels(b, {4})}, {}, "nll"));
         },
         "node 0 \"nll\" (NegativeLogLikelihoodLoss): NegativeLogLikelihoodLoss input must be [N, "
         "C] or [N, C, d1, ...], got [4]"},
        {"nll target of the wrong shape",
         [](GraphBuilder &b) {
             b.output(b.op("NegativeLogLikelihoodLoss", {b.input("x", {4, 3, 2}), labels(b, {4})},
                           {}, "nll"));
         },
         "target must be [4, 2] for input [4, 3, 2], got [4]"},
        {"nll float target",
         [](GraphBuilder &b) {
             b.output(b.op("NegativeLogLikelihoodLoss",
                           {b.input("x", {4, 3}), labels(b, {4}, DType::F32)}, {}, "nll"));
         },
         "node 0 \"nll\" (NegativeLogLikelihoodLoss)"},
        {"sce weight of the wrong size",
         [](GraphBuilder &b) {
             b.output(b.op("SoftmaxCrossEntropyLoss",
                           {b.input("x", {4, 3}), labels(b, {4}), b.input("w", {4})}, {}, "ce"));
         },
         "node 0 \"ce\" (SoftmaxCrossEntropyLoss): SoftmaxCrossEntropyLoss weight must be [C] = "
         "[3], got [4]"},
        {"unknown reduction",
         [](GraphBuilder &b) {
             b.output(b.op("SoftmaxCrossEntropyLoss", {b.input("x", {4, 3}), labels(b, {4})},
                           {{"reduction", string_attr("avg")}}, "ce"));
         },
         "reduction must be \"mean\", \"sum\" or \"none\", got \"avg\""},
        {"sce grad dLoss of the wrong shape",
         [](GraphBuilder &b) {
             b.output(b.op("SoftmaxCrossEntropyLossGrad",
                           {b.input("d", {4}), b.input("x", {4, 3}), labels(b, {4})}, {}, "ceg"));
         },
         "node 0 \"ceg\" (SoftmaxCrossEntropyLossGrad): SoftmaxCrossEntropyLossGrad dLoss must "
         "be [], got [4]"},
        {"sgd without a learning rate",
         [](GraphBuilder &b) {
             b.sink("SGDUpdate", {b.variable("w", {3}), b.input("g", {3})}, {}, "s");
         },
         "node 0 \"s\" (SGDUpdate): SGDUpdate needs the learning rate either as attribute \"lr\" "
         "or as input 2 (lr), got neither"},
        {"sgd with both learning rates",
         [](GraphBuilder &b) {
             b.sink("SGDUpdate", {b.variable("w", {3}), b.input("g", {3}), b.input("lr", {})},
                    {{"lr", float_attr(0.1)}}, "s");
         },
         "got both"},
        {"sgd lr input not a scalar",
         [](GraphBuilder &b) {
             b.sink("SGDUpdate", {b.variable("w", {3}), b.input("g", {3}), b.input("lr", {1})}, {},
                    "s");
         },
         "SGDUpdate lr must be a scalar [], got [1]"},
        {"sgd negative weight decay",
         [](GraphBuilder &b) {
             b.sink("SGDUpdate", {b.variable("w", {3}), b.input("g", {3})},
                    {{"lr", float_attr(0.1)}, {"weight_decay", float_attr(-1)}}, "s");
         },
         "weight_decay must be >= 0"},
        {"momentum without momentum",
         [](GraphBuilder &b) {
             b.sink("SGDMomentumUpdate",
                    {b.variable("w", {3}), b.input("g", {3}), b.variable("b", {3}),
                     b.variable("s", {})},
                    {{"lr", float_attr(0.1)}}, "m");
         },
         "node 0 \"m\" (SGDMomentumUpdate): missing required attribute \"momentum\""},
        {"nesterov with dampening",
         [](GraphBuilder &b) {
             b.sink("SGDMomentumUpdate",
                    {b.variable("w", {3}), b.input("g", {3}), b.variable("b", {3}),
                     b.variable("s", {})},
                    {{"lr", float_attr(0.1)},
                     {"momentum", float_attr(0.9)},
                     {"dampening", float_attr(0.1)},
                     {"nesterov", int_attr(1)}},
                    "m");
         },
         "SGDMomentumUpdate nesterov needs momentum > 0 and dampening 0"},
        {"momentum buffer of another shape",
         [](GraphBuilder &b) {
             b.sink("SGDMomentumUpdate",
                    {b.variable("w", {3}), b.input("g", {3}), b.variable("b", {2}),
                     b.variable("s", {})},
                    {{"lr", float_attr(0.1)}, {"momentum", float_attr(0.9)}}, "m");
         },
         "SGDMomentumUpdate needs momentum_buffer of the var's shape: var [3], momentum_buffer "
         "[2]"},
        {"adamw beta out of range",
         [](GraphBuilder &b) {
             b.sink("AdamWUpdate",
                    {b.variable("w", {3}), b.input("g", {3}), b.variable("m", {3}),
                     b.variable("v", {3}), b.variable("s", {})},
                    {{"lr", float_attr(0.1)}, {"beta2", float_attr(1.0)}}, "aw");
         },
         "node 0 \"aw\" (AdamWUpdate): AdamWUpdate betas must be in [0, 1)"},
        {"adam step of rank 1",
         [](GraphBuilder &b) {
             b.sink("AdamUpdate",
                    {b.variable("w", {3}), b.input("g", {3}), b.variable("m", {3}),
                     b.variable("v", {3}), b.variable("s", {1})},
                    {{"lr", float_attr(0.1)}}, "a");
         },
         "AdamUpdate step must be a scalar [], got [1]"},
    };
}

TEST(LossValidation, MalformedUsesAreRefusedNamingTheNode) {
    for (const Malformed &c : malformed()) {
        SCOPED_TRACE(c.what);
        GraphBuilder b;
        c.build(b);
        const Status st = validate_graph(&b.graph(), nullptr);
        EXPECT_EQ(st.code(), SALUS_EGRAPH) << st.message();
        EXPECT_NE(st.message().find(c.expected), std::string::npos) << st.message();
    }
}

// Graphs have no empty dimension, but shape inference is also libsalus's
// for any caller: a max over nothing has no value.
TEST(LossValidation, ExtremumOfAnEmptyAxisIsRefused) {
    NodeDesc node = make_node("ReduceMax");
    set_ints(&node, "axes", {0});
    const Shape x{0, 3};
    std::vector<OutputInfo> outs;
    const Status st = infer_node(*find_op("ReduceMax"), &node, {{DType::F32, &x}}, &outs);
    EXPECT_EQ(st.code(), SALUS_EGRAPH);
    EXPECT_NE(st.message().find("ReduceMax reduces an empty axis of X [0, 3]"), std::string::npos)
        << st.message();
}

TEST(LossValidation, LossShapesAndOptionalLogProb) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {4, 3, 2});
    const uint32_t t = labels(b, {4, 2}, DType::I32);
    const uint32_t none =
        b.op("NegativeLogLikelihoodLoss", {x, t}, {{"reduction", string_attr("none")}}, "nll");
    const uint32_t loss = b.intermediate("loss"), log_prob = b.intermediate("log_prob");
    b.node("SoftmaxCrossEntropyLoss", {x, t}, {loss, log_prob}, {}, "ce");
    const uint32_t arg =
        b.op("ArgMax", {x}, {{"axis", int_attr(1)}, {"keepdims", int_attr(0)}}, "am");
    b.output(none).output(loss).output(log_prob).output(arg);
    ASSERT_TRUE(validate_graph(&b.graph(), nullptr).ok());
    const auto &ts = b.graph().tensors;
    EXPECT_EQ(ts[none].shape, (Shape{4, 2}));
    EXPECT_EQ(ts[loss].shape, Shape{});
    EXPECT_EQ(ts[log_prob].shape, (Shape{4, 3, 2}));
    EXPECT_EQ(ts[arg].shape, (Shape{4, 2}));
    EXPECT_EQ(ts[arg].dtype, DType::I64);
}

// --- kernel edge cases ----------------------------------------------------------

Tensor int_tensor(Shape shape, const std::vector<int32_t> &values) {
    Tensor t(std::move(shape));
    t.dtype = DType::I32;
    std::memcpy(t.data.data(), values.data(), values.size() * sizeof(int32_t));
    return t;
}

NodeDesc loss_node(const std::string &op, const std::string &reduction) {
    NodeDesc n = make_node(op);
    n.attrs["reduction"] = string_attr(reduction);
    return n;
}

TEST(LossKernels, OutOfRangeLabelFailsNamingIt) {
    const Tensor x({3, 10});
    for (const char *op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"}) {
        for (int32_t bad : {10, -1}) {
            const Tensor t = int_tensor({3}, {1, bad, 2});
            Tensor y(Shape{});
            const Status st = run_kernel(loss_node(op, "mean"), {&x, &t}, {&y});
            EXPECT_EQ(st.code(), SALUS_EEXEC) << op;
            EXPECT_NE(st.message().find("label " + std::to_string(bad) +
                                        " (at position 1) is out of range for 10 classes [0, 10)"),
                      std::string::npos)
                << st.message();
        }
        const Tensor dl(Shape{});
        const Tensor t = int_tensor({3}, {1, 10, 2});
        Tensor dx({3, 10});
        EXPECT_EQ(
            run_kernel(loss_node(std::string(op) + "Grad", "mean"), {&dl, &x, &t}, {&dx}).code(),
            SALUS_EEXEC);
    }
}

TEST(LossKernels, IgnoredLabelsCountForNothingEvenOutOfRange) {
    const Tensor x({3, 2}, {-1, -2, -3, -4, -5, -6});
    const Tensor t = int_tensor({3}, {1, -100, 0});
    NodeDesc n = loss_node("NegativeLogLikelihoodLoss", "mean");
    set_int(&n, "ignore_index", -100);
    const Tensor w({2}, {2.0f, 3.0f});
    const Tensor y = run1(n, {&x, &t, &w}, Shape{});
    // (3 * 2 + 2 * 5) / (3 + 2)
    EXPECT_FLOAT_EQ(y.data[0], 16.0f / 5.0f);
    Tensor dx = run1(make_node("Identity"), {&x}, {3, 2});
    const Tensor dl(Shape{}, {1.0f});
    NodeDesc g = n;
    g.op = "NegativeLogLikelihoodLossGrad";
    dx = run1(g, {&dl, &x, &t, &w}, {3, 2});
    EXPECT_EQ(dx.data, (std::vector<float>{0, -0.6f, 0, 0, -0.4f, 0}));
}

TEST(LossKernels, ExtremaPropagateNaNAndTiesShareTheGradient) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const Tensor x({2, 3}, {1, nan, 3, 2, 5, 5});
    NodeDesc max = make_node("ReduceMax");
    set_ints(&max, "axes", {1});
    set_int(&max, "keepdims", 0);
    const Tensor y = run1(max, {&x}, {2});
    EXPECT_TRUE(std::isnan(y.data[0]));
    EXPECT_EQ(y.data[1], 5.0f);
    NodeDesc arg = make_node("ArgMax");
    set_int(&arg, "axis", 1);
    set_int(&arg, "keepdims", 0);
    Tensor idx({2});
    idx.dtype = DType::I64;
    idx.data.resize(4); // two 8-byte elements
    ASSERT_TRUE(run_kernel(arg, {&x}, {&idx}).ok());
    int64_t got[2];
    std::memcpy(got, idx.data.data(), sizeof got);
    EXPECT_EQ(got[0], 1); // NaN is the max, as torch.argmax has it
    EXPECT_EQ(got[1], 1); // the first of the tie

    NodeDesc grad = max;
    grad.op = "ReduceMaxGrad";
    const Tensor dy({2}, {1.0f, 4.0f});
    const Tensor xs({2, 3}, {1, 0, 3, 2, 5, 5});
    const Tensor ys({2}, {3, 5});
    const Tensor dx = run1(grad, {&dy, &xs, &ys}, {2, 3});
    EXPECT_EQ(dx.data, (std::vector<float>{0, 0, 1, 0, 2, 2}));
}

TEST(LossKernels, MomentumStartsItsBufferWithTheFirstGradient) {
    NodeDesc n = make_node("SGDMomentumUpdate");
    set_float(&n, "lr", 0.5);
    set_float(&n, "momentum", 0.9);
    set_float(&n, "dampening", 0.5);
    Tensor w({2}, {1.0f, 2.0f}), buf({2}, {7.0f, 7.0f}), step(Shape{}, {0.0f});
    const Tensor g({2}, {1.0f, -2.0f});
    ASSERT_TRUE(run_kernel(n, {&w, &g, &buf, &step}, {}).ok());
    // First step: buf = g (no dampening), w -= lr * buf.
    EXPECT_EQ(buf.data, (std::vector<float>{1.0f, -2.0f}));
    EXPECT_EQ(w.data, (std::vector<float>{0.5f, 3.0f}));
    EXPECT_EQ(step.data[0], 1.0f);
    ASSERT_TRUE(run_kernel(n, {&w, &g, &buf, &step}, {}).ok());
    // Then buf = 0.9 buf + 0.5 g.
    EXPECT_FLOAT_EQ(buf.data[0], 1.4f);
    EXPECT_FLOAT_EQ(w.data[0], 0.5f - 0.7f);
    EXPECT_EQ(step.data[0], 2.0f);
}

TEST(LossKernels, AdamWDecaysTheVariableApartFromTheGradient) {
    for (const char *op : {"AdamWUpdate", "AdamUpdate"}) {
        NodeDesc n = make_node(op);
        set_float(&n, "weight_decay", 0.1);
        Tensor w({2}, {1.0f, -2.0f}), m({2}), v({2}), step(Shape{}, {0.0f});
        const Tensor g({2}, {0.0f, 0.0f});
        const Tensor lr(Shape{}, {0.5f}); // the learning rate as an input
        ASSERT_TRUE(run_kernel(n, {&w, &g, &m, &v, &step, &lr}, {}).ok());
        if (std::string(op) == "AdamWUpdate") {
            // No gradient: only the decoupled decay, w *= 1 - lr * wd.
            EXPECT_FLOAT_EQ(w.data[0], 0.95f);
            EXPECT_FLOAT_EQ(w.data[1], -1.9f);
            EXPECT_EQ(m.data[0], 0.0f);
        } else {
            // L2: the gradient becomes wd * w, so Adam's first step is lr * sign.
            EXPECT_NEAR(w.data[0], 0.5f, 1e-6);
            EXPECT_NEAR(w.data[1], -1.5f, 1e-6);
        }
    }
}

TEST(LossKernels, CudaScratchHoldsTheVerdictAndOneTermPerPosition) {
    KernelInit init;
    init.inputs = {{nullptr, DType::F32, {4, 3, 2}}, {nullptr, DType::I64, {4, 2}}};
    EXPECT_EQ(cuda::label_loss_workspace(init), sizeof(cuda::LabelScratch) + 8 * sizeof(double));
    EXPECT_EQ(cuda::label_loss_grad_workspace(init), sizeof(cuda::LabelScratch));
#ifdef SALUS_HAVE_CUDA
    const KernelDef *ce = default_kernels().find(DeviceType::CUDA, "SoftmaxCrossEntropyLoss");
    ASSERT_NE(ce, nullptr);
    EXPECT_EQ(ce->workspace, &cuda::label_loss_workspace);
#endif
}

// --- no allocation on the iteration path ------------------------------------------

TEST(LossKernels, NoKernelAllocatesOnSuccess) {
    std::mt19937 rng(5);
    std::vector<KernelCase> cases;
    append_loss_cases(&cases);
    std::vector<std::string> seen;
    for (KernelCase &c : cases) {
        SCOPED_TRACE(c.label);
        ASSERT_TRUE(canonicalize_attrs(*find_op(c.node.op), &c.node).ok());
        CaseData d = instantiate(c, DeviceType::CPU, rng);
        KernelInit init;
        init.node = &c.node;
        init.device = cpu_device();
        for (const Tensor &t : d.inputs) init.inputs.push_back(view(t));
        for (const Tensor &t : d.outputs) init.outputs.push_back(view(t));
        PreparedKernel kernel;
        ASSERT_TRUE(default_kernels().prepare(init, &kernel).ok());
        std::vector<uint8_t> workspace(kernel.workspace_bytes);
        KernelContext ctx;
        ctx.node = &c.node;
        ctx.inputs = init.inputs;
        ctx.outputs = init.outputs;
        ctx.workspace = workspace.data();
        ctx.workspace_bytes = workspace.size();
        g_allocations = 0;
        g_counting = true;
        const Status st = kernel.run(ctx);
        g_counting = false;
        ASSERT_TRUE(st.ok()) << st.message();
        EXPECT_EQ(g_allocations, 0) << c.node.op << " allocated on its success path";
        seen.push_back(c.node.op);
    }
    for (const char *op :
         {"ReduceMax", "ReduceMinGrad", "ArgMin", "LogSoftmaxGrad", "NegativeLogLikelihoodLossGrad",
          "SoftmaxCrossEntropyLoss", "SGDMomentumUpdate", "AdamWUpdate"}) {
        EXPECT_NE(std::find(seen.begin(), seen.end(), op), seen.end()) << op;
    }
}

} // namespace
} // namespace salus::test
