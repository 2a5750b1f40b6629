// The graph builder: tensors, nodes and outputs. Only arguments are checked
// here; the daemon validates ops, shapes and dtypes.
#include "graph_builder.h"

#include "error.h"
#include "shape.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>

using namespace salus::client;
using salus::ir::TensorKind;

namespace {

constexpr size_t kMaxTensors = std::numeric_limits<uint32_t>::max();

// Room for `extra` more elements, growing geometrically: reserving only what
// is needed made every added node copy the whole vector (building 100,000
// nodes took 117 s). Reserving before any change keeps the graph as it was
// when memory runs out.
template <typename T>
void reserve_more(std::vector<T> *v, size_t extra) {
    const size_t need = v->size() + extra;
    if (need > v->capacity()) v->reserve(std::max(need, 2 * v->capacity()));
}

int add_tensor(salus_graph *graph, const char *fn, const char *name, int dtype,
               const int64_t *shape, size_t rank, TensorKind kind, const void *data, size_t nbytes,
               uint32_t *out_id) {
    std::string what = fn;
    if (!graph) return fail(SALUS_EINVAL, what + ": graph is NULL");
    if (!name) return fail(SALUS_EINVAL, what + ": name is NULL");
    what += std::string(" \"") + name + "\"";
    if (!out_id) return fail(SALUS_EINVAL, what + ": out_id is NULL");
    size_t expected = 0;
    int rc = shape_nbytes(dtype, shape, rank, what, &expected);
    if (rc != SALUS_OK) return rc;
    // A variable given no bytes starts at zero (its value written later).
    const bool zero_variable = kind == TensorKind::Variable && nbytes == 0;
    if (kind != TensorKind::Input && !zero_variable) {
        if (nbytes != expected) {
            return fail(SALUS_EINVAL, what + ": nbytes is " + std::to_string(nbytes) +
                                          " but the shape needs " + std::to_string(expected));
        }
        if (!data && nbytes > 0) return fail(SALUS_EINVAL, what + ": data is NULL");
    }
    if (graph->tensors.size() >= kMaxTensors)
        return fail(SALUS_ETOOBIG, what + ": too many tensors");

    salus_graph::Tensor t;
    t.name = name;
    t.has_name = true;
    t.kind = kind;
    t.dtype = static_cast<salus_dtype>(dtype);
    t.shape.assign(shape, shape + rank);
    t.has_shape = true;
    if (kind != TensorKind::Input && !zero_variable && nbytes > 0) {
        const auto *bytes = static_cast<const uint8_t *>(data);
        t.data.assign(bytes, bytes + nbytes);
    }
    graph->tensors.push_back(std::move(t));
    *out_id = static_cast<uint32_t>(graph->tensors.size() - 1);
    return SALUS_OK;
}

} // namespace

extern "C" {

int salus_graph_new(salus_graph **out) {
    return guard([&]() -> int {
        if (!out) return fail(SALUS_EINVAL, "salus_graph_new: out is NULL");
        *out = new salus_graph();
        return SALUS_OK;
    });
}

void salus_graph_free(salus_graph *graph) {
    delete graph;
}

int salus_graph_add_input(salus_graph *graph, const char *name, salus_dtype dtype,
                          const int64_t *shape, size_t rank, uint32_t *out_id) {
    return guard([&]() -> int {
        return add_tensor(graph, "salus_graph_add_input", name, raw_dtype(dtype), shape, rank,
                          TensorKind::Input, nullptr, 0, out_id);
    });
}

int salus_graph_add_variable(salus_graph *graph, const char *name, salus_dtype dtype,
                             const int64_t *shape, size_t rank, const void *data, size_t nbytes,
                             uint32_t *out_id) {
    return guard([&]() -> int {
        return add_tensor(graph, "salus_graph_add_variable", name, raw_dtype(dtype), shape, rank,
                          TensorKind::Variable, data, nbytes, out_id);
    });
}

int salus_graph_add_constant(salus_graph *graph, const char *name, salus_dtype dtype,
                             const int64_t *shape, size_t rank, const void *data, size_t nbytes,
                             uint32_t *out_id) {
    return guard([&]() -> int {
        return add_tensor(graph, "salus_graph_add_constant", name, raw_dtype(dtype), shape, rank,
                          TensorKind::Constant, data, nbytes, out_id);
    });
}

int salus_graph_add_node(salus_graph *graph, const char *op, const char *name,
                         const uint32_t *inputs, size_t n_inputs, size_t n_outputs,
                         uint32_t *out_ids, uint32_t *out_node) {
    return guard([&]() -> int {
        std::string what = "salus_graph_add_node";
        if (!graph) return fail(SALUS_EINVAL, what + ": graph is NULL");
        if (!op || !*op) return fail(SALUS_EINVAL, what + ": op name is NULL or empty");
        what += std::string(" ") + op;
        if (name) what += std::string(" \"") + name + "\"";
        if (n_inputs > 0 && !inputs) return fail(SALUS_EINVAL, what + ": inputs is NULL");
        if (n_outputs > 0 && !out_ids) return fail(SALUS_EINVAL, what + ": out_ids is NULL");
        for (size_t i = 0; i < n_inputs; ++i) {
            if (inputs[i] >= graph->tensors.size()) {
                return fail(SALUS_EINVAL, what + ": input " + std::to_string(i) +
                                              " is unknown tensor id " + std::to_string(inputs[i]));
            }
        }
        if (n_outputs > kMaxTensors - graph->tensors.size() ||
            graph->nodes.size() >= std::numeric_limits<uint32_t>::max()) {
            return fail(SALUS_ETOOBIG, what + ": too many tensors or nodes");
        }

        salus_graph::Node node;
        node.op = op;
        node.has_name = name != nullptr;
        if (name) node.name = name;
        node.inputs.assign(inputs, inputs + n_inputs);
        // Reserve first so that nothing below can throw after the graph grew.
        reserve_more(&graph->tensors, n_outputs);
        reserve_more(&graph->nodes, 1);
        for (size_t i = 0; i < n_outputs; ++i) {
            node.outputs.push_back(static_cast<uint32_t>(graph->tensors.size() + i));
        }
        graph->tensors.resize(graph->tensors.size() + n_outputs);
        graph->nodes.push_back(std::move(node));
        const auto &added = graph->nodes.back();
        if (n_outputs > 0) std::memcpy(out_ids, added.outputs.data(), n_outputs * sizeof(uint32_t));
        if (out_node) *out_node = static_cast<uint32_t>(graph->nodes.size() - 1);
        return SALUS_OK;
    });
}

int salus_graph_add_output(salus_graph *graph, uint32_t tensor) {
    return guard([&]() -> int {
        if (!graph) return fail(SALUS_EINVAL, "salus_graph_add_output: graph is NULL");
        if (tensor >= graph->tensors.size()) {
            return fail(SALUS_EINVAL,
                        "salus_graph_add_output: unknown tensor id " + std::to_string(tensor));
        }
        graph->outputs.push_back(tensor);
        return SALUS_OK;
    });
}

size_t salus_graph_tensor_count(const salus_graph *graph) {
    return graph ? graph->tensors.size() : 0;
}

size_t salus_graph_node_count(const salus_graph *graph) {
    return graph ? graph->nodes.size() : 0;
}

} // extern "C"
