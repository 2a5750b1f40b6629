#include "server/graph_limits.h"

namespace salus::server {

namespace {

// The bytes an attribute's values take on the wire.
uint64_t attr_bytes(const ir::Attr &attr) {
    uint64_t bytes = sizeof(int64_t) + sizeof(double);
    if (attr.ints()) bytes += attr.ints()->size() * sizeof(int64_t);
    if (attr.floats()) bytes += attr.floats()->size() * sizeof(double);
    if (attr.s()) bytes += attr.s()->size();
    return bytes;
}

} // namespace

std::string check_graph_size(const ir::Graph &graph, const Limits &limits) {
    uint64_t tensors = graph.tensors() ? graph.tensors()->size() : 0;
    if (tensors > limits.graph_tensors) {
        return limit_message("the graph has " + std::to_string(tensors) + " tensors",
                             limits.graph_tensors, "graph-tensors");
    }
    uint64_t nodes = graph.nodes() ? graph.nodes()->size() : 0;
    if (nodes > limits.graph_nodes) {
        return limit_message("the graph has " + std::to_string(nodes) + " nodes",
                             limits.graph_nodes, "graph-nodes");
    }
    uint64_t bytes = 0;
    if (graph.nodes()) {
        for (const ir::Node *node : *graph.nodes()) {
            if (!node->attrs()) continue;
            for (const ir::Attr *attr : *node->attrs()) bytes += attr_bytes(*attr);
        }
    }
    if (bytes > limits.graph_attr_bytes) {
        return limit_message("the graph's attributes take " + std::to_string(bytes) + " bytes",
                             limits.graph_attr_bytes, "graph-attr-bytes");
    }
    return "";
}

} // namespace salus::server
