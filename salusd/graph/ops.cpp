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
    const std::vector<AttrSpec> depth_attr = {{"depth", T::Int, true}};
    const std::vector<AttrSpec> shape_attr = {{"shape", T::Ints, true}};
    const std::vector<AttrSpec> perm_attr = {{"perm", T::Ints, false}};
    const std::vector<AttrSpec> sgd_attrs = {{"lr", T::Float, true}};
    const std::vector<AttrSpec> adam_attrs = {{"lr", T::Float, true},
                                              {"beta1", T::Float, false},
                                              {"beta2", T::Float, false},
                                              {"eps", T::Float, false}};
    // Inputs updated in place, and input dtypes.
    const std::vector<int> none = {};
    const DTypeSet f32 = kF32Only;
    const DTypeSet ints = kIntegerDTypes;
    const DTypeSet any = kAllDTypes;
    const auto sce_grad = infer_softmax_cross_entropy_grad;
    const auto sce_workspace = softmax_cross_entropy_workspace;
    return {
        {"MatMul", 2, 2, 1, matmul_attrs, infer_matmul, matmul_workspace, none, f32},
        {"Add", 2, 2, 1, {}, infer_broadcast_binary, nullptr, none, f32},
        {"Sub", 2, 2, 1, {}, infer_broadcast_binary, nullptr, none, f32},
        {"Mul", 2, 2, 1, {}, infer_broadcast_binary, nullptr, none, f32},
        {"Relu", 1, 1, 1, {}, infer_unary, nullptr, none, f32},
        {"ReluGrad", 2, 2, 1, {}, infer_relu_grad, nullptr, none, f32},
        {"Sigmoid", 1, 1, 1, {}, infer_unary, nullptr, none, f32},
        {"SigmoidGrad", 2, 2, 1, {}, infer_activation_grad, nullptr, none, f32},
        {"Tanh", 1, 1, 1, {}, infer_unary, nullptr, none, f32},
        {"TanhGrad", 2, 2, 1, {}, infer_activation_grad, nullptr, none, f32},
        {"Softmax", 1, 1, 1, softmax_attrs, infer_softmax, nullptr, none, f32},
        {"SoftmaxGrad", 2, 2, 1, softmax_attrs, infer_softmax_grad, nullptr, none, f32},
        {"SoftmaxCrossEntropy", 2, 2, 1, {}, infer_softmax_cross_entropy, sce_workspace, none, f32},
        {"SoftmaxCrossEntropyGrad", 2, 3, 1, {}, sce_grad, nullptr, none, f32},
        {"OneHot", 1, 1, 1, depth_attr, infer_one_hot, nullptr, none, ints},
        {"ReduceSum", 1, 1, 1, reduce_attrs, infer_reduce, nullptr, none, f32},
        {"ReduceMean", 1, 1, 1, reduce_attrs, infer_reduce, nullptr, none, f32},
        {"Expand", 1, 1, 1, shape_attr, infer_expand, nullptr, none, f32},
        {"Reshape", 1, 1, 1, shape_attr, infer_reshape, nullptr, none, any},
        {"Transpose", 1, 1, 1, perm_attr, infer_transpose, nullptr, none, f32},
        {"Identity", 1, 1, 1, {}, infer_unary, nullptr, none, any},
        {"SGDUpdate", 2, 2, 0, sgd_attrs, infer_sgd_update, nullptr, {0}, f32},
        {"AdamUpdate", 5, 5, 0, adam_attrs, infer_adam_update, nullptr, {0, 2, 3, 4}, f32},
    };
}

} // namespace

std::string dtype_set_str(DTypeSet set) {
    std::string s;
    for (unsigned d = 0; d <= static_cast<unsigned>(DType::I64); ++d) {
        if ((set & dtype_bit(static_cast<DType>(d))) == 0) continue;
        if (!s.empty()) s += ", ";
        s += dtype_name(static_cast<DType>(d));
    }
    return s;
}

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
