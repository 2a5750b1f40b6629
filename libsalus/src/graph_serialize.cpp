// Serialisation of a salus_graph to the salus.ir.Graph flatbuffer ("SLGR").
#include "graph_builder.h"

namespace salus::client {

namespace {

// Generous per-object overhead: vtables, offsets, alignment padding.
constexpr size_t kObjectBound = 64;

size_t string_bound(const std::string &s) {
    return s.size() + 1 + kObjectBound;
}

} // namespace

size_t graph_size_bound(const salus_graph &graph) {
    size_t n = kObjectBound;
    for (const auto &t : graph.tensors) {
        n += string_bound(t.name) + 8 * t.shape.size() + t.data.size() + 3 * kObjectBound;
    }
    for (const auto &node : graph.nodes) {
        n += string_bound(node.name) + string_bound(node.op) +
             4 * (node.inputs.size() + node.outputs.size()) + 3 * kObjectBound;
        for (const auto &a : node.attrs) {
            n += string_bound(a.name) + string_bound(a.s) + 8 * a.ints.size() +
                 8 * a.floats.size() + 3 * kObjectBound;
        }
    }
    return n + 4 * graph.outputs.size();
}

void serialize_graph(const salus_graph &graph, flatbuffers::FlatBufferBuilder *fbb) {
    using flatbuffers::Offset;
    std::vector<Offset<ir::Tensor>> tensors;
    tensors.reserve(graph.tensors.size());
    for (const auto &t : graph.tensors) {
        auto name = t.has_name ? fbb->CreateString(t.name) : 0;
        auto shape = t.has_shape ? fbb->CreateVector(t.shape) : 0;
        Offset<flatbuffers::Vector<uint8_t>> data = 0;
        if (!t.data.empty()) data = fbb->CreateVector(t.data);
        tensors.push_back(
            ir::CreateTensor(*fbb, name, t.kind, static_cast<ir::DType>(t.dtype), shape, data));
    }

    std::vector<Offset<ir::Node>> nodes;
    nodes.reserve(graph.nodes.size());
    for (const auto &node : graph.nodes) {
        std::vector<Offset<ir::Attr>> attrs;
        attrs.reserve(node.attrs.size());
        for (const auto &a : node.attrs) {
            auto aname = fbb->CreateString(a.name);
            Offset<flatbuffers::Vector<int64_t>> ints = 0;
            Offset<flatbuffers::Vector<double>> floats = 0;
            Offset<flatbuffers::String> s = 0;
            if (a.type == ir::AttrType::Ints) ints = fbb->CreateVector(a.ints);
            if (a.type == ir::AttrType::Floats) floats = fbb->CreateVector(a.floats);
            if (a.type == ir::AttrType::String) s = fbb->CreateString(a.s);
            attrs.push_back(ir::CreateAttr(*fbb, aname, a.type, a.i, a.f, ints, floats, s));
        }
        auto name = node.has_name ? fbb->CreateString(node.name) : 0;
        auto op = fbb->CreateString(node.op);
        auto inputs = fbb->CreateVector(node.inputs);
        auto outputs = fbb->CreateVector(node.outputs);
        auto attr_vec = fbb->CreateVector(attrs);
        nodes.push_back(ir::CreateNode(*fbb, name, op, inputs, outputs, attr_vec));
    }

    auto tensor_vec = fbb->CreateVector(tensors);
    auto node_vec = fbb->CreateVector(nodes);
    auto output_vec = fbb->CreateVector(graph.outputs);
    ir::FinishGraphBuffer(*fbb, ir::CreateGraph(*fbb, tensor_vec, node_vec, output_vec));
}

} // namespace salus::client
