#include "graph/placement.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace salus {
namespace {

uint64_t place_by_size(std::vector<PlacedBuffer> *buffers) {
    std::vector<PlacedBuffer *> by_size;
    by_size.reserve(buffers->size());
    for (PlacedBuffer &b : *buffers) by_size.push_back(&b);
    std::sort(by_size.begin(), by_size.end(), [](const PlacedBuffer *a, const PlacedBuffer *b) {
        if (a->size != b->size) return a->size > b->size;
        if (a->first != b->first) return a->first < b->first;
        return a->id < b->id;
    });

    std::vector<const PlacedBuffer *> placed;
    std::vector<std::pair<uint64_t, uint64_t>> taken; // [begin, end) in the way
    uint64_t peak = 0;
    for (PlacedBuffer *b : by_size) {
        taken.clear();
        for (const PlacedBuffer *p : placed) {
            if (p->first <= b->last && b->first <= p->last) {
                taken.emplace_back(p->offset, p->offset + p->size);
            }
        }
        std::sort(taken.begin(), taken.end());
        uint64_t offset = 0;
        for (const auto &[begin, end] : taken) {
            if (offset + b->size <= begin) break;
            offset = std::max(offset, end);
        }
        b->offset = offset;
        placed.push_back(b);
        peak = std::max(peak, offset + b->size);
    }
    return peak;
}

// The arena's free blocks below the peak, by offset (for coalescing) and by
// size (for best fit).
class FreeBlocks {
  public:
    // The offset of the smallest free block that holds `size`, taken (its
    // rest stays free), or the top of the arena, which grows; a free block
    // that ends at the top is extended rather than left behind.
    uint64_t take(uint64_t size, uint64_t *peak) {
        const auto fit = by_size_.lower_bound({size, 0});
        if (fit != by_size_.end()) {
            const auto [block, at] = *fit;
            erase(at, block);
            if (block > size) insert(at + size, block - size);
            return at;
        }
        if (!by_offset_.empty()) {
            const auto last = std::prev(by_offset_.end());
            if (last->first + last->second == *peak) {
                const uint64_t at = last->first;
                erase(at, last->second);
                *peak = at + size;
                return at;
            }
        }
        const uint64_t at = *peak;
        *peak += size;
        return at;
    }

    // Returns [at, at + size), merged with the free blocks it touches.
    void give(uint64_t at, uint64_t size) {
        auto next = by_offset_.lower_bound(at);
        if (next != by_offset_.end() && at + size == next->first) {
            size += next->second;
            erase(next->first, next->second);
        }
        auto prev = by_offset_.lower_bound(at);
        if (prev != by_offset_.begin()) {
            --prev;
            if (prev->first + prev->second == at) {
                at = prev->first;
                size += prev->second;
                erase(prev->first, prev->second);
            }
        }
        insert(at, size);
    }

  private:
    void insert(uint64_t at, uint64_t size) {
        by_offset_.emplace(at, size);
        by_size_.emplace(size, at);
    }
    void erase(uint64_t at, uint64_t size) {
        by_offset_.erase(at);
        by_size_.erase({size, at});
    }

    std::map<uint64_t, uint64_t> by_offset_;          // offset -> size
    std::set<std::pair<uint64_t, uint64_t>> by_size_; // (size, offset)
};

uint64_t place_by_step(std::vector<PlacedBuffer> *buffers) {
    // Buffers in the order they start (the larger first within a step), and
    // in the order they end.
    std::vector<PlacedBuffer *> starts, ends;
    starts.reserve(buffers->size());
    for (PlacedBuffer &b : *buffers) starts.push_back(&b);
    ends = starts;
    std::sort(starts.begin(), starts.end(), [](const PlacedBuffer *a, const PlacedBuffer *b) {
        if (a->first != b->first) return a->first < b->first;
        if (a->size != b->size) return a->size > b->size;
        return a->id < b->id;
    });
    std::sort(ends.begin(), ends.end(), [](const PlacedBuffer *a, const PlacedBuffer *b) {
        if (a->last != b->last) return a->last < b->last;
        return a->id < b->id;
    });

    FreeBlocks free;
    uint64_t peak = 0;
    size_t s = 0, e = 0;
    while (s < starts.size()) {
        const uint32_t step = starts[s]->first;
        // What ended before this step is free again; what ends at it is not.
        for (; e < ends.size() && ends[e]->last < step; ++e) {
            if (ends[e]->size) free.give(ends[e]->offset, ends[e]->size);
        }
        for (; s < starts.size() && starts[s]->first == step; ++s) {
            // An empty buffer takes no room: any aligned offset will do.
            starts[s]->offset = starts[s]->size ? free.take(starts[s]->size, &peak) : 0;
        }
    }
    return peak;
}

} // namespace

uint64_t place_buffers(std::vector<PlacedBuffer> *buffers, Placement how) {
    if (how == Placement::Auto) {
        how = buffers->size() <= kGreedyPlacementMaxBuffers ? Placement::BySize : Placement::ByStep;
    }
    return how == Placement::BySize ? place_by_size(buffers) : place_by_step(buffers);
}

} // namespace salus
