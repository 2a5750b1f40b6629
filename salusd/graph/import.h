// Decoding of the flatbuffer graph IR into the daemon's Graph.
#pragma once

#include "graph/graph.h"
#include "graph_generated.h"

namespace salus {

// Copies a verified ir::Graph into *out. Fails with SALUS_EGRAPH on content
// the verifier cannot judge (unknown enum values, attribute type mismatch,
// duplicate attribute names), naming the tensor or node.
Status import_graph(const ir::Graph &fb, Graph *out);

} // namespace salus
