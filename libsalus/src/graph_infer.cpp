// Client-side shape inference: the daemon's op schema and shape rules
// (salus_schema), run over the part of a salus_graph a tensor depends on, so
// bindings and adaptors never re-implement a shape rule.
#include "graph_builder.h"

#include "error.h"
#include "graph/ops.h"

#include <string>
#include <vector>

using namespace salus::client;

namespace {

struct Inferred {
    bool done = false;
    salus::DType dtype = salus::DType::F32;
    salus::Shape shape;
};

salus::NodeDesc to_node_desc(const salus_graph::Node &n) {
    salus::NodeDesc d;
    d.name = n.name;
    d.op = n.op;
    d.inputs = n.inputs;
    d.outputs = n.outputs;
    for (const salus_graph::Attr &a : n.attrs) {
        salus::AttrValue v;
        v.type = static_cast<salus::AttrValue::Type>(a.type);
        v.i = a.i;
        v.f = a.f;
        v.ints = a.ints;
        v.floats = a.floats;
        v.s = a.s;
        d.attrs[a.name] = std::move(v);
    }
    return d;
}

std::string node_label(const salus_graph &g, size_t n) {
    const salus_graph::Node &node = g.nodes[n];
    std::string label = "node " + std::to_string(n);
    if (node.has_name) label += " \"" + node.name + "\"";
    return label + " (" + node.op + ")";
}

class Inference {
  public:
    explicit Inference(const salus_graph &g) : g_(g), tensors_(g.tensors.size()) {
        producer_.assign(g.tensors.size(), kNone);
        for (size_t n = 0; n < g.nodes.size(); ++n) {
            for (uint32_t t : g.nodes[n].outputs) {
                if (t < producer_.size()) producer_[t] = static_cast<uint32_t>(n);
            }
        }
    }

    // Iterative, so that a long chain of nodes cannot overflow the stack.
    int infer(uint32_t tensor) {
        std::vector<uint32_t> stack = {tensor};
        while (!stack.empty()) {
            const uint32_t t = stack.back();
            if (tensors_[t].done) {
                stack.pop_back();
                continue;
            }
            const salus_graph::Tensor &desc = g_.tensors[t];
            if (desc.has_shape || producer_[t] == kNone) {
                if (!desc.has_shape) {
                    return fail(SALUS_EGRAPH, "tensor " + std::to_string(t) +
                                                  " is not produced by any node");
                }
                tensors_[t] = {true, static_cast<salus::DType>(desc.dtype), desc.shape};
                stack.pop_back();
                continue;
            }
            const salus_graph::Node &node = g_.nodes[producer_[t]];
            bool ready = true;
            for (uint32_t in : node.inputs) {
                if (in >= tensors_.size()) {
                    return fail(SALUS_EGRAPH, node_label(g_, producer_[t]) + ": input tensor " +
                                                  std::to_string(in) + " does not exist");
                }
                if (tensors_[in].done) continue;
                if (stack.size() > g_.tensors.size()) {
                    return fail(SALUS_EGRAPH, node_label(g_, producer_[t]) + ": a cycle");
                }
                stack.push_back(in);
                ready = false;
            }
            if (!ready) continue;
            int rc = infer_node(producer_[t]);
            if (rc != SALUS_OK) return rc;
            stack.pop_back();
        }
        return SALUS_OK;
    }

    const Inferred &result(uint32_t t) const { return tensors_[t]; }

    // Node n, once every input it reads is inferred.
    int infer_node_of(uint32_t n) {
        for (uint32_t in : g_.nodes[n].inputs) {
            if (in >= tensors_.size()) {
                return fail(SALUS_EGRAPH, node_label(g_, n) + ": input tensor " +
                                              std::to_string(in) + " does not exist");
            }
            int rc = infer(in);
            if (rc != SALUS_OK) return rc;
        }
        return infer_node(n);
    }

  private:
    static constexpr uint32_t kNone = UINT32_MAX;

    int infer_node(uint32_t n) {
        const salus_graph::Node &node = g_.nodes[n];
        const salus::OpSchema *op = salus::find_op(node.op);
        if (!op) return fail(SALUS_EGRAPH, node_label(g_, n) + ": unknown op \"" + node.op + "\"");
        salus::NodeDesc desc = to_node_desc(node);
        std::vector<salus::InputInfo> inputs;
        for (uint32_t in : node.inputs) inputs.push_back({tensors_[in].dtype, &tensors_[in].shape});
        std::vector<salus::OutputInfo> outputs;
        salus::Status st = salus::infer_node(*op, &desc, inputs, &outputs);
        if (!st.ok()) return fail(SALUS_EGRAPH, node_label(g_, n) + ": " + st.message());
        if (outputs.size() != node.outputs.size()) {
            return fail(SALUS_EGRAPH, node_label(g_, n) + ": " + node.op + " produces " +
                                          std::to_string(outputs.size()) + " outputs, the node has " +
                                          std::to_string(node.outputs.size()));
        }
        for (size_t i = 0; i < outputs.size(); ++i) {
            tensors_[node.outputs[i]] = {true, outputs[i].dtype, std::move(outputs[i].shape)};
        }
        return SALUS_OK;
    }

    const salus_graph &g_;
    std::vector<Inferred> tensors_;
    std::vector<uint32_t> producer_;
};

} // namespace

extern "C" {

int salus_graph_tensor_shape(const salus_graph *graph, uint32_t tensor, salus_dtype *dtype,
                             int64_t *shape, size_t *rank) {
    if (!graph) return fail(SALUS_EINVAL, "salus_graph_tensor_shape: graph is NULL");
    if (!dtype || !shape || !rank) {
        return fail(SALUS_EINVAL, "salus_graph_tensor_shape: an output pointer is NULL");
    }
    if (tensor >= graph->tensors.size()) {
        return fail(SALUS_EINVAL, "salus_graph_tensor_shape: tensor " + std::to_string(tensor) +
                                      " does not exist (the graph has " +
                                      std::to_string(graph->tensors.size()) + " tensors)");
    }
    Inference inference(*graph);
    int rc = inference.infer(tensor);
    if (rc != SALUS_OK) return rc;
    const Inferred &r = inference.result(tensor);
    if (r.shape.size() > SALUS_MAX_RANK) {
        return fail(SALUS_EGRAPH, "tensor " + std::to_string(tensor) + " has rank " +
                                      std::to_string(r.shape.size()) + ", over SALUS_MAX_RANK");
    }
    for (size_t i = 0; i < r.shape.size(); ++i) shape[i] = r.shape[i];
    *rank = r.shape.size();
    *dtype = static_cast<salus_dtype>(r.dtype);
    return SALUS_OK;
}

int salus_graph_check_node(const salus_graph *graph, uint32_t node) {
    if (!graph) return fail(SALUS_EINVAL, "salus_graph_check_node: graph is NULL");
    if (node >= graph->nodes.size()) {
        return fail(SALUS_EINVAL, "salus_graph_check_node: node " + std::to_string(node) +
                                      " does not exist (the graph has " +
                                      std::to_string(graph->nodes.size()) + " nodes)");
    }
    return Inference(*graph).infer_node_of(node);
}

size_t salus_op_count(void) {
    return salus::all_ops().size();
}

const char *salus_op_name(size_t i) {
    const auto &ops = salus::all_ops();
    return i < ops.size() ? ops[i].name.c_str() : nullptr;
}

} // extern "C"
