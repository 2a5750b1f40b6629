// validate_graph(): one invalid graph per check, each rejected with its own
// message and leaving the graph untouched; valid graphs and their order.
#include "graph/validate.h"

#include "graph_helpers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace salus {
namespace {

using test::float_attr;
using test::GraphBuilder;
using test::int_attr;
using test::ints_attr;

struct InvalidCase {
    const char *name;
    std::function<void(GraphBuilder &b, ValidationLimits &limits)> build;
    // Every one of these must appear in the message.
    std::vector<std::string> expected;
};

// x [2, 3] -> Relu "r", a valid start that most cases extend.
uint32_t relu_of_input(GraphBuilder &b) {
    const uint32_t x = b.input("x", {2, 3});
    return b.op("Relu", {x}, {}, "r");
}

const std::vector<InvalidCase> &invalid_cases() {
    static const std::vector<InvalidCase> cases = {
        {"EmptyGraph", [](GraphBuilder &, ValidationLimits &) {}, {"graph has no outputs"}},
        {"NoOutputsNoUpdates",
         [](GraphBuilder &b, ValidationLimits &) { relu_of_input(b); },
         {"graph has no outputs"}},
        {"TooManyTensors",
         [](GraphBuilder &b, ValidationLimits &limits) {
             limits.max_tensors = 1;
             b.output(relu_of_input(b));
         },
         {"graph has 2 tensors, over the limit of 1"}},
        {"TooManyNodes",
         [](GraphBuilder &b, ValidationLimits &limits) {
             limits.max_nodes = 1;
             b.output(b.op("Relu", {relu_of_input(b)}));
         },
         {"graph has 2 nodes, over the limit of 1"}},
        {"UnknownOp",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.op("Frobnicate", {relu_of_input(b)}, {}, "c1"));
         },
         {"node 1 \"c1\" (Frobnicate): unknown op \"Frobnicate\""}},
        {"TooFewInputs",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.op("Add", {relu_of_input(b)}, {}, "sum"));
         },
         {"node 1 \"sum\" (Add): takes 2 inputs, got 1"}},
        {"TooManyInputsOptionalArity",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t r = relu_of_input(b);
             b.output(b.op("SoftmaxCrossEntropyGrad", {r, r, r, r}, {}, "g"));
         },
         {"node 1 \"g\" (SoftmaxCrossEntropyGrad): takes 2 to 3 inputs, got 4"}},
        {"WrongOutputCount",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t r = relu_of_input(b);
             const uint32_t y1 = b.intermediate("y1");
             const uint32_t y2 = b.intermediate("y2");
             b.node("Relu", {r}, {y1, y2}, {}, "two");
             b.output(y1);
         },
         {"node 1 \"two\" (Relu): produces 1 output, got 2"}},
        {"DanglingInput",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t r = relu_of_input(b);
             b.output(b.op("Add", {r, 99}, {}, "a"));
         },
         {"node 1 \"a\" (Add): input 1 refers to tensor 99, which does not exist"}},
        {"DanglingOutput",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t r = relu_of_input(b);
             b.node("Relu", {r}, {42}, {}, "out");
             b.output(r);
         },
         {"node 1 \"out\" (Relu): output 0 refers to tensor 42, which does not exist"}},
        {"OutputWritesVariable",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t r = relu_of_input(b);
             const uint32_t w = b.variable("w", {2, 3});
             b.node("Relu", {r}, {w}, {}, "clobber");
             b.output(r);
         },
         {"node 1 \"clobber\" (Relu): output 0 is tensor 2 \"w\", a variable; nodes only "
          "produce intermediates"}},
        {"OutputWritesInput",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t r = relu_of_input(b);
             b.node("Relu", {r}, {0}, {}, "back");
             b.output(r);
         },
         {"node 1 \"back\" (Relu): output 0 is tensor 0 \"x\", an input"}},
        {"ProducedTwice",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t r = relu_of_input(b);
             b.node("Sigmoid", {0}, {r}, {}, "again");
             b.output(r);
         },
         {"node 1 \"again\" (Sigmoid): output 0, tensor 1 \"r\", is already produced by node 0 "
          "\"r\" (Relu)"}},
        {"NeverProduced",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t r = relu_of_input(b);
             const uint32_t ghost = b.intermediate("ghost");
             b.output(b.op("Add", {r, ghost}));
         },
         {"tensor 2 \"ghost\": intermediate is not produced by any node"}},
        {"RepeatedNodeOutput",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t x = b.input("x", {2});
             const uint32_t y = b.intermediate("y");
             b.node("Relu", {x}, {y, y}, {}, "dup");
             b.output(y);
         },
         {"node 0 \"dup\" (Relu): output 1 repeats tensor 1 \"y\""}},
        {"UnknownAttribute",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t x = b.input("x", {2, 2});
             b.output(b.op("MatMul", {x, x}, {{"transC", int_attr(1)}}, "mm"));
         },
         {"node 0 \"mm\" (MatMul): unknown attribute \"transC\" for MatMul"}},
        {"AttributeOfWrongType",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t w = b.variable("w", {2});
             const uint32_t g = b.input("g", {2});
             b.sink("SGDUpdate", {w, g}, {{"lr", int_attr(1)}}, "step");
         },
         {"node 0 \"step\" (SGDUpdate): attribute \"lr\" is int, expected float"}},
        {"MissingRequiredAttribute",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.op("Reshape", {relu_of_input(b)}, {}, "rs"));
         },
         {"node 1 \"rs\" (Reshape): missing required attribute \"shape\""}},
        {"NonPositiveDimension",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.input("x", {2, 0}));
         },
         {"tensor 0 \"x\": shape [2, 0] has a non-positive dimension"}},
        {"NegativeDimensionOfDeclaredIntermediate",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t x = b.input("x", {2});
             const uint32_t y = b.tensor("y", TensorKind::Intermediate, {-2});
             b.node("Relu", {x}, {y});
             b.output(y);
         },
         {"tensor 1 \"y\": shape [-2] has a non-positive dimension"}},
        {"RankOverMax",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.input("x", {1, 1, 1, 1, 1, 1, 1, 1, 1}));
         },
         {"tensor 0 \"x\": shape [1, 1, 1, 1, 1, 1, 1, 1, 1] has rank 9, over the maximum of 8"}},
        {"ByteSizeOverflow",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.input("huge", {int64_t{1} << 40, int64_t{1} << 40}));
         },
         {"tensor 0 \"huge\": byte size of shape [1099511627776, 1099511627776] overflows"}},
        {"OverTensorByteLimit",
         [](GraphBuilder &b, ValidationLimits &limits) {
             limits.max_tensor_bytes = 1000;
             b.output(b.input("x", {16, 16}));
         },
         {"tensor 0 \"x\": shape [16, 16] takes 1024 bytes, over the limit of 1000"}},
        {"InferredShapeOverTensorByteLimit",
         [](GraphBuilder &b, ValidationLimits &limits) {
             limits.max_tensor_bytes = 1000;
             const uint32_t x = b.input("x", {16});
             b.output(b.op("Expand", {x}, {{"shape", ints_attr({16, 16})}}, "big"));
         },
         {"tensor 1 \"big\": inferred shape [16, 16] takes 1024 bytes, over the limit of 1000",
          "node 0 \"big\" (Expand)"}},
        {"InitialDataSizeMismatch",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t w = b.variable("w", {2, 3});
             b.graph().tensors[w].init.resize(8);
             b.output(b.op("Relu", {w}));
         },
         {"tensor 0 \"w\": variable has 8 bytes of initial data but shape [2, 3] takes 24"}},
        {"ConstantWithoutData", // only a variable may start at zero
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t c = b.tensor("c", TensorKind::Constant, {2}, true);
             b.graph().tensors[c].init.clear();
             b.output(b.op("Relu", {c}));
         },
         {"tensor 0 \"c\": constant has 0 bytes of initial data but shape [2] takes 8"}},
        {"InputWithoutShape",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.tensor("x", TensorKind::Input, {}, false));
         },
         {"tensor 0 \"x\": input has no shape"}},
        {"ConstantWithoutShape",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.tensor("k", TensorKind::Constant, {}, false));
         },
         {"tensor 0 \"k\": constant has no shape"}},
        {"NonF32DtypeIntoAnF32Op",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t x = b.tensor("half", TensorKind::Input, {2}, true, DType::F16);
             b.output(b.op("Relu", {x}, {}, "act"));
         },
         {"node 0 \"act\" (Relu): dtype f16 is not supported by Relu (input 0 X; only f32 is)"}},
        {"InferredDtypeIntoAnF32Op",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t x = b.tensor("ids", TensorKind::Input, {2}, true, DType::I64);
             const uint32_t y = b.op("Identity", {x}, {}, "same");
             b.output(b.op("Sigmoid", {y}, {}, "squash"));
         },
         {"node 1 \"squash\" (Sigmoid): dtype i64 is not supported by Sigmoid"}},
        {"UnknownDtype",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.tensor("odd", TensorKind::Input, {2}, true, static_cast<DType>(7)));
         },
         {"tensor 0 \"odd\": unknown dtype 7"}},
        {"DeclaredDtypeDiffersFromInferred",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t x = b.tensor("ids", TensorKind::Input, {3}, true, DType::I32);
             const uint32_t u = b.tensor("u", TensorKind::Intermediate, {3});
             b.node("Identity", {x}, {u}, {}, "id");
             b.output(u);
         },
         {"tensor 1 \"u\": declared dtype f32 but inferred i32 (output 0 of node 0 \"id\" "
          "(Identity))"}},
        {"UnknownTensorKind",
         [](GraphBuilder &b, ValidationLimits &) {
             b.output(b.tensor("odd", static_cast<TensorKind>(9), {2}));
         },
         {"tensor 0 \"odd\": unknown kind 9"}},
        {"Cycle",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t x = b.input("x", {2});
             const uint32_t a = b.intermediate("a");
             const uint32_t c = b.intermediate("c");
             b.node("Identity", {x}, {b.intermediate("d")}, {}, "outside");
             b.node("Relu", {c}, {a}, {}, "first");
             b.node("Relu", {a}, {c}, {}, "second");
             b.output(a);
         },
         {"node 1 \"first\" (Relu): the graph has a cycle through it"}},
        {"SelfLoop",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t a = b.intermediate("a");
             b.node("Relu", {a}, {a}, {}, "self");
             b.output(a);
         },
         {"node 0 \"self\" (Relu): the graph has a cycle through it"}},
        {"UpdateOfInput",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t x = b.input("x", {3});
             b.sink("SGDUpdate", {x, x}, {{"lr", float_attr(0.1)}}, "upd");
         },
         {"node 0 \"upd\" (SGDUpdate): input 0, tensor 0 \"x\", is an input; SGDUpdate can "
          "only update a variable"}},
        {"UpdateOfConstant",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t k = b.constant("k", {3});
             b.sink("SGDUpdate", {k, k}, {{"lr", float_attr(0.1)}}, "upd");
         },
         {"node 0 \"upd\" (SGDUpdate): input 0, tensor 0 \"k\", is a constant"}},
        {"VariableUpdatedTwice",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t w = b.variable("w", {3});
             const uint32_t g = b.input("g", {3});
             b.sink("SGDUpdate", {w, g}, {{"lr", float_attr(0.1)}}, "u1");
             b.sink("SGDUpdate", {w, g}, {{"lr", float_attr(0.2)}}, "u2");
         },
         {"node 1 \"u2\" (SGDUpdate): variable tensor 0 \"w\" is already updated by node 0 "
          "\"u1\" (SGDUpdate)"}},
        {"AdamUpdateOfInputMoment",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t w = b.variable("w", {3});
             const uint32_t g = b.input("g", {3});
             const uint32_t m = b.input("m", {3});
             const uint32_t v = b.variable("v", {3});
             const uint32_t step = b.variable("step", {});
             b.sink("AdamUpdate", {w, g, m, v, step}, {{"lr", float_attr(0.1)}}, "adam");
         },
         {"node 0 \"adam\" (AdamUpdate): input 2, tensor 2 \"m\", is an input; AdamUpdate can "
          "only update a variable"}},
        {"AdamUpdateOfOneVariableTwice",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t w = b.variable("w", {3});
             const uint32_t g = b.input("g", {3});
             const uint32_t m = b.variable("m", {3});
             const uint32_t step = b.variable("step", {});
             b.sink("AdamUpdate", {w, g, m, m, step}, {{"lr", float_attr(0.1)}}, "adam");
         },
         {"node 0 \"adam\" (AdamUpdate): inputs 2 and 3 are the same variable tensor 2 \"m\"; "
          "AdamUpdate updates each of them in place"}},
        {"AdamStepAlsoUpdatedBySgd",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t w = b.variable("w", {3});
             const uint32_t g = b.input("g", {3});
             const uint32_t m = b.variable("m", {3});
             const uint32_t v = b.variable("v", {3});
             const uint32_t step = b.variable("step", {});
             const uint32_t dstep = b.input("dstep", {});
             b.sink("SGDUpdate", {step, dstep}, {{"lr", float_attr(0.1)}}, "sgd");
             b.sink("AdamUpdate", {w, g, m, v, step}, {{"lr", float_attr(0.1)}}, "adam");
         },
         {"node 1 \"adam\" (AdamUpdate): variable tensor 4 \"step\" is already updated by "
          "node 0 \"sgd\" (SGDUpdate)"}},
        {"GraphOutputOutOfRange",
         [](GraphBuilder &b, ValidationLimits &) { b.output(relu_of_input(b)).output(9); },
         {"graph output 1 refers to tensor 9, which does not exist (the graph has 2 tensors)"}},
        {"GraphOutputRepeated",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t r = relu_of_input(b);
             b.output(r).output(0).output(r);
         },
         {"graph output 2 repeats tensor 1 \"r\""}},
        {"DeclaredShapeDiffersFromInferred",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t x = b.input("x", {3, 2});
             const uint32_t t = b.tensor("t", TensorKind::Intermediate, {2, 3});
             b.node("Identity", {x}, {t}, {}, "id");
             b.output(t);
         },
         {"tensor 1 \"t\": declared [2, 3] but inferred [3, 2] (output 0 of node 0 \"id\" "
          "(Identity))"}},
        {"ShapeInferenceFailure",
         [](GraphBuilder &b, ValidationLimits &) {
             const uint32_t a = b.input("a", {4, 3});
             const uint32_t w = b.variable("w", {5, 2});
             b.output(b.op("MatMul", {a, w}, {}, "fc1"));
         },
         {"node 0 \"fc1\" (MatMul): MatMul inner dimensions differ: A [4, 3] (transA=0), B "
          "[5, 2] (transB=0)"}},
    };
    return cases;
}

class InvalidGraph : public testing::TestWithParam<InvalidCase> {};

TEST_P(InvalidGraph, RejectedWithItsMessageAndLeftUnchanged) {
    const InvalidCase &c = GetParam();
    GraphBuilder b;
    ValidationLimits limits;
    c.build(b, limits);
    const Graph before = b.graph();
    std::vector<uint32_t> order = {7, 7};

    const Status st = validate_graph(&b.graph(), &order, limits);

    EXPECT_EQ(st.code(), SALUS_EGRAPH);
    for (const std::string &want : c.expected) {
        EXPECT_NE(st.message().find(want), std::string::npos)
            << "message: " << st.message() << "\nexpected to contain: " << want;
    }
    EXPECT_TRUE(test::same_graph(before, b.graph()));
    EXPECT_EQ(order, (std::vector<uint32_t>{7, 7}));
}

INSTANTIATE_TEST_SUITE_P(Catalogue, InvalidGraph, testing::ValuesIn(invalid_cases()),
                         [](const testing::TestParamInfo<InvalidCase> &case_info) {
                             return std::string(case_info.param.name);
                         });

TEST(InvalidGraph, EveryCaseHasItsOwnMessage) {
    std::vector<std::string> messages;
    for (const InvalidCase &c : invalid_cases()) {
        GraphBuilder b;
        ValidationLimits limits;
        c.build(b, limits);
        std::vector<uint32_t> order;
        messages.push_back(validate_graph(&b.graph(), &order, limits).message());
    }
    std::vector<std::string> sorted = messages;
    std::sort(sorted.begin(), sorted.end());
    // The two "no outputs" graphs share a message; every other is unique.
    EXPECT_EQ(std::unique(sorted.begin(), sorted.end()) - sorted.begin(),
              static_cast<std::ptrdiff_t>(messages.size() - 1));
    EXPECT_GE(messages.size(), 18u);
}

// A failure at the last node comes after earlier nodes were inferred; none of
// those shapes may leak into the graph.
TEST(Validate, LateFailureLeavesEarlierIntermediatesUninferred) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {4, 3});
    const uint32_t h = b.op("Relu", {x}, {}, "h");
    const uint32_t s = b.op("Sigmoid", {h}, {}, "s");
    b.output(b.op("MatMul", {s, h}, {}, "bad"));
    const Graph before = b.graph();

    std::vector<uint32_t> order;
    const Status st = validate_graph(&b.graph(), &order);

    EXPECT_EQ(st.code(), SALUS_EGRAPH);
    EXPECT_NE(st.message().find("node 2 \"bad\" (MatMul)"), std::string::npos) << st.message();
    EXPECT_FALSE(b.graph().tensors[h].has_shape);
    EXPECT_FALSE(b.graph().tensors[s].has_shape);
    EXPECT_TRUE(test::same_graph(before, b.graph()));
    EXPECT_TRUE(order.empty());
}

// One training step of a two-layer MLP with cross-entropy loss. The node list
// puts w2's update before the backward MatMul that still reads w2, so only
// the reader-before-updater rule keeps the order correct.
struct Mlp {
    GraphBuilder b;
    uint32_t x, labels, w1, b1, w2, b2;
    uint32_t h1, a1, r1, logits, loss, dlogits, dw2, dr1, da1, db1, dw1, db2;
    uint32_t update_w2_node, dr1_node;

    Mlp() {
        x = b.input("x", {4, 3});
        labels = b.input("labels", {4, 2});
        w1 = b.variable("w1", {3, 5});
        b1 = b.variable("b1", {5});
        w2 = b.variable("w2", {5, 2});
        b2 = b.variable("b2", {2});
        const Attrs lr = {{"lr", float_attr(0.01)}};
        const Attrs rows = {{"axes", ints_attr({0})}, {"keepdims", int_attr(0)}};

        h1 = b.op("MatMul", {x, w1}, {}, "fc1");
        a1 = b.op("Add", {h1, b1}, {}, "bias1");
        r1 = b.op("Relu", {a1}, {}, "relu1");
        const uint32_t h2 = b.op("MatMul", {r1, w2}, {}, "fc2");
        logits = b.op("Add", {h2, b2}, {}, "bias2");
        loss = b.op("SoftmaxCrossEntropy", {logits, labels}, {}, "loss");
        dlogits = b.op("SoftmaxCrossEntropyGrad", {logits, labels}, {}, "dlogits");
        db2 = b.op("ReduceSum", {dlogits}, rows, "db2");
        dw2 = b.op("MatMul", {r1, dlogits}, {{"transA", int_attr(1)}}, "dw2");
        update_w2_node = b.sink("SGDUpdate", {w2, dw2}, lr, "sgd_w2");
        dr1 = b.op("MatMul", {dlogits, w2}, {{"transB", int_attr(1)}}, "dr1");
        dr1_node = static_cast<uint32_t>(b.graph().nodes.size() - 1);
        da1 = b.op("ReluGrad", {dr1, a1}, {}, "da1");
        db1 = b.op("ReduceSum", {da1}, rows, "db1");
        dw1 = b.op("MatMul", {x, da1}, {{"transA", int_attr(1)}}, "dw1");
        b.sink("SGDUpdate", {w1, dw1}, lr, "sgd_w1");
        b.sink("SGDUpdate", {b1, db1}, lr, "sgd_b1");
        b.sink("SGDUpdate", {b2, db2}, lr, "sgd_b2");
        b.output(loss);
    }
};

// Position of each node in the order; checks it is a permutation.
std::vector<size_t> positions(const Graph &g, const std::vector<uint32_t> &order) {
    std::vector<size_t> pos(g.nodes.size(), SIZE_MAX);
    for (size_t i = 0; i < order.size(); ++i) {
        EXPECT_LT(order[i], g.nodes.size());
        EXPECT_EQ(pos[order[i]], SIZE_MAX) << "node " << order[i] << " twice";
        pos[order[i]] = i;
    }
    EXPECT_EQ(order.size(), g.nodes.size());
    return pos;
}

TEST(Validate, MlpTrainingStepIsAcceptedAndOrdered) {
    Mlp m;
    std::vector<uint32_t> order;
    const Status st = validate_graph(&m.b.graph(), &order);
    ASSERT_TRUE(st.ok()) << st.message();
    const Graph &g = m.b.graph();

    const auto shape = [&](uint32_t t) {
        EXPECT_TRUE(g.tensors[t].has_shape);
        return g.tensors[t].shape;
    };
    EXPECT_EQ(shape(m.h1), (Shape{4, 5}));
    EXPECT_EQ(shape(m.logits), (Shape{4, 2}));
    EXPECT_EQ(shape(m.loss), Shape{});
    EXPECT_EQ(shape(m.dlogits), (Shape{4, 2}));
    EXPECT_EQ(shape(m.dw2), (Shape{5, 2}));
    EXPECT_EQ(shape(m.dr1), (Shape{4, 5}));
    EXPECT_EQ(shape(m.dw1), (Shape{3, 5}));
    EXPECT_EQ(shape(m.db1), (Shape{5}));
    EXPECT_EQ(shape(m.db2), (Shape{2}));

    const std::vector<size_t> pos = positions(g, order);
    std::vector<size_t> producer(g.tensors.size(), SIZE_MAX);
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        for (uint32_t t : g.nodes[n].outputs) producer[t] = n;
    }
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        for (uint32_t t : g.nodes[n].inputs) {
            if (producer[t] != SIZE_MAX) {
                EXPECT_LT(pos[producer[t]], pos[n]);
            }
        }
        if (g.nodes[n].op != "SGDUpdate") continue;
        const uint32_t var = g.nodes[n].inputs[0];
        for (size_t r = 0; r < g.nodes.size(); ++r) {
            const auto &in = g.nodes[r].inputs;
            if (r != n && std::find(in.begin(), in.end(), var) != in.end()) {
                EXPECT_LT(pos[r], pos[n]) << node_label(g.nodes, r) << " reads "
                                          << g.tensors[var].name << " after its update";
            }
        }
    }
    EXPECT_LT(m.update_w2_node, m.dr1_node);
    EXPECT_GT(pos[m.update_w2_node], pos[m.dr1_node]);
}

TEST(Validate, OrderIsKahnWithLowestReadyIndexFirst) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {2});
    const uint32_t late = b.intermediate("late");
    const uint32_t c = b.op("Relu", {late}, {}, "needs_node_2"); // node 0
    const uint32_t d = b.op("Tanh", {x}, {}, "free");            // node 1
    b.node("Sigmoid", {x}, {late}, {}, "makes_late");            // node 2
    b.output(c).output(d);

    std::vector<uint32_t> order;
    ASSERT_TRUE(validate_graph(&b.graph(), &order).ok());
    EXPECT_EQ(order, (std::vector<uint32_t>{1, 2, 0}));
}

TEST(Validate, GraphWithoutNodesPassesItsInputThrough) {
    GraphBuilder b;
    b.output(b.input("x", {3}));
    std::vector<uint32_t> order = {5};
    ASSERT_TRUE(validate_graph(&b.graph(), &order).ok());
    EXPECT_TRUE(order.empty());
}

TEST(Validate, UpdatesWithoutOutputsAreObservableEnough) {
    GraphBuilder b;
    const uint32_t w = b.variable("w", {3});
    const uint32_t g = b.input("g", {3});
    b.sink("SGDUpdate", {w, g}, {{"lr", float_attr(0.5)}});
    std::vector<uint32_t> order;
    const Status st = validate_graph(&b.graph(), &order);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(order, (std::vector<uint32_t>{0}));
}

TEST(Validate, MatchingDeclaredShapeIsKeptAndRevalidationIsStable) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {2, 3});
    const uint32_t t = b.tensor("t", TensorKind::Intermediate, {3, 2});
    b.node("Transpose", {x}, {t});
    b.output(t);
    std::vector<uint32_t> order;
    ASSERT_TRUE(validate_graph(&b.graph(), &order).ok());
    const Graph once = b.graph();
    std::vector<uint32_t> again;
    ASSERT_TRUE(validate_graph(&b.graph(), &again).ok());
    EXPECT_TRUE(test::same_graph(once, b.graph()));
    EXPECT_EQ(order, again);
}

TEST(Validate, IntermediatesTakeTheirInferredDtype) {
    GraphBuilder b;
    const uint32_t ids = b.tensor("ids", TensorKind::Input, {2, 3}, true, DType::I64);
    const uint32_t half = b.tensor("half", TensorKind::Input, {4}, true, DType::BF16);
    const uint32_t flat = b.op("Reshape", {ids}, {{"shape", ints_attr({-1})}}, "flat");
    const uint32_t same = b.op("Identity", {half}, {}, "same");
    b.output(same).output(flat);
    ASSERT_TRUE(validate_graph(&b.graph(), nullptr).ok());
    const Graph &g = b.graph();
    EXPECT_EQ(g.tensors[flat].dtype, DType::I64);
    EXPECT_EQ(g.tensors[flat].shape, (Shape{6}));
    EXPECT_EQ(g.tensors[same].dtype, DType::BF16);
    EXPECT_EQ(g.tensors[same].nbytes(), 8u);
    // Validating again sees the inferred dtypes as declared ones, and agrees.
    const Graph once = g;
    ASSERT_TRUE(validate_graph(&b.graph(), nullptr).ok());
    EXPECT_TRUE(test::same_graph(once, b.graph()));
}

// Integer labels become the probabilities SoftmaxCrossEntropy takes.
TEST(Validate, OneHotLabelsFeedTheLoss) {
    GraphBuilder b;
    const uint32_t logits = b.input("logits", {4, 3});
    const uint32_t labels = b.tensor("labels", TensorKind::Input, {4}, true, DType::I32);
    const uint32_t hot = b.op("OneHot", {labels}, {{"depth", int_attr(3)}}, "hot");
    const uint32_t loss = b.op("SoftmaxCrossEntropy", {logits, hot}, {}, "loss");
    b.output(loss);
    ASSERT_TRUE(validate_graph(&b.graph(), nullptr).ok());
    EXPECT_EQ(b.graph().tensors[hot].dtype, DType::F32);
    EXPECT_EQ(b.graph().tensors[hot].shape, (Shape{4, 3}));
    EXPECT_EQ(b.graph().tensors[loss].shape, Shape{});
}

// AdamUpdate writes var, m, v and step: each must wait for their other readers.
TEST(Validate, AdamUpdateRunsAfterEveryReaderOfWhatItUpdates) {
    GraphBuilder b;
    const uint32_t w = b.variable("w", {3});
    const uint32_t m = b.variable("m", {3});
    const uint32_t v = b.variable("v", {3});
    const uint32_t step = b.variable("step", {});
    const uint32_t g = b.input("g", {3});
    b.sink("AdamUpdate", {w, g, m, v, step}, {{"lr", float_attr(0.1)}}, "adam"); // node 0
    const uint32_t rm = b.op("Relu", {m}, {}, "reads_m");                        // node 1
    const uint32_t rv = b.op("Relu", {v}, {}, "reads_v");                        // node 2
    const uint32_t rs = b.op("Identity", {step}, {}, "reads_step");              // node 3
    b.output(rm).output(rv).output(rs);
    std::vector<uint32_t> order;
    ASSERT_TRUE(validate_graph(&b.graph(), &order).ok());
    EXPECT_EQ(order, (std::vector<uint32_t>{1, 2, 3, 0}));
}

TEST(Validate, NullOrderIsAllowed) {
    GraphBuilder b;
    b.output(relu_of_input(b));
    ASSERT_TRUE(validate_graph(&b.graph(), nullptr).ok());
    EXPECT_EQ(b.graph().tensors[1].shape, (Shape{2, 3}));
}

} // namespace
} // namespace salus
