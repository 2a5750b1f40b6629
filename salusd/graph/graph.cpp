#include "graph/graph.h"

namespace salus {

size_t dtype_size(DType dtype) {
    switch (dtype) {
    case DType::F32: return 4;
    case DType::F16: return 2;
    case DType::BF16: return 2;
    case DType::I32: return 4;
    case DType::I64: return 8;
    case DType::Bool: return 1;
    case DType::F64: return 8;
    }
    return 0;
}

const char *dtype_name(DType dtype) {
    switch (dtype) {
    case DType::F32: return "f32";
    case DType::F16: return "f16";
    case DType::BF16: return "bf16";
    case DType::I32: return "i32";
    case DType::I64: return "i64";
    case DType::Bool: return "bool";
    case DType::F64: return "f64";
    }
    return "unknown";
}

const char *tensor_kind_name(TensorKind kind) {
    switch (kind) {
    case TensorKind::Input: return "input";
    case TensorKind::Variable: return "variable";
    case TensorKind::Constant: return "constant";
    case TensorKind::Intermediate: return "intermediate";
    }
    return "unknown";
}

const char *attr_type_name(AttrValue::Type type) {
    switch (type) {
    case AttrValue::Type::Int: return "int";
    case AttrValue::Type::Float: return "float";
    case AttrValue::Type::Ints: return "ints";
    case AttrValue::Type::Floats: return "floats";
    case AttrValue::Type::String: return "string";
    }
    return "unknown";
}

int64_t num_elements(const Shape &shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

std::string shape_str(const Shape &shape) {
    // Shapes and attribute lists come from clients: a frame of a million
    // dimensions would print as an error message three times its size.
    constexpr size_t kShown = 2 * SALUS_MAX_RANK; // every pads list whole
    std::string s = "[";
    for (size_t i = 0; i < shape.size() && i < kShown; ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() > kShown) s += ", ... (" + std::to_string(shape.size()) + " in all)";
    return s + "]";
}

std::string node_label(const std::vector<NodeDesc> &nodes, size_t index) {
    std::string label = "node " + std::to_string(index);
    if (index < nodes.size()) {
        const NodeDesc &n = nodes[index];
        if (!n.name.empty()) label += " \"" + n.name + "\"";
        label += " (" + n.op + ")";
    }
    return label;
}

const std::vector<int64_t> &NodeDesc::get_ints(std::string_view key) const {
    static const std::vector<int64_t> empty;
    const AttrValue *a = attr(key);
    return a && a->type == AttrValue::Type::Ints ? a->ints : empty;
}

const std::vector<double> &NodeDesc::get_floats(std::string_view key) const {
    static const std::vector<double> empty;
    const AttrValue *a = attr(key);
    return a && a->type == AttrValue::Type::Floats ? a->floats : empty;
}

const std::string &NodeDesc::get_string(std::string_view key) const {
    static const std::string empty;
    const AttrValue *a = attr(key);
    return a && a->type == AttrValue::Type::String ? a->s : empty;
}

} // namespace salus
