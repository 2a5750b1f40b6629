// Shape arithmetic shared by shape inference and validation. Every function
// guards against overflow because shapes and attributes come from clients.
#pragma once

#include "graph/graph.h"

#include <cstdint>

namespace salus {

// numpy broadcast of a and b (aligned on the last dimension); false when a
// pair of dimensions differs and neither is 1.
bool broadcast_shapes(const Shape &a, const Shape &b, Shape *out);

// True when `from` broadcasts to exactly `to` (what Expand requires).
bool broadcasts_to(const Shape &from, const Shape &to);

// Maps a possibly negative axis into [0, rank); -1 when out of range.
int64_t normalize_axis(int64_t axis, size_t rank);

// Element count of a shape with positive dimensions; false on int64 overflow.
bool checked_num_elements(const Shape &shape, int64_t *out);

// Byte size of `elements` items of `item_size` bytes; false on overflow.
bool checked_bytes(int64_t elements, size_t item_size, uint64_t *out);

// "[1, 2]" for attribute lists, like shape_str().
inline std::string ints_str(const std::vector<int64_t> &v) {
    return shape_str(v);
}

} // namespace salus
