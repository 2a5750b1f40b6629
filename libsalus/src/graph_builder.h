// salus_graph: the graph a client assembles before opening a session. Kept in
// plain containers; serialised to a salus.ir.Graph flatbuffer only when a
// session is created.
#pragma once

#include <salus/salus.h>

#include "graph_generated.h"

#include <cstdint>
#include <string>
#include <vector>

struct salus_graph {
    struct Tensor {
        std::string name;
        bool has_name = false;
        salus::ir::TensorKind kind = salus::ir::TensorKind::Intermediate;
        salus_dtype dtype = SALUS_DTYPE_F32;
        std::vector<int64_t> shape;
        bool has_shape = false; // intermediates: inferred by the daemon
        std::vector<uint8_t> data;
    };

    struct Attr {
        std::string name;
        salus::ir::AttrType type = salus::ir::AttrType::Int;
        int64_t i = 0;
        double f = 0.0;
        std::vector<int64_t> ints;
        std::vector<double> floats;
        std::string s;
    };

    struct Node {
        std::string name;
        bool has_name = false;
        std::string op;
        std::vector<uint32_t> inputs;
        std::vector<uint32_t> outputs;
        std::vector<Attr> attrs; // names unique: setting one twice replaces it
    };

    std::vector<Tensor> tensors;
    std::vector<Node> nodes;
    std::vector<uint32_t> outputs;
};

namespace salus::client {

// An upper bound of the serialised size, checked against the frame limit
// before anything is built (flatbuffers aborts past 2 GiB).
size_t graph_size_bound(const salus_graph &graph);

// Builds the "SLGR" buffer into fbb.
void serialize_graph(const salus_graph &graph, flatbuffers::FlatBufferBuilder *fbb);

} // namespace salus::client
