// Choosing which part of the pool to re-lay out: the cheapest run of
// consecutive segments (lanes and free ranges, in address order) that holds
// enough spare bytes. Only lanes inside the run move or pause; the rest of the
// pool is left alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace salus::lanes {

struct Segment {
    uint64_t spare = 0; // bytes the run gains when this segment is packed:
                        // a free range's size, a lane's capacity - need
    uint64_t cost = 0;  // live bytes that might have to move: a lane's sum(P)
};

struct Window {
    size_t first = 0; // inclusive indexes into the segments
    size_t last = 0;
    uint64_t cost = 0;
};

// The run with at least `required` spare bytes and the least cost (fewest
// segments among equals; lowest first index among those), or nothing. O(n).
std::optional<Window> cheapest_window(const std::vector<Segment> &segments, uint64_t required);

// The same among runs that contain segments[index]. O(n).
std::optional<Window> cheapest_window_containing(const std::vector<Segment> &segments, size_t index,
                                                 uint64_t required);

} // namespace salus::lanes
