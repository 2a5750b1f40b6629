#include "raw_graph.h"

namespace salus::test {

std::vector<uint8_t> graph_bytes(const RawGraph &g) {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<ir::Tensor>> tensors;
    for (const RawTensor &t : g.tensors) {
        auto shape = t.has_shape ? fbb.CreateVector(t.shape) : 0;
        auto data = t.data.empty() ? 0 : fbb.CreateVector(t.data);
        tensors.push_back(
            ir::CreateTensor(fbb, fbb.CreateString(t.name), t.kind, t.dtype, shape, data));
    }
    std::vector<flatbuffers::Offset<ir::Node>> nodes;
    for (const RawNode &n : g.nodes) {
        std::vector<flatbuffers::Offset<ir::Attr>> attrs;
        for (const RawAttr &a : n.attrs) {
            auto ints = a.ints.empty() ? 0 : fbb.CreateVector(a.ints);
            attrs.push_back(ir::CreateAttr(fbb, fbb.CreateString(a.name), a.type, a.i, a.f, ints));
        }
        nodes.push_back(ir::CreateNode(fbb, 0, fbb.CreateString(n.op), fbb.CreateVector(n.inputs),
                                       fbb.CreateVector(n.outputs), fbb.CreateVector(attrs)));
    }
    ir::FinishGraphBuffer(fbb,
                          ir::CreateGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(nodes),
                                          fbb.CreateVector(g.outputs)));
    return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

} // namespace salus::test
