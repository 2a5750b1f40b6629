// One lane: a contiguous range of the pool and one stream of execution.
//
// Layout inside [base, base + capacity):
//   [base ...................... ephemeral_offset) persistent blocks, one per
//                                                  session with P > 0, in holes
//   [ephemeral_offset ......... base + capacity)   the one ephemeral region,
//                                                  max(T) bytes (sum(T) in Static)
// The ephemeral region sits at the top so it grows downwards into the slack
// without disturbing blocks packed from the base.
#pragma once

#include "lanes/lane_types.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace salus::lanes {

class Lane {
  public:
    Lane(LaneId id, uint64_t base, uint64_t capacity, AdmissionMode mode)
        : id_(id), base_(base), capacity_(capacity), mode_(mode) {}

    LaneId id() const { return id_; }
    uint64_t base() const { return base_; }
    uint64_t capacity() const { return capacity_; }
    uint64_t end() const { return base_ + capacity_; }
    AdmissionMode mode() const { return mode_; }

    uint64_t persistent_bytes() const { return persistent_; }
    uint64_t ephemeral_bytes() const; // the region: max(T), or sum(T) in Static
    uint64_t max_ephemeral() const { return ts_.empty() ? 0 : *ts_.rbegin(); }
    uint64_t ephemeral_offset() const { return end() - ephemeral_bytes(); }
    // Bytes the lane needs for its sessions: sum(P) + the ephemeral region.
    uint64_t need() const { return persistent_ + ephemeral_bytes(); }
    // need() once a session (p, t) joins.
    uint64_t need_with(uint64_t p, uint64_t t) const;
    // need() once a session (p, t) of this lane leaves.
    uint64_t need_without(uint64_t p, uint64_t t) const;
    uint64_t slack() const { return capacity_ - need(); }
    LaneLayout layout() const;

    bool empty() const { return sessions_.empty(); }
    const std::set<SessionId> &sessions() const { return sessions_; }
    // Persistent blocks with P > 0: offset -> (session, bytes), by offset.
    struct Block {
        SessionId session;
        uint64_t bytes;
    };
    const std::map<uint64_t, Block> &blocks() const { return blocks_; }
    // The end of the highest block (base when none).
    uint64_t blocks_end() const;

    // The lowest offset of the smallest hole of at least p bytes below an
    // ephemeral region of `ephemeral` bytes, or nothing when no hole is big
    // enough or a block already reaches into that region. p == 0: base.
    // O(log blocks): the holes below blocks_end() are kept indexed by size.
    std::optional<uint64_t> find_hole(uint64_t p, uint64_t ephemeral) const;

    void add_session(SessionId id, uint64_t p, uint64_t t, uint64_t offset);
    void remove_session(SessionId id, uint64_t p, uint64_t t, uint64_t offset);
    // Blocks stay where they are; a new base must not pass the lowest one.
    void set_range(uint64_t base, uint64_t capacity);
    // Forgets every session, keeping the range (used when re-laying out).
    void clear_sessions();

    // "" or the first broken internal invariant (block overlap, condition).
    std::string check() const;

  private:
    LaneId id_;
    uint64_t base_;
    uint64_t capacity_;
    AdmissionMode mode_;
    uint64_t persistent_ = 0;
    uint64_t sum_t_ = 0;
    std::multiset<uint64_t> ts_;
    std::set<SessionId> sessions_;
    std::map<uint64_t, Block> blocks_;
    // The gaps between base and blocks_end() not covered by a block, as
    // (bytes, offset): what find_hole() picks from without a scan.
    std::set<std::pair<uint64_t, uint64_t>> holes_;

    // Where the gap before `block` begins: the end of the block below it, or base.
    uint64_t gap_begin(std::map<uint64_t, Block>::const_iterator block) const;
    void add_hole(uint64_t begin, uint64_t end);
    void erase_hole(uint64_t begin, uint64_t end);
};

} // namespace salus::lanes
