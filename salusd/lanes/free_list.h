// The free ranges of the device memory pool: the memory outside every lane.
// Adjacent ranges are always merged; best fit and removal are O(log n).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace salus::lanes {

struct Range {
    uint64_t offset = 0;
    uint64_t bytes = 0;
    uint64_t end() const { return offset + bytes; }
};

class FreeList {
  public:
    // Returns [offset, offset + bytes) to the free ranges; it must not overlap one.
    void add(uint64_t offset, uint64_t bytes);
    // Takes [offset, offset + bytes), which must lie inside one free range.
    void take(uint64_t offset, uint64_t bytes);
    // Removes every free range inside [begin, end) (ranges never straddle it).
    void take_all_within(uint64_t begin, uint64_t end);

    // The offset of the smallest free range of at least `bytes` (lowest offset
    // among equals), or nothing.
    std::optional<uint64_t> best_fit(uint64_t bytes) const;

    uint64_t total_bytes() const { return total_; }
    size_t size() const { return by_offset_.size(); }
    std::vector<Range> ranges() const; // by offset
    const std::map<uint64_t, uint64_t> &by_offset() const { return by_offset_; }

    // "" or the first broken internal invariant.
    std::string check() const;

  private:
    void insert(uint64_t offset, uint64_t bytes);
    void erase(std::map<uint64_t, uint64_t>::iterator it);

    std::map<uint64_t, uint64_t> by_offset_;          // offset -> bytes
    std::set<std::pair<uint64_t, uint64_t>> by_size_; // (bytes, offset)
    uint64_t total_ = 0;
};

} // namespace salus::lanes
