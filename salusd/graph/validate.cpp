// Graph validation: structural checks, a deterministic topological order and
// shape inference. Nothing is written to the graph until every check passed.
#include "graph/validate.h"

#include "graph/ops.h"
#include "graph/shape_util.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <string>

namespace salus {
namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

Status fail(std::string message) {
    return Status(SALUS_EGRAPH, std::move(message));
}

// "an input", "a variable": for messages about what a tensor is.
std::string a_kind(TensorKind kind) {
    const bool vowel = kind == TensorKind::Input || kind == TensorKind::Intermediate;
    return std::string(vowel ? "an " : "a ") + tensor_kind_name(kind);
}

// "1 input", "2 inputs"
std::string count_str(int n, const char *noun) {
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// "2 inputs", "2 to 3 inputs", "at least 1 input"
std::string range_str(int min, int max, const char *noun) {
    if (max >= kMaxVariadic) return "at least " + count_str(min, noun);
    if (max == min) return count_str(min, noun);
    return std::to_string(min) + " to " + count_str(max, noun);
}

std::string tensor_label(const Graph &g, uint32_t id) {
    std::string label = "tensor " + std::to_string(id);
    if (id < g.tensors.size() && !g.tensors[id].name.empty()) {
        label += " \"" + g.tensors[id].name + "\"";
    }
    return label;
}

// Per tensor: the shape and dtype after inference.
struct Inferred {
    std::vector<Shape> shapes;
    std::vector<DType> dtypes;
};

// The far end of a dependency edge, kept in both endpoints' lists; `update`
// marks the edges that hold an in-place update back until the other readers
// of its variable have run.
struct Edge {
    uint32_t node;
    bool update;
};

class Validator {
  public:
    Validator(const Graph &g, const ValidationLimits &limits) : g_(g), limits_(limits) {}

    // Per node, its attributes with every default filled in (after run()).
    std::vector<NodeDesc> &canonical() { return canonical_; }

    Status run(std::vector<uint32_t> *order, Inferred *inferred) {
        SALUS_RETURN_IF_ERROR(check_limits());
        for (uint32_t t = 0; t < g_.tensors.size(); ++t) SALUS_RETURN_IF_ERROR(check_tensor(t));
        producer_.assign(g_.tensors.size(), kNone);
        canonical_.resize(g_.nodes.size());
        updater_.assign(g_.tensors.size(), kNone);
        for (uint32_t n = 0; n < g_.nodes.size(); ++n) SALUS_RETURN_IF_ERROR(check_node(n));
        SALUS_RETURN_IF_ERROR(check_produced());
        SALUS_RETURN_IF_ERROR(check_graph_outputs());
        SALUS_RETURN_IF_ERROR(sort(order));
        return infer_shapes(*order, inferred);
    }

  private:
    Status check_limits() const {
        if (g_.tensors.size() > limits_.max_tensors) {
            return fail("graph has " + std::to_string(g_.tensors.size()) +
                        " tensors, over the limit of " + std::to_string(limits_.max_tensors));
        }
        if (g_.nodes.size() > limits_.max_nodes) {
            return fail("graph has " + std::to_string(g_.nodes.size()) +
                        " nodes, over the limit of " + std::to_string(limits_.max_nodes));
        }
        return {};
    }

    // Rank, dimensions and byte size of a declared or inferred shape of
    // elements of `dtype`; `what` says which ("shape", "inferred shape"),
    // `suffix` where it came from.
    Status check_shape(uint32_t t, const Shape &shape, DType dtype, const char *what,
                       const std::string &suffix) const {
        const std::string prefix = tensor_label(g_, t) + ": ";
        if (shape.size() > SALUS_MAX_RANK) {
            return fail(prefix + what + " " + shape_str(shape) + " has rank " +
                        std::to_string(shape.size()) + ", over the maximum of " +
                        std::to_string(SALUS_MAX_RANK) + suffix);
        }
        for (int64_t d : shape) {
            if (d <= 0) {
                return fail(prefix + what + " " + shape_str(shape) +
                            " has a non-positive dimension" + suffix);
            }
        }
        int64_t elements = 0;
        uint64_t bytes = 0;
        if (!checked_num_elements(shape, &elements) ||
            !checked_bytes(elements, dtype_size(dtype), &bytes)) {
            return fail(prefix + "byte size of " + what + " " + shape_str(shape) + " overflows" +
                        suffix);
        }
        if (bytes > limits_.max_tensor_bytes) {
            return fail(prefix + what + " " + shape_str(shape) + " takes " + std::to_string(bytes) +
                        " bytes, over the limit of " + std::to_string(limits_.max_tensor_bytes) +
                        suffix);
        }
        return {};
    }

    Status check_tensor(uint32_t t) const {
        const TensorDesc &desc = g_.tensors[t];
        const std::string prefix = tensor_label(g_, t) + ": ";
        if (desc.kind > TensorKind::Intermediate) {
            return fail(prefix + "unknown kind " + std::to_string(static_cast<int>(desc.kind)));
        }
        // Which dtypes an op takes is the op table's business (see check_inputs
        // in shape_inference.cpp); here only the value must be one we know.
        if ((kAllDTypes & dtype_bit(desc.dtype)) == 0) {
            return fail(prefix + "unknown dtype " + std::to_string(static_cast<int>(desc.dtype)));
        }
        if (!desc.has_shape) {
            if (desc.kind == TensorKind::Intermediate) return {};
            return fail(prefix + tensor_kind_name(desc.kind) + " has no shape");
        }
        SALUS_RETURN_IF_ERROR(check_shape(t, desc.shape, desc.dtype, "shape", ""));
        // A variable without initial data starts at zero.
        const bool zero_variable = desc.kind == TensorKind::Variable && desc.init.empty();
        if (desc.persistent() && !zero_variable && desc.init.size() != desc.nbytes()) {
            return fail(prefix + tensor_kind_name(desc.kind) + " has " +
                        std::to_string(desc.init.size()) + " bytes of initial data but shape " +
                        shape_str(desc.shape) + " takes " + std::to_string(desc.nbytes()));
        }
        return {};
    }

    Status check_node(uint32_t n) {
        const NodeDesc &node = g_.nodes[n];
        const std::string prefix = node_label(g_.nodes, n) + ": ";
        const OpSchema *op = find_op(node.op);
        if (!op) return fail(prefix + "unknown op \"" + node.op + "\"");
        schemas_.push_back(op);

        const size_t n_in = node.inputs.size();
        if (n_in < static_cast<size_t>(op->min_inputs) ||
            n_in > static_cast<size_t>(op->max_inputs)) {
            return fail(prefix + "takes " + range_str(op->min_inputs, op->max_inputs, "input") +
                        ", got " + std::to_string(n_in));
        }
        for (size_t i = 0; i < n_in; ++i) {
            SALUS_RETURN_IF_ERROR(check_tensor_id(prefix + "input ", i, node.inputs[i]));
        }
        for (size_t i = 0; i < node.outputs.size(); ++i) {
            const uint32_t t = node.outputs[i];
            const std::string which = prefix + "output " + std::to_string(i);
            SALUS_RETURN_IF_ERROR(check_tensor_id(prefix + "output ", i, t));
            const TensorDesc &desc = g_.tensors[t];
            if (desc.kind != TensorKind::Intermediate) {
                return fail(which + " is " + tensor_label(g_, t) + ", " + a_kind(desc.kind) +
                            "; nodes only produce intermediates");
            }
            for (size_t j = 0; j < i; ++j) {
                if (node.outputs[j] == t) return fail(which + " repeats " + tensor_label(g_, t));
            }
            if (producer_[t] != kNone) {
                return fail(which + ", " + tensor_label(g_, t) + ", is already produced by " +
                            node_label(g_.nodes, producer_[t]));
            }
            producer_[t] = n;
        }
        // After the per-output checks, so that a repeated output is reported
        // as such rather than as a count.
        const size_t n_out = node.outputs.size();
        if (n_out < static_cast<size_t>(op->min_outputs) ||
            n_out > static_cast<size_t>(op->max_outputs)) {
            return fail(prefix + "produces " +
                        range_str(op->min_outputs, op->max_outputs, "output") + ", got " +
                        std::to_string(n_out));
        }
        canonical_[n] = node;
        Status st = canonicalize_attrs(*op, &canonical_[n]);
        if (!st.ok()) return fail(prefix + st.message());
        for (size_t k = 0; k < op->updates_inputs.size(); ++k) {
            SALUS_RETURN_IF_ERROR(check_update(n, *op, k, prefix));
        }
        return {};
    }

    // The k-th input that node n's op updates in place: a variable that no
    // other node, and no other input of this node, updates.
    Status check_update(uint32_t n, const OpSchema &op, size_t k, const std::string &prefix) {
        const NodeDesc &node = g_.nodes[n];
        const int index = op.updates_inputs[k];
        const uint32_t t = node.inputs[static_cast<size_t>(index)];
        if (g_.tensors[t].kind != TensorKind::Variable) {
            return fail(prefix + "input " + std::to_string(index) + ", " + tensor_label(g_, t) +
                        ", is " + a_kind(g_.tensors[t].kind) + "; " + node.op +
                        " can only update a variable");
        }
        if (updater_[t] == n) {
            for (size_t j = 0; j < k; ++j) {
                const int other = op.updates_inputs[j];
                if (node.inputs[static_cast<size_t>(other)] != t) continue;
                return fail(prefix + "inputs " + std::to_string(other) + " and " +
                            std::to_string(index) + " are the same variable " +
                            tensor_label(g_, t) + "; " + node.op +
                            " updates each of them in place");
            }
        }
        if (updater_[t] != kNone) {
            return fail(prefix + "variable " + tensor_label(g_, t) + " is already updated by " +
                        node_label(g_.nodes, updater_[t]));
        }
        updater_[t] = n;
        any_update_ = true;
        return {};
    }

    Status check_tensor_id(const std::string &prefix, size_t index, uint32_t t) const {
        if (t < g_.tensors.size()) return {};
        return fail(prefix + std::to_string(index) + " refers to tensor " + std::to_string(t) +
                    ", which does not exist (the graph has " + std::to_string(g_.tensors.size()) +
                    " tensors)");
    }

    Status check_produced() const {
        for (uint32_t t = 0; t < g_.tensors.size(); ++t) {
            if (g_.tensors[t].kind == TensorKind::Intermediate && producer_[t] == kNone) {
                return fail(tensor_label(g_, t) + ": intermediate is not produced by any node");
            }
        }
        return {};
    }

    Status check_graph_outputs() const {
        std::vector<bool> seen(g_.tensors.size(), false);
        for (size_t i = 0; i < g_.outputs.size(); ++i) {
            const uint32_t t = g_.outputs[i];
            const std::string prefix = "graph output " + std::to_string(i);
            if (t >= g_.tensors.size()) {
                return fail(prefix + " refers to tensor " + std::to_string(t) +
                            ", which does not exist (the graph has " +
                            std::to_string(g_.tensors.size()) + " tensors)");
            }
            if (seen[t]) return fail(prefix + " repeats " + tensor_label(g_, t));
            seen[t] = true;
        }
        // Without outputs or updates nothing the graph computes is observable.
        if (g_.outputs.empty() && !any_update_) {
            return fail("graph has no outputs (and no node updates a variable)");
        }
        return {};
    }

    // Kahn's algorithm, always taking the lowest ready node index.
    Status sort(std::vector<uint32_t> *order) const {
        const size_t n = g_.nodes.size();
        std::vector<std::vector<Edge>> succs(n);
        std::vector<std::vector<Edge>> preds(n);
        auto add_edge = [&](uint32_t from, uint32_t to, bool update) {
            succs[from].push_back({to, update});
            preds[to].push_back({from, update});
        };
        for (uint32_t j = 0; j < n; ++j) {
            for (uint32_t t : g_.nodes[j].inputs) {
                if (producer_[t] != kNone) add_edge(producer_[t], j, false);
                if (updater_[t] != kNone && updater_[t] != j) add_edge(j, updater_[t], true);
            }
        }
        std::vector<size_t> indegree(n);
        std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<>> ready;
        for (uint32_t j = 0; j < n; ++j) {
            indegree[j] = preds[j].size();
            if (indegree[j] == 0) ready.push(j);
        }
        order->clear();
        while (!ready.empty()) {
            const uint32_t j = ready.top();
            ready.pop();
            order->push_back(j);
            for (const Edge &e : succs[j]) {
                if (--indegree[e.node] == 0) ready.push(e.node);
            }
        }
        if (order->size() == n) return {};
        return cycle_error(preds, indegree);
    }

    // Every unsorted node waits on another unsorted one, so walking back from
    // any of them must come round to a node it already passed: a cycle.
    Status cycle_error(const std::vector<std::vector<Edge>> &preds,
                       const std::vector<size_t> &indegree) const {
        const size_t n = g_.nodes.size();
        std::vector<size_t> visited_at(n, SIZE_MAX);
        std::vector<uint32_t> path;
        std::vector<bool> path_update; // path_update[k]: edge path[k+1] -> path[k]
        uint32_t cur = 0;
        while (indegree[cur] == 0) ++cur;
        while (visited_at[cur] == SIZE_MAX) {
            visited_at[cur] = path.size();
            path.push_back(cur);
            for (const Edge &e : preds[cur]) {
                if (indegree[e.node] != 0) {
                    path_update.push_back(e.update);
                    cur = e.node;
                    break;
                }
            }
        }
        uint32_t lowest = cur;
        bool via_update = false;
        for (size_t k = visited_at[cur]; k < path.size(); ++k) {
            lowest = std::min(lowest, path[k]);
            via_update = via_update || path_update[k];
        }
        std::string message = node_label(g_.nodes, lowest) + ": the graph has a cycle through it";
        if (via_update) message += " (counting in-place updates as running after other readers)";
        return fail(message);
    }

    Status infer_shapes(const std::vector<uint32_t> &order, Inferred *inferred) const {
        std::vector<Shape> *shapes = &inferred->shapes;
        std::vector<DType> *dtypes = &inferred->dtypes;
        shapes->assign(g_.tensors.size(), Shape());
        dtypes->assign(g_.tensors.size(), DType::F32);
        for (uint32_t t = 0; t < g_.tensors.size(); ++t) {
            (*dtypes)[t] = g_.tensors[t].dtype;
            if (g_.tensors[t].kind != TensorKind::Intermediate) (*shapes)[t] = g_.tensors[t].shape;
        }
        std::vector<InputInfo> inputs;
        std::vector<OutputInfo> outputs;
        for (uint32_t n : order) {
            const NodeDesc &node = canonical_[n];
            inputs.clear();
            for (uint32_t t : node.inputs) inputs.push_back({(*dtypes)[t], &(*shapes)[t]});
            outputs.clear();
            Status st = check_node_inputs(*schemas_[n], inputs);
            if (st.ok()) st = schemas_[n]->infer(node, inputs, &outputs);
            if (!st.ok()) return Status(st.code(), node_label(g_.nodes, n) + ": " + st.message());
            if (outputs.size() != node.outputs.size()) {
                return Status(SALUS_EINTERNAL, node_label(g_.nodes, n) + ": inference gave " +
                                                   std::to_string(outputs.size()) + " outputs");
            }
            for (size_t i = 0; i < outputs.size(); ++i) {
                SALUS_RETURN_IF_ERROR(check_inferred(n, i, outputs[i]));
                (*dtypes)[node.outputs[i]] = outputs[i].dtype;
                (*shapes)[node.outputs[i]] = std::move(outputs[i].shape);
            }
        }
        return {};
    }

    Status check_inferred(uint32_t n, size_t i, const OutputInfo &out) const {
        const uint32_t t = g_.nodes[n].outputs[i];
        const TensorDesc &desc = g_.tensors[t];
        const std::string where =
            " (output " + std::to_string(i) + " of " + node_label(g_.nodes, n) + ")";
        // An intermediate declared without a shape is left to inference
        // entirely, its dtype included; a declared one must match.
        if (desc.has_shape && out.dtype != desc.dtype) {
            return fail(tensor_label(g_, t) + ": declared dtype " + dtype_name(desc.dtype) +
                        " but inferred " + dtype_name(out.dtype) + where);
        }
        SALUS_RETURN_IF_ERROR(check_shape(t, out.shape, out.dtype, "inferred shape", where));
        if (desc.has_shape && desc.shape != out.shape) {
            return fail(tensor_label(g_, t) + ": declared " + shape_str(desc.shape) +
                        " but inferred " + shape_str(out.shape) + where);
        }
        return {};
    }

    const Graph &g_;
    const ValidationLimits &limits_;
    std::vector<const OpSchema *> schemas_; // per node, filled by check_node
    std::vector<NodeDesc> canonical_;       // per node: attributes with defaults filled in
    std::vector<uint32_t> producer_;        // per tensor: the node writing it
    std::vector<uint32_t> updater_;         // per tensor: the node updating it in place
    bool any_update_ = false;
};

} // namespace

Status validate_graph(Graph *graph, std::vector<uint32_t> *order, const ValidationLimits &limits) {
    std::vector<uint32_t> sorted;
    Inferred inferred;
    Validator validator(*graph, limits);
    SALUS_RETURN_IF_ERROR(validator.run(&sorted, &inferred));
    for (size_t n = 0; n < graph->nodes.size(); ++n) {
        graph->nodes[n].attrs = std::move(validator.canonical()[n].attrs);
    }
    for (size_t t = 0; t < graph->tensors.size(); ++t) {
        TensorDesc &desc = graph->tensors[t];
        if (desc.kind != TensorKind::Intermediate) continue;
        desc.shape = std::move(inferred.shapes[t]);
        desc.dtype = inferred.dtypes[t];
        desc.has_shape = true;
    }
    if (order) *order = std::move(sorted);
    return {};
}

} // namespace salus
