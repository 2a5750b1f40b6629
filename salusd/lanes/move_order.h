// Ordering the copies of a relocation so that executing them one after
// another never overwrites bytes that a later copy still has to read.
//
// The lanes module only produces order-preserving relocations: the blocks keep
// their relative address order, and neither the sources nor the destinations
// overlap one another. Then a block moving down can only land on the sources
// of blocks below it, and a block moving up only on the sources of blocks
// above it; no chain of dependencies turns back. So: every downward move in
// ascending source order, then every upward move in descending source order.
// Each single move may overlap itself (memmove semantics).
#pragma once

#include "lanes/lane_types.h"

#include <string>
#include <vector>

namespace salus::lanes {

// Returns the moves in a safe execution order, dropping those with src == dst.
// Requires an order-preserving relocation (see above).
std::vector<Move> order_moves(std::vector<Move> relocation);

// "" when `relocation` is order-preserving with disjoint sources and disjoint
// destinations; otherwise why not.
std::string check_order_preserving(std::vector<Move> relocation);

} // namespace salus::lanes
