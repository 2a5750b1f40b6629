// The daemon's in-memory form of a client's graph, decoded once from the
// flatbuffer IR at session creation. Tensor ids are indices into `tensors`.
#pragma once

#include "common/status.h"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace salus {

// Bool is one byte per element, 0 or 1 (what comparisons produce).
enum class DType : uint8_t { F32 = 0, F16 = 1, BF16 = 2, I32 = 3, I64 = 4, Bool = 5, F64 = 6 };
constexpr DType kLastDType = DType::F64;

size_t dtype_size(DType dtype);
const char *dtype_name(DType dtype);

enum class TensorKind : uint8_t { Input = 0, Variable = 1, Constant = 2, Intermediate = 3 };

const char *tensor_kind_name(TensorKind kind);

using Shape = std::vector<int64_t>;

// Product of the dimensions (1 for a scalar). Callers validate shapes first.
int64_t num_elements(const Shape &shape);
// "[2, 3]"; past 16 dimensions "[1, 2, ..., 16, ... (N in all)]".
std::string shape_str(const Shape &shape);

struct AttrValue {
    enum class Type : uint8_t { Int = 0, Float = 1, Ints = 2, Floats = 3, String = 4 };
    Type type = Type::Int;
    int64_t i = 0;
    double f = 0.0;
    std::vector<int64_t> ints;
    std::vector<double> floats;
    std::string s;
};

const char *attr_type_name(AttrValue::Type type);

// std::less<> lets kernels look attributes up by string literal without
// building a std::string on the iteration path.
using Attrs = std::map<std::string, AttrValue, std::less<>>;

struct TensorDesc {
    std::string name;
    TensorKind kind = TensorKind::Intermediate;
    DType dtype = DType::F32;
    Shape shape;
    bool has_shape = false;    // false: an intermediate whose shape is inferred
    std::vector<uint8_t> init; // initial value of a variable or constant

    bool persistent() const { return kind == TensorKind::Variable || kind == TensorKind::Constant; }
    size_t nbytes() const { return static_cast<size_t>(num_elements(shape)) * dtype_size(dtype); }
};

struct NodeDesc {
    std::string name;
    std::string op;
    std::vector<uint32_t> inputs;
    std::vector<uint32_t> outputs;
    Attrs attrs;

    const AttrValue *attr(std::string_view key) const {
        auto it = attrs.find(key);
        return it == attrs.end() ? nullptr : &it->second;
    }
    int64_t attr_int(std::string_view key, int64_t fallback) const {
        const AttrValue *a = attr(key);
        return a && a->type == AttrValue::Type::Int ? a->i : fallback;
    }
    double attr_float(std::string_view key, double fallback) const {
        const AttrValue *a = attr(key);
        return a && a->type == AttrValue::Type::Float ? a->f : fallback;
    }
    // Canonical attributes (graph/ops.h: canonicalize_attrs) hold every
    // default, so these read them without a fallback of their own.
    int64_t get_int(std::string_view key) const { return attr_int(key, 0); }
    double get_float(std::string_view key) const { return attr_float(key, 0.0); }
    const std::vector<int64_t> &get_ints(std::string_view key) const;
    const std::vector<double> &get_floats(std::string_view key) const;
    const std::string &get_string(std::string_view key) const;
};

// How a node is named in error messages: `node 3 "fc1" (MatMul)`.
std::string node_label(const std::vector<NodeDesc> &nodes, size_t index);

struct Graph {
    std::vector<TensorDesc> tensors;
    std::vector<NodeDesc> nodes;
    std::vector<uint32_t> outputs;
};

} // namespace salus
