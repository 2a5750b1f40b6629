// Concise construction and comparison of Graphs for the graph unit tests.
#pragma once

#include "graph/graph.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace salus::test {

inline AttrValue int_attr(int64_t v) {
    AttrValue a;
    a.type = AttrValue::Type::Int;
    a.i = v;
    return a;
}

inline AttrValue float_attr(double v) {
    AttrValue a;
    a.type = AttrValue::Type::Float;
    a.f = v;
    return a;
}

inline AttrValue ints_attr(std::vector<int64_t> v) {
    AttrValue a;
    a.type = AttrValue::Type::Ints;
    a.ints = std::move(v);
    return a;
}

class GraphBuilder {
  public:
    // Any tensor, exactly as described (no checks: tests build invalid ones).
    uint32_t tensor(std::string name, TensorKind kind, Shape shape, bool has_shape = true,
                    DType dtype = DType::F32) {
        TensorDesc t;
        t.name = std::move(name);
        t.kind = kind;
        t.dtype = dtype;
        t.shape = std::move(shape);
        t.has_shape = has_shape;
        if (t.persistent() && has_shape) t.init.assign(t.nbytes(), 0);
        g_.tensors.push_back(std::move(t));
        return static_cast<uint32_t>(g_.tensors.size() - 1);
    }
    uint32_t input(std::string name, Shape shape) {
        return tensor(std::move(name), TensorKind::Input, std::move(shape));
    }
    // Zero-initialised, with exactly the bytes its shape needs.
    uint32_t variable(std::string name, Shape shape) {
        return tensor(std::move(name), TensorKind::Variable, std::move(shape));
    }
    uint32_t constant(std::string name, Shape shape) {
        return tensor(std::move(name), TensorKind::Constant, std::move(shape));
    }
    // An intermediate whose shape is left to inference.
    uint32_t intermediate(std::string name = "") {
        return tensor(std::move(name), TensorKind::Intermediate, {}, false);
    }

    // A node with explicit output ids; returns the node index.
    uint32_t node(std::string op, std::vector<uint32_t> inputs, std::vector<uint32_t> outputs,
                  Attrs attrs = {}, std::string name = "") {
        NodeDesc n;
        n.name = std::move(name);
        n.op = std::move(op);
        n.inputs = std::move(inputs);
        n.outputs = std::move(outputs);
        n.attrs = std::move(attrs);
        g_.nodes.push_back(std::move(n));
        return static_cast<uint32_t>(g_.nodes.size() - 1);
    }

    // A one-output node writing a new intermediate named after the node;
    // returns that tensor's id.
    uint32_t op(std::string op_name, std::vector<uint32_t> inputs, Attrs attrs = {},
                std::string name = "") {
        const uint32_t out = intermediate(name);
        node(std::move(op_name), std::move(inputs), {out}, std::move(attrs), std::move(name));
        return out;
    }

    // A node without outputs (SGDUpdate); returns the node index.
    uint32_t sink(std::string op_name, std::vector<uint32_t> inputs, Attrs attrs = {},
                  std::string name = "") {
        return node(std::move(op_name), std::move(inputs), {}, std::move(attrs), std::move(name));
    }

    GraphBuilder &output(uint32_t t) {
        g_.outputs.push_back(t);
        return *this;
    }

    Graph &graph() { return g_; }
    const Graph &graph() const { return g_; }

  private:
    Graph g_;
};

inline bool same_attrs(const Attrs &a, const Attrs &b) {
    if (a.size() != b.size()) return false;
    for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
        const AttrValue &u = x->second;
        const AttrValue &v = y->second;
        if (x->first != y->first || u.type != v.type || u.i != v.i || u.f != v.f ||
            u.ints != v.ints || u.floats != v.floats || u.s != v.s) {
            return false;
        }
    }
    return true;
}

inline bool same_graph(const Graph &a, const Graph &b) {
    if (a.outputs != b.outputs || a.tensors.size() != b.tensors.size() ||
        a.nodes.size() != b.nodes.size()) {
        return false;
    }
    for (size_t i = 0; i < a.tensors.size(); ++i) {
        const TensorDesc &x = a.tensors[i];
        const TensorDesc &y = b.tensors[i];
        if (x.name != y.name || x.kind != y.kind || x.dtype != y.dtype || x.shape != y.shape ||
            x.has_shape != y.has_shape || x.init != y.init) {
            return false;
        }
    }
    for (size_t i = 0; i < a.nodes.size(); ++i) {
        const NodeDesc &x = a.nodes[i];
        const NodeDesc &y = b.nodes[i];
        if (x.name != y.name || x.op != y.op || x.inputs != y.inputs || x.outputs != y.outputs ||
            !same_attrs(x.attrs, y.attrs)) {
            return false;
        }
    }
    return true;
}

} // namespace salus::test
