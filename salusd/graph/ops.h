// The op catalogue: for every op, its arity, attributes, shape inference and
// scratch space. One table serves validation, planning and the kernels.
#pragma once

#include "common/device_type.h"
#include "graph/graph.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace salus {

struct AttrSpec {
    const char *name;
    AttrValue::Type type;
    bool required;
};

// What shape inference sees of one input.
struct InputInfo {
    DType dtype;
    const Shape *shape;
};

// A set of dtypes, one bit per DType value.
using DTypeSet = uint8_t;

constexpr DTypeSet dtype_bit(DType dtype) {
    return static_cast<DTypeSet>(1u << static_cast<unsigned>(dtype));
}
constexpr DTypeSet kF32Only = dtype_bit(DType::F32);
constexpr DTypeSet kIntegerDTypes = dtype_bit(DType::I32) | dtype_bit(DType::I64);
constexpr DTypeSet kAllDTypes =
    dtype_bit(DType::F32) | dtype_bit(DType::F16) | dtype_bit(DType::BF16) | kIntegerDTypes;

// "f32", "i32, i64": the members of a set, for messages.
std::string dtype_set_str(DTypeSet set);

struct OutputInfo {
    DType dtype = DType::F32;
    Shape shape;
};

struct OpSchema {
    const char *name;
    int min_inputs;
    int max_inputs;
    int num_outputs;
    std::vector<AttrSpec> attrs;
    // Computes output dtypes and shapes; the error message names the problem
    // (the caller prefixes the node label).
    Status (*infer)(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                    std::vector<OutputInfo> *outputs);
    // Scratch bytes the device's kernel needs during the node (planned in T;
    // see graph/workspace.h); may be null: none on any device.
    size_t (*workspace)(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                        DeviceType device);
    // Indices of the inputs the op writes in place (each must be a Variable).
    std::vector<int> updates_inputs;
    // The dtypes every input may have; the validator refuses others, naming
    // the node. Output dtypes come from `infer`.
    DTypeSet input_dtypes;
};

// nullptr for an unknown op (TestFault is known only after enable_test_ops():
// graph/test_ops.h).
const OpSchema *find_op(std::string_view name);
// Every op, for documentation and tests.
const std::vector<OpSchema> &all_ops();

} // namespace salus
