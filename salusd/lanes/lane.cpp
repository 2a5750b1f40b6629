#include "lanes/lane.h"

#include <algorithm>
#include <cassert>
#include <iterator>

namespace salus::lanes {

uint64_t Lane::ephemeral_bytes() const {
    return mode_ == AdmissionMode::Safe ? max_ephemeral() : sum_t_;
}

uint64_t Lane::need_with(uint64_t p, uint64_t t) const {
    const uint64_t ephemeral =
        mode_ == AdmissionMode::Safe ? std::max(max_ephemeral(), t) : sum_t_ + t;
    return persistent_ + p + ephemeral;
}

uint64_t Lane::need_without(uint64_t p, uint64_t t) const {
    if (mode_ == AdmissionMode::Static) return persistent_ - p + sum_t_ - t;
    auto top = ts_.rbegin(); // one instance of t leaves; a second one stays
    if (top != ts_.rend() && *top == t) ++top;
    return persistent_ - p + (top == ts_.rend() ? 0 : *top);
}

LaneLayout Lane::layout() const {
    return {id_, base_, capacity_, ephemeral_offset(), ephemeral_bytes()};
}

uint64_t Lane::blocks_end() const {
    if (blocks_.empty()) return base_;
    const auto &[offset, block] = *blocks_.rbegin();
    return offset + block.bytes;
}

std::optional<uint64_t> Lane::find_hole(uint64_t p, uint64_t ephemeral) const {
    if (ephemeral > capacity_) return std::nullopt;
    const uint64_t limit = end() - ephemeral;
    const uint64_t top = blocks_end();
    if (top > limit) return std::nullopt;
    if (p == 0) return base_;
    // The smallest hole below the blocks (the lowest among equals), unless
    // the room above them is smaller still.
    auto hole = holes_.lower_bound({p, 0});
    if (limit - top >= p && (hole == holes_.end() || limit - top < hole->first)) return top;
    if (hole == holes_.end()) return std::nullopt;
    return hole->second;
}

uint64_t Lane::gap_begin(std::map<uint64_t, Block>::const_iterator block) const {
    return block == blocks_.begin() ? base_
                                    : std::prev(block)->first + std::prev(block)->second.bytes;
}

void Lane::add_hole(uint64_t begin, uint64_t end) {
    if (end > begin) holes_.emplace(end - begin, begin);
}

void Lane::erase_hole(uint64_t begin, uint64_t end) {
    if (end > begin) holes_.erase({end - begin, begin});
}

void Lane::set_range(uint64_t base, uint64_t capacity) {
    if (!blocks_.empty() && base != base_) {
        const uint64_t first = blocks_.begin()->first;
        assert(base <= first);
        erase_hole(base_, first);
        add_hole(base, first);
    }
    base_ = base;
    capacity_ = capacity;
}

void Lane::add_session(SessionId id, uint64_t p, uint64_t t, uint64_t offset) {
    sessions_.insert(id);
    ts_.insert(t);
    sum_t_ += t;
    persistent_ += p;
    if (p == 0) return;
    // The block splits the gap it lands in (or extends the blocks upwards).
    auto next = blocks_.lower_bound(offset);
    const uint64_t below = gap_begin(next);
    add_hole(below, offset);
    if (next != blocks_.end()) {
        erase_hole(below, next->first);
        add_hole(offset + p, next->first);
    }
    blocks_.emplace_hint(next, offset, Block{id, p});
}

void Lane::remove_session(SessionId id, uint64_t p, uint64_t t, uint64_t offset) {
    sessions_.erase(id);
    ts_.erase(ts_.find(t));
    sum_t_ -= t;
    persistent_ -= p;
    if (p == 0) return;
    auto it = blocks_.find(offset);
    assert(it != blocks_.end() && it->second.session == id);
    const uint64_t below = gap_begin(it);
    erase_hole(below, offset);
    auto next = blocks_.erase(it);
    if (next != blocks_.end()) {
        erase_hole(offset + p, next->first);
        add_hole(below, next->first);
    }
}

void Lane::clear_sessions() {
    sessions_.clear();
    ts_.clear();
    sum_t_ = 0;
    persistent_ = 0;
    blocks_.clear();
    holes_.clear();
}

std::string Lane::check() const {
    const std::string name = "lane " + std::to_string(id_) + ": ";
    if (need() > capacity_) {
        return name + "needs " + std::to_string(need()) + " bytes (" + admission_mode_name(mode_) +
               " condition) but has " + std::to_string(capacity_);
    }
    uint64_t cursor = base_;
    uint64_t sum = 0;
    size_t holes = 0;
    for (const auto &[offset, block] : blocks_) {
        if (offset > cursor) {
            ++holes;
            if (holes_.count({offset - cursor, cursor}) == 0) {
                return name + "the hole at " + std::to_string(cursor) + " is not indexed";
            }
        }
        if (offset < cursor) {
            return name + "block of session " + std::to_string(block.session) + " at " +
                   std::to_string(offset) + " overlaps the previous one or precedes the base";
        }
        if (block.bytes == 0) return name + "an empty block";
        if (sessions_.count(block.session) == 0) return name + "block of a foreign session";
        cursor = offset + block.bytes;
        sum += block.bytes;
    }
    if (cursor > ephemeral_offset()) {
        return name + "a persistent block reaches into the ephemeral region at " +
               std::to_string(ephemeral_offset());
    }
    if (sum != persistent_) return name + "persistent total differs from its blocks";
    if (holes != holes_.size()) return name + "holes indexed that are none";
    if (ts_.size() != sessions_.size()) return name + "one T per session expected";
    return {};
}

} // namespace salus::lanes
