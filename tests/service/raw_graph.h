// Graphs as plain data, serialized to salus.ir.Graph bytes without the
// checks of libsalus's builder: for the graphs a hostile client sends
// (cycles, ids out of range, unknown ops, dtypes and kinds).
#pragma once

#include "graph_generated.h"

#include <cstdint>
#include <string>
#include <vector>

namespace salus::test {

struct RawAttr {
    std::string name;
    ir::AttrType type = ir::AttrType::Int;
    int64_t i = 0;
    double f = 0.0;
    std::vector<int64_t> ints;
};

struct RawTensor {
    std::string name;
    ir::TensorKind kind = ir::TensorKind::Intermediate;
    ir::DType dtype = ir::DType::F32;
    bool has_shape = false;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
};

struct RawNode {
    std::string op;
    std::vector<uint32_t> inputs, outputs;
    std::vector<RawAttr> attrs;
};

struct RawGraph {
    std::vector<RawTensor> tensors;
    std::vector<RawNode> nodes;
    std::vector<uint32_t> outputs;
};

// The graph's buffer, with the "SLGR" identifier.
std::vector<uint8_t> graph_bytes(const RawGraph &g);

} // namespace salus::test
