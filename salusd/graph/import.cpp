#include "graph/import.h"

#include <cstring>
#include <string>

namespace salus {
namespace {

Status tensor_error(size_t index, const std::string &msg) {
    return Status(SALUS_EGRAPH, "tensor " + std::to_string(index) + ": " + msg);
}

Status node_error(size_t index, const std::string &msg) {
    return Status(SALUS_EGRAPH, "node " + std::to_string(index) + ": " + msg);
}

std::string str(const flatbuffers::String *s) {
    return s ? s->str() : std::string();
}

// The verifier checks a vector's bounds but not its elements' alignment, so a
// crafted buffer may place 8-byte scalars at any address: copy bytes instead of
// loading them (the wire is little-endian, as is every host we build for).
template <typename T>
std::vector<T> vec(const flatbuffers::Vector<T> *v) {
    std::vector<T> out;
    if (v) {
        out.resize(v->size());
        if (!out.empty()) std::memcpy(out.data(), v->Data(), out.size() * sizeof(T));
    }
    return out;
}

Status import_attr(size_t node, const ir::Attr &fb, AttrValue *out) {
    switch (fb.type()) {
    case ir::AttrType::Int:
        out->type = AttrValue::Type::Int;
        break;
    case ir::AttrType::Float:
        out->type = AttrValue::Type::Float;
        break;
    case ir::AttrType::Ints:
        out->type = AttrValue::Type::Ints;
        break;
    case ir::AttrType::Floats:
        out->type = AttrValue::Type::Floats;
        break;
    case ir::AttrType::String:
        out->type = AttrValue::Type::String;
        break;
    default:
        return node_error(node, "attribute \"" + fb.name()->str() + "\" has unknown type " +
                                    std::to_string(static_cast<int>(fb.type())));
    }
    out->i = fb.i();
    out->f = fb.f();
    out->ints = vec(fb.ints());
    out->floats = vec(fb.floats());
    out->s = str(fb.s());
    return {};
}

} // namespace

Status import_graph(const ir::Graph &fb, Graph *out) {
    Graph g;
    if (const auto *tensors = fb.tensors()) {
        g.tensors.reserve(tensors->size());
        for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i) {
            const ir::Tensor *t = tensors->Get(i);
            TensorDesc d;
            d.name = str(t->name());
            auto kind = static_cast<int>(t->kind());
            if (kind < 0 || kind > static_cast<int>(TensorKind::Intermediate)) {
                return tensor_error(i, "unknown kind " + std::to_string(kind));
            }
            d.kind = static_cast<TensorKind>(kind);
            auto dtype = static_cast<int>(t->dtype());
            if (dtype < 0 || dtype > static_cast<int>(kLastDType)) {
                return tensor_error(i, "unknown dtype " + std::to_string(dtype));
            }
            d.dtype = static_cast<DType>(dtype);
            d.has_shape = t->shape() != nullptr;
            d.shape = vec(t->shape());
            d.init = vec(t->data());
            g.tensors.push_back(std::move(d));
        }
    }
    if (const auto *nodes = fb.nodes()) {
        g.nodes.reserve(nodes->size());
        for (flatbuffers::uoffset_t i = 0; i < nodes->size(); ++i) {
            const ir::Node *n = nodes->Get(i);
            NodeDesc d;
            d.name = str(n->name());
            d.op = n->op()->str();
            d.inputs = vec(n->inputs());
            d.outputs = vec(n->outputs());
            if (const auto *attrs = n->attrs()) {
                for (const ir::Attr *a : *attrs) {
                    AttrValue value;
                    SALUS_RETURN_IF_ERROR(import_attr(i, *a, &value));
                    if (!d.attrs.emplace(a->name()->str(), std::move(value)).second) {
                        return node_error(i, "attribute \"" + a->name()->str() + "\" given twice");
                    }
                }
            }
            g.nodes.push_back(std::move(d));
        }
    }
    g.outputs = vec(fb.outputs());
    *out = std::move(g);
    return {};
}

} // namespace salus
