#include "lanes/window.h"

namespace salus::lanes {
namespace {

bool better(const Window &a, const std::optional<Window> &b) {
    if (!b) return true;
    if (a.cost != b->cost) return a.cost < b->cost;
    const size_t a_len = a.last - a.first;
    const size_t b_len = b->last - b->first;
    if (a_len != b_len) return a_len < b_len;
    return a.first < b->first;
}

} // namespace

std::optional<Window> cheapest_window(const std::vector<Segment> &segments, uint64_t required) {
    // Costs are never negative, so for each last segment the best run is the
    // shortest one that still has enough spare bytes: two pointers.
    std::optional<Window> best;
    uint64_t spare = 0;
    uint64_t cost = 0;
    size_t first = 0;
    for (size_t last = 0; last < segments.size(); ++last) {
        spare += segments[last].spare;
        cost += segments[last].cost;
        while (first < last && spare - segments[first].spare >= required) {
            spare -= segments[first].spare;
            cost -= segments[first].cost;
            ++first;
        }
        if (spare >= required) {
            Window w{first, last, cost};
            if (better(w, best)) best = w;
        }
    }
    return best;
}

std::optional<Window> cheapest_window_containing(const std::vector<Segment> &segments, size_t index,
                                                 uint64_t required) {
    if (index >= segments.size()) return std::nullopt;
    // Grow to the right from `index` until the run has enough, then walk the
    // first segment leftwards; the last one can only retreat towards `index`.
    size_t last = index;
    uint64_t spare = segments[index].spare;
    uint64_t cost = segments[index].cost;
    while (spare < required && last + 1 < segments.size()) {
        ++last;
        spare += segments[last].spare;
        cost += segments[last].cost;
    }
    std::optional<Window> best;
    for (size_t first = index + 1; first-- > 0;) {
        if (first < index) {
            spare += segments[first].spare;
            cost += segments[first].cost;
        }
        while (last > index && spare - segments[last].spare >= required) {
            spare -= segments[last].spare;
            cost -= segments[last].cost;
            --last;
        }
        if (spare >= required) {
            Window w{first, last, cost};
            if (better(w, best)) best = w;
        }
    }
    return best;
}

} // namespace salus::lanes
