// The op table against doc/ops.md, and every op's shape inference: inferred
// shapes for representative cases and a rejection for each main misuse.
#include "graph/ops.h"
#include "graph/validate.h"

#include "graph_helpers.h"

#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <vector>

namespace salus {
namespace {

using test::float_attr;
using test::int_attr;
using test::ints_attr;

Status run_infer(const std::string &op, const std::vector<Shape> &shapes, const Attrs &attrs,
                 std::vector<OutputInfo> *outputs, DType dtype = DType::F32) {
    const OpSchema *schema = find_op(op);
    if (!schema) return Status(SALUS_EINTERNAL, "no schema for " + op);
    NodeDesc node;
    node.op = op;
    node.attrs = attrs;
    std::vector<InputInfo> inputs;
    for (const Shape &s : shapes) inputs.push_back({dtype, &s});
    return infer_node(*schema, &node, inputs, outputs);
}

// The single output's shape; fails the test if inference fails.
Shape infer(const std::string &op, const std::vector<Shape> &shapes, const Attrs &attrs = {}) {
    std::vector<OutputInfo> outputs;
    const Status st = run_infer(op, shapes, attrs, &outputs);
    EXPECT_TRUE(st.ok()) << op << ": " << st.message();
    EXPECT_EQ(outputs.size(), 1u);
    if (outputs.size() != 1) return {-1};
    EXPECT_EQ(outputs[0].dtype, DType::F32);
    return outputs[0].shape;
}

// The error message; fails the test if inference succeeds.
std::string infer_error(const std::string &op, const std::vector<Shape> &shapes,
                        const Attrs &attrs = {}, DType dtype = DType::F32) {
    std::vector<OutputInfo> outputs;
    const Status st = run_infer(op, shapes, attrs, &outputs, dtype);
    EXPECT_EQ(st.code(), SALUS_EGRAPH) << op << " accepted";
    return st.message();
}

// The catalogue itself is generated from the schema (doc/ops.md, checked by
// the docs suite), so no list of ops is kept here.
TEST(OpTable, EveryOpIsComplete) {
    for (const OpSchema &op : all_ops()) {
        EXPECT_NE(op.infer, nullptr) << op.name;
        EXPECT_FALSE(op.doc.empty()) << op.name;
        EXPECT_FALSE(op.category.empty()) << op.name;
        EXPECT_EQ(find_op(op.name), &op) << op.name << " is declared twice";
        for (int i : op.updates_inputs) EXPECT_LT(i, op.min_inputs) << op.name;
    }
    EXPECT_EQ(find_op("matmul"), nullptr);
}

TEST(OpTable, DefaultsAreFilledInOnce) {
    NodeDesc node;
    node.op = "AdamUpdate";
    AttrValue lr;
    lr.type = AttrValue::Type::Float;
    lr.f = 0.1;
    node.attrs["lr"] = lr;
    ASSERT_TRUE(canonicalize_attrs(*find_op("AdamUpdate"), &node).ok());
    EXPECT_EQ(node.get_float("beta1"), find_op("AdamUpdate")->find_attr("beta1")->default_value.f);
    EXPECT_EQ(node.get_float("lr"), 0.1);
    NodeDesc reduce;
    reduce.op = "ReduceSum";
    ASSERT_TRUE(canonicalize_attrs(*find_op("ReduceSum"), &reduce).ok());
    EXPECT_EQ(reduce.attr("axes"), nullptr) << "an optional attribute stays absent";
    EXPECT_EQ(reduce.get_int("keepdims"), 1);
}

TEST(ShapeInference, ComputingOpsTakeOnlyF32) {
    EXPECT_NE(infer_error("MatMul", {{2, 2}, {2, 2}}, {}, DType::F16)
                  .find("dtype f16 is not supported by MatMul (input 0 A; only f32 is)"),
              std::string::npos);
    EXPECT_NE(infer_error("Add", {{2}, {2}}, {}, DType::F16)
                  .find("dtype f16 is not supported by Add (input 0 A; only f32, i32, i64, f64 "
                        "are)"),
              std::string::npos);
    EXPECT_NE(infer_error("Exp", {{2}}, {}, DType::F64).find("dtype f64 is not supported by Exp"),
              std::string::npos);
    EXPECT_NE(infer_error("Relu", {{2}}, {}, DType::I32).find("dtype i32 is not supported by Relu"),
              std::string::npos);
    const Attrs sgd = {{"lr", float_attr(0.1)}};
    EXPECT_NE(infer_error("SGDUpdate", {{2}, {2}}, sgd, DType::BF16)
                  .find("dtype bf16 is not supported by SGDUpdate"),
              std::string::npos);
}

TEST(ShapeInference, IdentityAndReshapeKeepEveryDtype) {
    for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64, DType::F64}) {
        std::vector<OutputInfo> outputs;
        ASSERT_TRUE(run_infer("Identity", {{2, 3}}, {}, &outputs, dtype).ok());
        EXPECT_EQ(outputs[0].dtype, dtype);
        EXPECT_EQ(outputs[0].shape, (Shape{2, 3}));
        ASSERT_TRUE(
            run_infer("Reshape", {{2, 3}}, {{"shape", ints_attr({3, -1})}}, &outputs, dtype).ok());
        EXPECT_EQ(outputs[0].dtype, dtype);
        EXPECT_EQ(outputs[0].shape, (Shape{3, 2}));
    }
}

TEST(ShapeInference, OneHotAppendsDepthAndGivesF32) {
    const Attrs depth = {{"depth", int_attr(10)}};
    for (DType dtype : {DType::I32, DType::I64}) {
        std::vector<OutputInfo> outputs;
        ASSERT_TRUE(run_infer("OneHot", {{4}}, depth, &outputs, dtype).ok());
        EXPECT_EQ(outputs[0].dtype, DType::F32);
        EXPECT_EQ(outputs[0].shape, (Shape{4, 10}));
        ASSERT_TRUE(run_infer("OneHot", {{}}, depth, &outputs, dtype).ok());
        EXPECT_EQ(outputs[0].shape, (Shape{10}));
        ASSERT_TRUE(run_infer("OneHot", {{2, 3}}, depth, &outputs, dtype).ok());
        EXPECT_EQ(outputs[0].shape, (Shape{2, 3, 10}));
    }
}

TEST(ShapeInference, OneHotMisuse) {
    EXPECT_NE(infer_error("OneHot", {{4}}, {{"depth", int_attr(3)}}, DType::F32)
                  .find("dtype f32 is not supported by OneHot (input 0 indices; only i32, i64 are)"),
              std::string::npos);
    EXPECT_NE(infer_error("OneHot", {{4}}, {{"depth", int_attr(0)}}, DType::I32)
                  .find("OneHot depth must be positive, got 0"),
              std::string::npos);
    EXPECT_NE(infer_error("OneHot", {{4}}, {}, DType::I64).find("missing required attribute \"depth\""),
              std::string::npos);
}

TEST(ShapeInference, AdamUpdateShapes) {
    const Attrs lr = {{"lr", float_attr(0.01)}};
    std::vector<OutputInfo> outputs = {OutputInfo{}};
    ASSERT_TRUE(run_infer("AdamUpdate", {{3, 2}, {3, 2}, {3, 2}, {3, 2}, {}}, lr, &outputs).ok());
    EXPECT_TRUE(outputs.empty());
    EXPECT_NE(infer_error("AdamUpdate", {{3, 2}, {3, 2}, {2, 3}, {3, 2}, {}}, lr)
                  .find("AdamUpdate needs m of the var's shape: var [3, 2], m [2, 3]"),
              std::string::npos);
    EXPECT_NE(infer_error("AdamUpdate", {{3}, {3}, {3}, {3}, {1}}, lr)
                  .find("AdamUpdate step must be a scalar [], got [1]"),
              std::string::npos);
    const Attrs bad_beta = {{"lr", float_attr(0.01)}, {"beta2", float_attr(1.0)}};
    EXPECT_NE(infer_error("AdamUpdate", {{3}, {3}, {3}, {3}, {}}, bad_beta)
                  .find("AdamUpdate betas must be in [0, 1)"),
              std::string::npos);
}

TEST(ShapeInference, BroadcastBinaryOps) {
    for (const char *op : {"Add", "Sub", "Mul"}) {
        SCOPED_TRACE(op);
        EXPECT_EQ(infer(op, {{2, 3}, {2, 3}}), (Shape{2, 3}));
        EXPECT_EQ(infer(op, {{2, 3}, {3}}), (Shape{2, 3}));
        EXPECT_EQ(infer(op, {{3}, {2, 3}}), (Shape{2, 3}));
        EXPECT_EQ(infer(op, {{4, 1}, {1, 5}}), (Shape{4, 5}));
        EXPECT_EQ(infer(op, {{2, 1, 3}, {4, 1}}), (Shape{2, 4, 3}));
        EXPECT_EQ(infer(op, {{}, {2, 2}}), (Shape{2, 2}));
        EXPECT_EQ(infer(op, {{}, {}}), Shape{});
        EXPECT_EQ(infer_error(op, {{2, 3}, {2}}),
                  std::string(op) + " inputs do not broadcast: A [2, 3], B [2]");
        EXPECT_NE(infer_error(op, {{2, 3, 4}, {3, 1, 4}}).find("do not broadcast"),
                  std::string::npos);
    }
}

TEST(ShapeInference, MatMulTransposes) {
    EXPECT_EQ(infer("MatMul", {{4, 3}, {3, 2}}), (Shape{4, 2}));
    EXPECT_EQ(infer("MatMul", {{3, 4}, {3, 2}}, {{"transA", int_attr(1)}}), (Shape{4, 2}));
    EXPECT_EQ(infer("MatMul", {{4, 3}, {2, 3}}, {{"transB", int_attr(1)}}), (Shape{4, 2}));
    EXPECT_EQ(infer("MatMul", {{3, 4}, {2, 3}}, {{"transA", int_attr(1)}, {"transB", int_attr(1)}}),
              (Shape{4, 2}));
    EXPECT_EQ(infer("MatMul", {{1, 1}, {1, 7}}, {{"transA", int_attr(0)}}), (Shape{1, 7}));
}

TEST(ShapeInference, MatMulBroadcastsBatchAxes) {
    EXPECT_EQ(infer("MatMul", {{2, 4, 3}, {3, 2}}), (Shape{2, 4, 2}));
    EXPECT_EQ(infer("MatMul", {{4, 3}, {5, 3, 2}}), (Shape{5, 4, 2}));
    EXPECT_EQ(infer("MatMul", {{2, 1, 4, 3}, {5, 2, 3}}, {{"transB", int_attr(1)}}),
              (Shape{2, 5, 4, 2}));
    EXPECT_EQ(infer("MatMul", {{7, 3, 4}, {7, 3, 2}}, {{"transA", int_attr(1)}}), (Shape{7, 4, 2}));
}

TEST(ShapeInference, MatMulMisuse) {
    EXPECT_EQ(infer_error("MatMul", {{4, 3}, {5, 2}}),
              "MatMul inner dimensions differ: A [4, 3] (transA=0), B [5, 2] (transB=0)");
    EXPECT_EQ(infer_error("MatMul", {{4, 3}, {3, 2}}, {{"transA", int_attr(1)}}),
              "MatMul inner dimensions differ: A [4, 3] (transA=1), B [3, 2] (transB=0)");
    EXPECT_EQ(infer_error("MatMul", {{3}, {3, 2}}),
              "MatMul needs inputs of rank >= 2: A [3], B [3, 2]");
    EXPECT_EQ(infer_error("MatMul", {{2, 4, 3}, {3, 3, 2}}),
              "MatMul batch dimensions do not broadcast: A [2, 4, 3], B [3, 3, 2]");
    EXPECT_EQ(infer_error("MatMul", {{2, 2}, {2, 2}}, {{"transB", int_attr(2)}}),
              "MatMul attribute \"transB\" must be 0 or 1, got 2");
    EXPECT_EQ(infer_error("MatMul", {{2, 2}, {2, 2}}, {{"transA", float_attr(1)}}),
              "attribute \"transA\" is float, expected int");
}

TEST(ShapeInference, UnaryOpsKeepTheShape) {
    for (const char *op : {"Relu", "Sigmoid", "Tanh", "Identity"}) {
        SCOPED_TRACE(op);
        EXPECT_EQ(infer(op, {{2, 3, 4}}), (Shape{2, 3, 4}));
        EXPECT_EQ(infer(op, {{}}), Shape{});
    }
}

TEST(ShapeInference, ActivationGradsNeedMatchingShapes) {
    EXPECT_EQ(infer("ReluGrad", {{2, 3}, {2, 3}}), (Shape{2, 3}));
    EXPECT_EQ(infer("SigmoidGrad", {{5}, {5}}), (Shape{5}));
    EXPECT_EQ(infer("TanhGrad", {{}, {}}), Shape{});
    EXPECT_EQ(infer_error("ReluGrad", {{2, 3}, {3, 2}}),
              "ReluGrad needs dY and X of the same shape: dY [2, 3], X [3, 2]");
    EXPECT_EQ(infer_error("SigmoidGrad", {{2, 3}, {3}}),
              "SigmoidGrad needs dY and Y of the same shape: dY [2, 3], Y [3]");
    EXPECT_EQ(infer_error("TanhGrad", {{1}, {2}}),
              "TanhGrad needs dY and Y of the same shape: dY [1], Y [2]");
}

TEST(ShapeInference, SoftmaxAxis) {
    EXPECT_EQ(infer("Softmax", {{2, 3}}), (Shape{2, 3}));
    EXPECT_EQ(infer("Softmax", {{2, 3}}, {{"axis", int_attr(0)}}), (Shape{2, 3}));
    EXPECT_EQ(infer("Softmax", {{2, 3, 4}}, {{"axis", int_attr(-3)}}), (Shape{2, 3, 4}));
    EXPECT_EQ(infer_error("Softmax", {{2, 3}}, {{"axis", int_attr(2)}}),
              "Softmax axis 2 is out of range for X [2, 3]");
    EXPECT_EQ(infer_error("Softmax", {{2, 3}}, {{"axis", int_attr(-3)}}),
              "Softmax axis -3 is out of range for X [2, 3]");
    EXPECT_EQ(infer_error("Softmax", {{}}), "Softmax axis -1 is out of range for X []");
    EXPECT_EQ(infer_error("Softmax", {{2}}, {{"axis", float_attr(0)}}),
              "attribute \"axis\" is float, expected int");
}

TEST(ShapeInference, SoftmaxGrad) {
    EXPECT_EQ(infer("SoftmaxGrad", {{2, 3}, {2, 3}}, {{"axis", int_attr(-2)}}), (Shape{2, 3}));
    EXPECT_EQ(infer_error("SoftmaxGrad", {{2, 3}, {2, 4}}),
              "SoftmaxGrad needs dY and Y of the same shape: dY [2, 3], Y [2, 4]");
    EXPECT_EQ(infer_error("SoftmaxGrad", {{2, 3}, {2, 3}}, {{"axis", int_attr(5)}}),
              "SoftmaxGrad axis 5 is out of range for Y [2, 3]");
}

TEST(ShapeInference, SoftmaxCrossEntropyIsAScalar) {
    EXPECT_EQ(infer("SoftmaxCrossEntropy", {{4, 3}, {4, 3}}), Shape{});
    EXPECT_EQ(infer_error("SoftmaxCrossEntropy", {{4, 3}, {4, 2}}),
              "SoftmaxCrossEntropy needs logits and labels of the same [N, C] shape: logits "
              "[4, 3], labels [4, 2]");
    EXPECT_EQ(infer_error("SoftmaxCrossEntropy", {{12}, {12}}),
              "SoftmaxCrossEntropy needs logits and labels of the same [N, C] shape: logits "
              "[12], labels [12]");
}

TEST(ShapeInference, SoftmaxCrossEntropyGrad) {
    EXPECT_EQ(infer("SoftmaxCrossEntropyGrad", {{4, 3}, {4, 3}}), (Shape{4, 3}));
    EXPECT_EQ(infer("SoftmaxCrossEntropyGrad", {{4, 3}, {4, 3}, {}}), (Shape{4, 3}));
    EXPECT_EQ(infer_error("SoftmaxCrossEntropyGrad", {{4, 3}, {4, 3}, {1}}),
              "SoftmaxCrossEntropyGrad dLoss must be a scalar [], got [1]");
    EXPECT_NE(infer_error("SoftmaxCrossEntropyGrad", {{4, 3}, {3, 4}}).find("same [N, C] shape"),
              std::string::npos);
}

TEST(ShapeInference, Reductions) {
    const Attrs drop = {{"keepdims", int_attr(0)}};
    for (const char *op : {"ReduceSum", "ReduceMean"}) {
        SCOPED_TRACE(op);
        EXPECT_EQ(infer(op, {{2, 3, 4}}), (Shape{1, 1, 1}));
        EXPECT_EQ(infer(op, {{2, 3, 4}}, drop), Shape{});
        EXPECT_EQ(infer(op, {{2, 3, 4}}, {{"axes", ints_attr({1})}}), (Shape{2, 1, 4}));
        EXPECT_EQ(infer(op, {{2, 3, 4}}, {{"axes", ints_attr({-1})}, {"keepdims", int_attr(0)}}),
                  (Shape{2, 3}));
        EXPECT_EQ(infer(op, {{2, 3, 4}}, {{"axes", ints_attr({2, 0})}, {"keepdims", int_attr(0)}}),
                  (Shape{3}));
        EXPECT_EQ(infer(op, {{2, 3, 4}}, {{"axes", ints_attr({0, -2})}}), (Shape{1, 1, 4}));
        EXPECT_EQ(infer(op, {{}}), Shape{});
        // An empty list reduces everything too (ONNX with noop_with_empty_axes = 0).
        EXPECT_EQ(infer(op, {{2, 3}}, {{"axes", ints_attr({})}}), (Shape{1, 1}));
    }
}

TEST(ShapeInference, ReductionMisuse) {
    EXPECT_EQ(infer_error("ReduceSum", {{2, 3}}, {{"axes", ints_attr({2})}}),
              "ReduceSum axis 2 is out of range for X [2, 3]");
    EXPECT_EQ(infer_error("ReduceMean", {{2, 3}}, {{"axes", ints_attr({-3})}}),
              "ReduceMean axis -3 is out of range for X [2, 3]");
    EXPECT_EQ(infer_error("ReduceSum", {{2, 3, 4}}, {{"axes", ints_attr({1, -2})}}),
              "ReduceSum axes [1, -2] name axis 1 of X [2, 3, 4] more than once");
    EXPECT_EQ(infer_error("ReduceSum", {{2}}, {{"keepdims", int_attr(2)}}),
              "ReduceSum attribute \"keepdims\" must be 0 or 1, got 2");
    EXPECT_EQ(infer_error("ReduceSum", {{2}}, {{"axes", int_attr(0)}}),
              "attribute \"axes\" is int, expected ints");
}

TEST(ShapeInference, Expand) {
    EXPECT_EQ(infer("Expand", {{3, 1}}, {{"shape", ints_attr({2, 3, 4})}}), (Shape{2, 3, 4}));
    EXPECT_EQ(infer("Expand", {{}}, {{"shape", ints_attr({2, 2})}}), (Shape{2, 2}));
    EXPECT_EQ(infer("Expand", {{5}}, {{"shape", ints_attr({5})}}), (Shape{5}));
    EXPECT_EQ(infer_error("Expand", {{3, 2}}, {{"shape", ints_attr({3, 4})}}),
              "Expand cannot broadcast X [3, 2] to shape [3, 4]");
    // Broadcasting both ways is not enough: the result must be `shape` itself.
    EXPECT_EQ(infer_error("Expand", {{3, 4}}, {{"shape", ints_attr({3, 1})}}),
              "Expand cannot broadcast X [3, 4] to shape [3, 1]");
    EXPECT_EQ(infer_error("Expand", {{2, 3}}, {{"shape", ints_attr({3})}}),
              "Expand cannot broadcast X [2, 3] to shape [3]");
    EXPECT_EQ(infer_error("Expand", {{1}}, {{"shape", ints_attr({2, 0})}}),
              "Expand shape [2, 0] has a non-positive dimension");
    EXPECT_EQ(infer_error("Expand", {{1}}, {{"shape", ints_attr({1, 1, 1, 1, 1, 1, 1, 1, 1})}}),
              "Expand shape [1, 1, 1, 1, 1, 1, 1, 1, 1] has rank 9, over the maximum of 8");
    EXPECT_EQ(infer_error("Expand", {{1}}), "missing required attribute \"shape\"");
}

TEST(ShapeInference, Reshape) {
    const auto shape = [](std::vector<int64_t> s) { return Attrs{{"shape", ints_attr(s)}}; };
    EXPECT_EQ(infer("Reshape", {{2, 3, 4}}, shape({6, 4})), (Shape{6, 4}));
    EXPECT_EQ(infer("Reshape", {{2, 3, 4}}, shape({6, -1})), (Shape{6, 4}));
    EXPECT_EQ(infer("Reshape", {{2, 3, 4}}, shape({-1})), (Shape{24}));
    EXPECT_EQ(infer("Reshape", {{2, 3, 4}}, shape({0, -1})), (Shape{2, 12}));
    EXPECT_EQ(infer("Reshape", {{2, 3, 4}}, shape({0, 0, 4, 1})), (Shape{2, 3, 4, 1}));
    EXPECT_EQ(infer("Reshape", {{1}}, shape({})), Shape{});
    EXPECT_EQ(infer("Reshape", {{}}, shape({1, -1})), (Shape{1, 1}));
}

TEST(ShapeInference, ReshapeMisuse) {
    const auto shape = [](std::vector<int64_t> s) { return Attrs{{"shape", ints_attr(s)}}; };
    EXPECT_EQ(infer_error("Reshape", {{2, 3, 4}}, shape({5, 5})),
              "Reshape cannot reshape X [2, 3, 4] (24 elements) to [5, 5] (25 elements)");
    EXPECT_EQ(infer_error("Reshape", {{2, 3, 4}}, shape({-1, -1})),
              "Reshape shape [-1, -1] has more than one -1");
    EXPECT_EQ(infer_error("Reshape", {{2, 3, 4}}, shape({5, -1})),
              "Reshape cannot infer the -1 in [5, -1]: X [2, 3, 4] has 24 elements, not a "
              "multiple of 5");
    EXPECT_EQ(infer_error("Reshape", {{24}}, shape({0, 0})),
              "Reshape shape [0, 0] copies dimension 1 (0) but X [24] has rank 1");
    EXPECT_EQ(infer_error("Reshape", {{24}}, shape({-2, -12})),
              "Reshape shape [-2, -12] has an invalid dimension -2");
    EXPECT_EQ(infer_error("Reshape", {{24}}, shape({int64_t{1} << 40, int64_t{1} << 40})),
              "Reshape shape [1099511627776, 1099511627776] has too many elements");
}

TEST(ShapeInference, Transpose) {
    const auto perm = [](std::vector<int64_t> p) { return Attrs{{"perm", ints_attr(p)}}; };
    EXPECT_EQ(infer("Transpose", {{2, 3, 4}}), (Shape{4, 3, 2}));
    EXPECT_EQ(infer("Transpose", {{2, 3}}), (Shape{3, 2}));
    EXPECT_EQ(infer("Transpose", {{}}), Shape{});
    EXPECT_EQ(infer("Transpose", {{2, 3, 4}}, perm({0, 2, 1})), (Shape{2, 4, 3}));
    EXPECT_EQ(infer("Transpose", {{2, 3, 4}}, perm({1, 2, 0})), (Shape{3, 4, 2}));
    EXPECT_EQ(infer_error("Transpose", {{2, 3, 4}}, perm({0, 0, 1})),
              "Transpose perm [0, 0, 1] is not a permutation of the 3 axes of X [2, 3, 4]");
    EXPECT_EQ(infer_error("Transpose", {{2, 3, 4}}, perm({0, 1, 3})),
              "Transpose perm [0, 1, 3] is not a permutation of the 3 axes of X [2, 3, 4]");
    EXPECT_EQ(infer_error("Transpose", {{2, 3, 4}}, perm({-1, 0, 1})),
              "Transpose perm [-1, 0, 1] is not a permutation of the 3 axes of X [2, 3, 4]");
    EXPECT_EQ(infer_error("Transpose", {{2, 3, 4}}, perm({1, 0})),
              "Transpose perm [1, 0] has 2 entries but X [2, 3, 4] has rank 3");
}

TEST(ShapeInference, SGDUpdateHasNoOutputs) {
    std::vector<OutputInfo> outputs(3);
    const Status st = run_infer("SGDUpdate", {{3, 5}, {3, 5}}, {{"lr", float_attr(0.1)}}, &outputs);
    EXPECT_TRUE(st.ok()) << st.message();
    EXPECT_TRUE(outputs.empty());
    EXPECT_EQ(infer_error("SGDUpdate", {{3, 5}, {5, 3}}, {{"lr", float_attr(0.1)}}),
              "SGDUpdate needs grad of the var's shape: var [3, 5], grad [5, 3]");
}

TEST(ShapeInference, TooFewInputsIsAnErrorNotACrash) {
    EXPECT_EQ(infer_error("MatMul", {{2, 2}}), "MatMul takes 2 inputs, got 1");
    EXPECT_EQ(infer_error("Relu", {}), "Relu takes 1 input, got 0");
}

// Through the validator, the message gains the node label and the inferred
// shapes land in the graph.
TEST(ShapeInference, ThroughValidateGraph) {
    test::GraphBuilder b;
    const uint32_t x = b.input("x", {8, 6});
    const uint32_t r = b.op("Reshape", {x}, {{"shape", ints_attr({0, 2, -1})}}, "split");
    const uint32_t t = b.op("Transpose", {r}, {{"perm", ints_attr({2, 0, 1})}}, "swap");
    const uint32_t s = b.op("ReduceMean", {t}, {{"axes", ints_attr({-1})}}, "mean");
    b.output(s);
    std::vector<uint32_t> order;
    const Status st = validate_graph(&b.graph(), &order);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(b.graph().tensors[r].shape, (Shape{8, 2, 3}));
    EXPECT_EQ(b.graph().tensors[t].shape, (Shape{3, 8, 2}));
    EXPECT_EQ(b.graph().tensors[s].shape, (Shape{3, 8, 1}));

    b.graph().nodes[2].attrs["axes"] = ints_attr({3});
    for (uint32_t id : {r, t, s}) b.graph().tensors[id].has_shape = false;
    EXPECT_EQ(validate_graph(&b.graph(), &order).message(),
              "node 2 \"mean\" (ReduceMean): ReduceMean axis 3 is out of range for X [3, 8, 2]");
}

} // namespace
} // namespace salus
