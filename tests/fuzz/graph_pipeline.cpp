#include "graph_pipeline.h"

#include "frame.h"
#include "graph/import.h"
#include "graph/planner.h"
#include "graph/validate.h"

#include <cstring>
#include <memory>
#include <vector>

namespace salus::fuzz {

void run_graph_pipeline(const uint8_t *data, size_t size, bool verified) {
    // As the daemon does: a nested graph need not be 8-byte aligned.
    std::unique_ptr<uint64_t[]> aligned(new uint64_t[(size + 7) / 8]);
    if (size > 0) std::memcpy(aligned.get(), data, size);
    const auto *bytes = reinterpret_cast<const uint8_t *>(aligned.get());
    if (!verified) {
        if (size < 8) return;
        flatbuffers::Verifier verifier(bytes, size, frame::verifier_options());
        if (!verifier.VerifyBuffer<ir::Graph>(nullptr)) return;
    }
    Graph graph;
    if (!import_graph(*flatbuffers::GetRoot<ir::Graph>(bytes), &graph).ok()) return;
    std::vector<uint32_t> order;
    if (!validate_graph(&graph, &order).ok()) return;
    MemoryPlan plan = plan_memory(graph, order);
    (void)plan;
}

} // namespace salus::fuzz
