// The op table: one entry per op of doc/ops.md, in the document's order.
#include "graph/ops.h"

#include "graph/shape_inference.h"
#include "graph/test_ops.h"
#include "graph/workspace.h"

namespace salus {
namespace {

using T = AttrValue::Type;

std::vector<OpSchema> make_ops() {
    // Scratch space per device: graph/workspace.h.
    const std::vector<AttrSpec> matmul_attrs = {{"transA", T::Int, false},
                                                {"transB", T::Int, false}};
    const std::vector<AttrSpec> softmax_attrs = {{"axis", T::Int, false}};
    const std::vector<AttrSpec> reduce_attrs = {{"axes", T::Ints, false},
                                                {"keepdims", T::Int, false}};
    return {
        {"MatMul", 2, 2, 1, matmul_attrs, infer_matmul, matmul_workspace, -1},
        {"Add", 2, 2, 1, {}, infer_broadcast_binary, nullptr, -1},
        {"Sub", 2, 2, 1, {}, infer_broadcast_binary, nullptr, -1},
        {"Mul", 2, 2, 1, {}, infer_broadcast_binary, nullptr, -1},
        {"Relu", 1, 1, 1, {}, infer_unary, nullptr, -1},
        {"ReluGrad", 2, 2, 1, {}, infer_relu_grad, nullptr, -1},
        {"Sigmoid", 1, 1, 1, {}, infer_unary, nullptr, -1},
        {"SigmoidGrad", 2, 2, 1, {}, infer_activation_grad, nullptr, -1},
        {"Tanh", 1, 1, 1, {}, infer_unary, nullptr, -1},
        {"TanhGrad", 2, 2, 1, {}, infer_activation_grad, nullptr, -1},
        {"Softmax", 1, 1, 1, softmax_attrs, infer_softmax, nullptr, -1},
        {"SoftmaxGrad", 2, 2, 1, softmax_attrs, infer_softmax_grad, nullptr, -1},
        {"SoftmaxCrossEntropy",
         2,
         2,
         1,
         {},
         infer_softmax_cross_entropy,
         softmax_cross_entropy_workspace,
         -1},
        {"SoftmaxCrossEntropyGrad", 2, 3, 1, {}, infer_softmax_cross_entropy_grad, nullptr, -1},
        {"ReduceSum", 1, 1, 1, reduce_attrs, infer_reduce, nullptr, -1},
        {"ReduceMean", 1, 1, 1, reduce_attrs, infer_reduce, nullptr, -1},
        {"Expand", 1, 1, 1, {{"shape", T::Ints, true}}, infer_expand, nullptr, -1},
        {"Reshape", 1, 1, 1, {{"shape", T::Ints, true}}, infer_reshape, nullptr, -1},
        {"Transpose", 1, 1, 1, {{"perm", T::Ints, false}}, infer_transpose, nullptr, -1},
        {"Identity", 1, 1, 1, {}, infer_unary, nullptr, -1},
        {"SGDUpdate", 2, 2, 0, {{"lr", T::Float, true}}, infer_sgd_update, nullptr, 0},
    };
}

} // namespace

const std::vector<OpSchema> &all_ops() {
    static const std::vector<OpSchema> ops = make_ops();
    return ops;
}

const OpSchema *find_op(std::string_view name) {
    for (const OpSchema &op : all_ops()) {
        if (name == op.name) return &op;
    }
    if (test_ops_enabled() && name == test_fault_op().name) return &test_fault_op();
    return nullptr;
}

} // namespace salus
