// The op schema: every op is declared once (salusd/ops/, one file per family)
// with its inputs and outputs, typed attributes and their defaults, the
// dtypes each input takes, its shape inference and the inputs it updates in
// place. Validation, attribute defaulting, client-side shape inference
// (libsalus), the op catalogue (doc/ops.md) and the tests' op lists all
// follow from it. Kernels are per device and live in exec/.
#pragma once

#include "graph/graph.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace salus {

// What shape inference sees of one input.
struct InputInfo {
    DType dtype;
    const Shape *shape;
};

struct OutputInfo {
    DType dtype = DType::F32;
    Shape shape;
};

// A set of dtypes, one bit per DType value.
using DTypeSet = uint8_t;

constexpr DTypeSet dtype_bit(DType dtype) {
    return static_cast<DTypeSet>(1u << static_cast<unsigned>(dtype));
}
constexpr DTypeSet kF32Only = dtype_bit(DType::F32);
constexpr DTypeSet kFloatDTypes =
    dtype_bit(DType::F32) | dtype_bit(DType::F16) | dtype_bit(DType::BF16) | dtype_bit(DType::F64);
constexpr DTypeSet kIntegerDTypes = dtype_bit(DType::I32) | dtype_bit(DType::I64);
constexpr DTypeSet kBoolOnly = dtype_bit(DType::Bool);
// The dtypes that compare, select and compute Add, Sub, Mul and Div: numbers
// with kernels (f16 and bf16 have none yet).
constexpr DTypeSet kNumericDTypes = dtype_bit(DType::F32) | dtype_bit(DType::F64) | kIntegerDTypes;
constexpr DTypeSet kAllDTypes = kFloatDTypes | kIntegerDTypes | kBoolOnly;

// "f32", "i32, i64": the members of a set, for messages.
std::string dtype_set_str(DTypeSet set);

// Computes output dtypes and shapes from canonical attributes (every
// attribute with a default is present: canonicalize_attrs()); the error
// message names the problem, the caller prefixes the node label.
using InferSig = Status(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                        std::vector<OutputInfo> *outputs);
using InferFn = InferSig *;

struct AttrSpec {
    std::string name;
    AttrValue::Type type = AttrValue::Type::Int;
    enum class Presence : uint8_t {
        Required,  // the graph must set it
        Defaulted, // absent: `default_value` is filled in before anything reads it
        Optional,  // absent means something of its own (e.g. "every axis")
    } presence = Presence::Defaulted;
    AttrValue default_value;
    std::string doc;
};

// One input or output of an op.
struct ArgSpec {
    std::string name;
    DTypeSet dtypes = kF32Only; // inputs: what the validator accepts
    bool optional = false;      // trailing inputs/outputs only
    bool variadic = false;      // the last one only: repeats (one or more)
    std::string doc;
};

struct OpSchema {
    std::string name;
    std::string category; // the section of doc/ops.md
    std::string doc;      // semantics, one paragraph of Markdown
    std::vector<ArgSpec> inputs;
    std::vector<ArgSpec> outputs;
    std::vector<AttrSpec> attrs;
    InferFn infer = nullptr;
    // Indices of the inputs the op writes in place (each must be a Variable).
    std::vector<int> updates_inputs;

    // Arity, derived from `inputs` and `outputs` by OpDef::build().
    int min_inputs = 0, max_inputs = 0;
    int min_outputs = 0, max_outputs = 0;

    // The dtypes input i may have (a variadic input's set for every repeat).
    DTypeSet input_dtypes(size_t i) const;
    const AttrSpec *find_attr(std::string_view attr) const;
};

// Bound of a variadic list (Concat's inputs, Split's outputs).
constexpr int kMaxVariadic = 1024;

// Declares one op:
//   OpDef("LeakyRelu", "Activations").doc("Y = X if X >= 0, else alpha * X")
//       .input("X").output("Y").attr_float("alpha", 0.01).infer(infer_unary)
class OpDef {
  public:
    OpDef(std::string name, std::string category);

    OpDef &doc(std::string text);
    OpDef &input(std::string name, DTypeSet dtypes = kF32Only, std::string doc = "");
    OpDef &optional_input(std::string name, DTypeSet dtypes = kF32Only, std::string doc = "");
    OpDef &variadic_input(std::string name, DTypeSet dtypes = kF32Only, std::string doc = "");
    // Output dtypes come from shape inference; `doc` may say which.
    OpDef &output(std::string name, std::string doc = "");
    OpDef &optional_output(std::string name, std::string doc = "");
    OpDef &variadic_output(std::string name, std::string doc = "");

    OpDef &attr_int(std::string name, int64_t def, std::string doc = "");
    OpDef &attr_float(std::string name, double def, std::string doc = "");
    OpDef &attr_ints(std::string name, std::vector<int64_t> def, std::string doc = "");
    OpDef &attr_floats(std::string name, std::vector<double> def, std::string doc = "");
    OpDef &attr_string(std::string name, std::string def, std::string doc = "");
    OpDef &required_attr(std::string name, AttrValue::Type type, std::string doc = "");
    OpDef &optional_attr(std::string name, AttrValue::Type type, std::string doc = "");
    // `op`'s attributes of these names, in this order, as `op` declares them
    // (presence, default, doc): a backward op takes its forward's instead of
    // writing their defaults again. A name `op` lacks is a schema bug: it
    // aborts when the registry is built, in every program and test.
    OpDef &attrs_of(const OpSchema &op, std::initializer_list<std::string_view> names);

    OpDef &infer(InferFn fn);
    OpDef &updates(std::vector<int> inputs);

    OpSchema build();

  private:
    OpDef &arg(std::vector<ArgSpec> *list, ArgSpec spec);
    OpDef &attr(AttrSpec spec);
    OpSchema op_;
};

// A family of ops registers itself with one of these (ops/op_families.h).
using OpList = std::vector<OpSchema>;

// nullptr for an unknown op (TestFault is known only after enable_test_ops():
// graph/test_ops.h).
const OpSchema *find_op(std::string_view name);
// Every op, in catalogue order, for documentation and tests.
const std::vector<OpSchema> &all_ops();

// Checks the node's attributes against its op (unknown names, wrong types,
// missing required ones) and fills in every absent default, so that shape
// inference and kernels read each attribute without a fallback of their own.
// The message does not name the node.
Status canonicalize_attrs(const OpSchema &op, NodeDesc *node);

// Arity and per-input dtypes of a node's inputs as shape inference sees them.
Status check_node_inputs(const OpSchema &op, const std::vector<InputInfo> &inputs);

// canonicalize_attrs, check_node_inputs, then the op's shape inference: what
// the validator does for one node, and what libsalus offers its callers.
Status infer_node(const OpSchema &op, NodeDesc *node, const std::vector<InputInfo> &inputs,
                  std::vector<OutputInfo> *outputs);

} // namespace salus
