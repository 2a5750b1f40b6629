#include "lanes/free_list.h"

#include <cassert>
#include <iterator>

namespace salus::lanes {

void FreeList::insert(uint64_t offset, uint64_t bytes) {
    by_offset_.emplace(offset, bytes);
    by_size_.emplace(bytes, offset);
    total_ += bytes;
}

void FreeList::erase(std::map<uint64_t, uint64_t>::iterator it) {
    by_size_.erase({it->second, it->first});
    total_ -= it->second;
    by_offset_.erase(it);
}

void FreeList::add(uint64_t offset, uint64_t bytes) {
    if (bytes == 0) return;
    uint64_t begin = offset;
    uint64_t end = offset + bytes;
    auto next = by_offset_.lower_bound(offset);
    assert(next == by_offset_.end() || next->first >= end);
    if (next != by_offset_.begin()) {
        auto prev = std::prev(next);
        assert(prev->first + prev->second <= begin);
        if (prev->first + prev->second == begin) {
            begin = prev->first;
            erase(prev);
        }
    }
    if (next != by_offset_.end() && next->first == end) {
        end += next->second;
        erase(next);
    }
    insert(begin, end - begin);
}

void FreeList::take(uint64_t offset, uint64_t bytes) {
    if (bytes == 0) return;
    auto it = by_offset_.upper_bound(offset);
    assert(it != by_offset_.begin());
    --it;
    const uint64_t begin = it->first;
    const uint64_t end = it->first + it->second;
    assert(offset + bytes <= end);
    erase(it);
    if (begin < offset) insert(begin, offset - begin);
    if (offset + bytes < end) insert(offset + bytes, end - (offset + bytes));
}

void FreeList::take_all_within(uint64_t begin, uint64_t end) {
    auto it = by_offset_.lower_bound(begin);
    while (it != by_offset_.end() && it->first < end) {
        assert(it->first + it->second <= end);
        auto victim = it++;
        erase(victim);
    }
}

std::optional<uint64_t> FreeList::best_fit(uint64_t bytes) const {
    auto it = by_size_.lower_bound({bytes, 0});
    if (it == by_size_.end()) return std::nullopt;
    return it->second;
}

std::vector<Range> FreeList::ranges() const {
    std::vector<Range> out;
    out.reserve(by_offset_.size());
    for (const auto &[offset, bytes] : by_offset_) out.push_back({offset, bytes});
    return out;
}

std::string FreeList::check() const {
    if (by_offset_.size() != by_size_.size()) return "free list: the two indexes differ in size";
    uint64_t sum = 0;
    uint64_t prev_end = 0;
    bool first = true;
    for (const auto &[offset, bytes] : by_offset_) {
        if (bytes == 0) return "free list: an empty range at " + std::to_string(offset);
        if (!first && offset <= prev_end) {
            return "free list: range at " + std::to_string(offset) +
                   " overlaps or touches the previous one (not merged)";
        }
        if (by_size_.count({bytes, offset}) == 0) {
            return "free list: range at " + std::to_string(offset) + " missing from size index";
        }
        sum += bytes;
        prev_end = offset + bytes;
        first = false;
    }
    if (sum != total_) return "free list: total " + std::to_string(total_) + " != sum of ranges";
    return {};
}

} // namespace salus::lanes
