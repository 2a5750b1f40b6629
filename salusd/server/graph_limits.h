// The graph size limits, checked on the request before a worker imports,
// validates and plans the graph: a huge graph is refused for the price of
// reading its vector lengths.
#pragma once

#include "graph_generated.h"
#include "server/resource_limits.h"

#include <string>

namespace salus::server {

// "" when the graph fits the limits, else why not (for SALUS_ETOOBIG).
std::string check_graph_size(const ir::Graph &graph, const Limits &limits);

} // namespace salus::server
