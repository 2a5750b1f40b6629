// The memory planner at scale: validate_graph() and plan_memory() on graphs
// of 10^4, 10^5 and 10^6 nodes, a chain (every buffer lives two steps) and a
// training step (a forward chain whose activations live until their backward
// step: nested lifetimes, the placements' hard case). Placement by size (the
// tight, quadratic one) runs where it finishes in seconds, against placement
// by step (O(n log n), what Auto picks beyond kGreedyPlacementMaxBuffers):
// seconds and the peak T of each.
//
//   bench-planner [--max-nodes N]      (default 1000000)
#include "graph/placement.h"
#include "graph/planner.h"
#include "graph/validate.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace salus;

uint32_t add_tensor(Graph *g, TensorKind kind, Shape shape) {
    TensorDesc t;
    t.kind = kind;
    t.shape = std::move(shape);
    t.has_shape = kind != TensorKind::Intermediate;
    g->tensors.push_back(std::move(t));
    return static_cast<uint32_t>(g->tensors.size() - 1);
}

uint32_t add_node(Graph *g, const char *op, std::vector<uint32_t> inputs) {
    const uint32_t out = add_tensor(g, TensorKind::Intermediate, {});
    NodeDesc n;
    n.name = "n" + std::to_string(g->nodes.size());
    n.op = op;
    n.inputs = std::move(inputs);
    n.outputs = {out};
    g->nodes.push_back(std::move(n));
    return out;
}

Graph chain(size_t nodes) {
    Graph g;
    uint32_t t = add_tensor(&g, TensorKind::Input, {1, 64});
    for (size_t i = 0; i < nodes; ++i) t = add_node(&g, "Relu", {t});
    g.outputs.push_back(t);
    return g;
}

// Relu forward over half the nodes, ReluGrad back over the other half.
Graph training(size_t nodes) {
    Graph g;
    std::vector<uint32_t> acts{add_tensor(&g, TensorKind::Input, {1, 64})};
    for (size_t i = 0; i < nodes / 2; ++i) acts.push_back(add_node(&g, "Relu", {acts.back()}));
    uint32_t grad = add_tensor(&g, TensorKind::Input, {1, 64});
    for (size_t i = nodes / 2; i-- > 0;) grad = add_node(&g, "ReluGrad", {grad, acts[i]});
    g.outputs.push_back(grad);
    return g;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run(const char *name, Graph g, bool by_size) {
    const size_t nodes = g.nodes.size();
    std::vector<uint32_t> order;
    auto t0 = std::chrono::steady_clock::now();
    const Status st = validate_graph(&g, &order);
    const double validate_s = seconds_since(t0);
    if (!st.ok()) {
        std::fprintf(stderr, "bench-planner: %s\n", st.message().c_str());
        std::exit(1);
    }
    t0 = std::chrono::steady_clock::now();
    const MemoryPlan step = plan_memory(g, order, {}, Placement::ByStep);
    const double step_s = seconds_since(t0);
    std::printf("%-9s %8zu nodes  validate %7.3f s  plan by step %7.3f s (T %8llu B)", name, nodes,
                validate_s, step_s, static_cast<unsigned long long>(step.ephemeral_bytes));
    if (by_size) {
        t0 = std::chrono::steady_clock::now();
        const MemoryPlan size = plan_memory(g, order, {}, Placement::BySize);
        std::printf("  by size %7.3f s (T %8llu B)", seconds_since(t0),
                    static_cast<unsigned long long>(size.ephemeral_bytes));
    }
    std::printf("\n");
}

} // namespace

int main(int argc, char **argv) {
    size_t max_nodes = 1000000;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--max-nodes") == 0 && i + 1 < argc) {
            max_nodes = std::strtoull(argv[++i], nullptr, 10);
        } else {
            std::fprintf(stderr, "usage: %s [--max-nodes N]\n", argv[0]);
            return 2;
        }
    }
    std::printf("auto placement: by size up to %zu buffers, by step beyond\n",
                kGreedyPlacementMaxBuffers);
    for (size_t n = 10000; n <= max_nodes; n *= 10) {
        // By size is quadratic: 10^5 nodes already take minutes.
        run("chain", chain(n), n <= 10000);
        run("training", training(n), n <= 10000);
    }
    return 0;
}
