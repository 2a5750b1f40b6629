#include "lanes/lane.h"

#include <algorithm>
#include <cassert>

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
    if (blocks_end() > limit) return std::nullopt;
    if (p == 0) return base_;
    std::optional<uint64_t> best;
    uint64_t best_size = 0;
    uint64_t cursor = base_;
    auto consider = [&](uint64_t hole_end) {
        const uint64_t size = hole_end - cursor;
        if (size >= p && (!best || size < best_size)) {
            best = cursor;
            best_size = size;
        }
    };
    for (const auto &[offset, block] : blocks_) {
        consider(offset);
        cursor = offset + block.bytes;
    }
    consider(limit);
    return best;
}

void Lane::add_session(SessionId id, uint64_t p, uint64_t t, uint64_t offset) {
    sessions_.insert(id);
    ts_.insert(t);
    sum_t_ += t;
    persistent_ += p;
    if (p > 0) blocks_.emplace(offset, Block{id, p});
}

void Lane::remove_session(SessionId id, uint64_t p, uint64_t t, uint64_t offset) {
    sessions_.erase(id);
    ts_.erase(ts_.find(t));
    sum_t_ -= t;
    persistent_ -= p;
    if (p > 0) {
        assert(blocks_.count(offset) == 1 && blocks_.at(offset).session == id);
        blocks_.erase(offset);
    }
}

void Lane::clear_sessions() {
    sessions_.clear();
    ts_.clear();
    sum_t_ = 0;
    persistent_ = 0;
    blocks_.clear();
}

std::string Lane::check() const {
    const std::string name = "lane " + std::to_string(id_) + ": ";
    if (need() > capacity_) {
        return name + "needs " + std::to_string(need()) + " bytes (" + admission_mode_name(mode_) +
               " condition) but has " + std::to_string(capacity_);
    }
    uint64_t cursor = base_;
    uint64_t sum = 0;
    for (const auto &[offset, block] : blocks_) {
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
    if (ts_.size() != sessions_.size()) return name + "one T per session expected";
    return {};
}

} // namespace salus::lanes
