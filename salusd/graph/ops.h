// The op catalogue: for every op, its arity, attributes, shape inference and
// scratch space. One table serves validation, planning and the kernels.
#pragma once

#include "common/device_type.h"
#include "graph/graph.h"

#include <cstddef>
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
    // Index of an input the op writes in place (must be a Variable), or -1.
    int updates_input;
};

// nullptr for an unknown op (TestFault is known only after enable_test_ops():
// graph/test_ops.h).
const OpSchema *find_op(std::string_view name);
// Every op, for documentation and tests.
const std::vector<OpSchema> &all_ops();

} // namespace salus
