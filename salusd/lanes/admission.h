// Admission: which lane of the device memory pool a new session goes to, or
// whether it waits. Pure bookkeeping: no device, no threads, no clock, no I/O;
// the daemon applies the LayoutChange each call returns, in the order the
// calls returned them (see LayoutChange in lane_types.h).
//
// A session brings exact sizes: P (persistent) and T (ephemeral), multiples
// of kLaneAlignment, either may be 0. Admission tries, in order:
//  1. join the existing lane that keeps its condition with the least capacity
//     left over (best fit); the block goes into the best-fitting hole, or the
//     lane is compacted in place when no hole fits or the ephemeral region
//     grows over a block;
//  2. open a new lane of exactly P + T bytes in the best-fitting free range
//     (while the lane count is below max_lanes);
//  3. re-partition for a new lane: the cheapest run of consecutive lanes and
//     free ranges (least persistent data inside) with P + T spare bytes is
//     packed, each lane shrunk to what it needs and its blocks packed from its
//     base, and the new lane is put at the end of the run;
//  4. grow the lane that needs the fewest extra bytes (P + max(0, T - max T)
//     in Safe mode, i.e. best fit), re-partitioning the cheapest run around it;
//  5. Safe mode only: merge neighbouring lanes, the pair that frees the most
//     first (merging frees the smaller of their ephemeral regions), until
//     step 4 fits; then the whole pool is packed;
//  6. otherwise wait in the AdmissionQueue.
// Lane policy: lanes are exactly P + T when opened and never padded; they
// grow (step 4) or merge (step 5) only when memory is short, so sessions get
// their own lane (parallelism) while memory allows and share lanes (the
// safety condition) when it does not.
//
// Steps 1-5 together admit a session exactly when the pool could hold every
// admitted session and it in one lane: sum(P) + P + max(max T, T) <= pool in
// Safe mode, sum(P + T) + P + T <= pool in Static mode (fits_after_repartition).
// A session with P + T > pool is refused (SALUS_ERESOURCE), never queued.
// Closing a session returns its memory to the pool: a lane left empty returns
// its whole range; otherwise the lane is trimmed at its top, its ephemeral
// region coming down onto its highest block (nothing moves), and holes left
// below stay in the lane as slack (used by step 1) until a re-partition
// reclaims them.
//
// Rebalancing (options.rebalance): when a release empties a lane, after the
// queue has been tried, if the lane count is below max_lanes and a lane holds
// several sessions, one of them moves into a new lane of its own P + T bytes,
// so that the parallelism the closed lane left is used. The lane with the most
// sessions goes first; of its sessions only those whose move keeps the address
// order qualify (the lowest block, whose new lane goes right below the lane,
// the highest, right above, and those without a block); the new lane is
// carved, as in step 3, from the cheapest run around the lane with the spare
// bytes (least persistent data inside, then the smallest P). Nothing moves
// unless the pool's spare bytes (free + slack) are at least twice what the
// move adds: when memory is short a split would only hand memory to the next
// admission's grow or merge, moving blocks back and forth. Every lane keeps
// its condition, and admission is unaffected: a re-layout never changes
// sum(P), sum(T) or max(T), so fits_after_repartition() answers the same.
//
// Anti-starvation (bounded overtaking, admission_queue.h): waiting sessions
// are tried in arrival order whenever memory is released; a later session may
// be admitted ahead of an earlier waiting one only while that one has been
// overtaken fewer than max_overtakes times. Once the head of the queue has
// been overtaken max_overtakes times nothing else is admitted until it is, and
// it is admitted as soon as fits_after_repartition() holds for it - at the
// latest when the sessions admitted before it have closed.
//
// Every re-layout keeps the address order of all persistent blocks, which is
// what lets order_moves() sequence the copies safely (see move_order.h).
// Lanes of capacity 0 (only sessions with P = T = 0) hold no memory and take
// no part in the address order.
//
// Cost per call: O(lanes + free ranges + log sessions) for steps 1-2, plus,
// to re-partition, O(log sessions) for each lane of the run that keeps its
// base and is packed (nothing in it moves: a flood of sessions into a growing
// lane stays linear in all) and O(blocks) for each other lane, O(lanes log
// lanes) to merge, and O(waiting sessions) per release to try the queue, plus
// O(lanes log lanes + free ranges + sessions without persistent memory in
// crowded lanes) per release that empties a lane, to rebalance.
#pragma once

#include "common/status.h"
#include "lanes/admission_queue.h"
#include "lanes/free_list.h"
#include "lanes/lane.h"
#include "lanes/lane_types.h"
#include "lanes/window.h"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace salus::lanes {

struct AdmissionOptions {
    // A waiting session is overtaken by at most this many later ones.
    uint32_t max_overtakes = 4;
    // Lanes (streams) at most; 0: no limit. Beyond it sessions share lanes.
    uint32_t max_lanes = 0;
    // After a release, split crowded lanes while lanes are allowed (see above).
    bool rebalance = true;
};

struct AdmitResult {
    Status status;       // SALUS_EINVAL, SALUS_ERESOURCE; nothing changes then
    bool queued = false; // waits; a later release() reports it in `admitted`
    LayoutChange change; // when admitted: change.admitted holds the session
};

struct ReleaseResult {
    Status status; // SALUS_ENOSESSION for an id neither admitted nor waiting
    LayoutChange change;
};

// How admissions were made, by step (for the admin interface and tests).
struct AdmissionStats {
    uint64_t joined = 0; // step 1 (of which compacted: in_lane_compactions)
    uint64_t in_lane_compactions = 0;
    uint64_t new_lanes = 0;     // step 2
    uint64_t repartitioned = 0; // step 3
    uint64_t grown = 0;         // step 4
    uint64_t merged = 0;        // step 5 (admissions, not lane pairs)
    uint64_t rebalanced = 0;    // sessions moved to a new lane of their own
    uint64_t queued = 0;
    uint64_t refused = 0;
    uint64_t bytes_moved = 0; // by all the moves returned
};

struct LaneInfo {
    LaneLayout layout;
    uint64_t persistent_bytes = 0;
    uint64_t slack_bytes = 0;               // capacity not needed by its sessions
    std::vector<SessionPlacement> sessions; // by persistent offset
};

class Admission {
  public:
    // pool_bytes is rounded down to a multiple of kLaneAlignment.
    Admission(uint64_t pool_bytes, AdmissionMode mode, AdmissionOptions options = {});

    AdmitResult admit(SessionId id, uint64_t persistent_bytes, uint64_t ephemeral_bytes);
    // Closes an admitted session or withdraws a waiting one; admits every
    // waiting session that now fits (subject to the overtaking bound).
    ReleaseResult release(SessionId id);

    // Lets an admitted session's T grow to t without changing any layout:
    // only within its lane's ephemeral region (Safe mode), else
    // SALUS_ERESOURCE and nothing changes. A smaller t changes nothing.
    Status grow_ephemeral(SessionId id, uint64_t t);

    // Whether admit() would admit (not queue) such a session right now.
    bool can_admit_now(uint64_t persistent_bytes, uint64_t ephemeral_bytes) const;
    // Whether the memory could hold it after any re-partition (see above).
    bool fits_after_repartition(uint64_t persistent_bytes, uint64_t ephemeral_bytes) const;

    AdmissionMode mode() const { return mode_; }
    const AdmissionOptions &options() const { return options_; }
    // The overtaking bound, e.g. after a reload; applies from the next release.
    void set_max_overtakes(uint32_t n) {
        options_.max_overtakes = n;
        queue_.set_max_overtakes(n);
    }
    uint64_t pool_bytes() const { return pool_bytes_; }
    uint64_t free_bytes() const { return free_.total_bytes(); } // outside every lane
    uint64_t used_bytes() const;  // persistent blocks + ephemeral regions
    uint64_t slack_bytes() const; // inside lanes, needed by no session
    size_t lane_count() const { return lanes_.size(); }
    size_t admitted_count() const { return sessions_.size(); }
    size_t queued_count() const { return queue_.size(); }
    const AdmissionStats &stats() const { return stats_; }

    std::vector<LaneInfo> lanes() const; // by base address
    std::vector<Range> free_ranges() const { return free_.ranges(); }
    std::vector<QueuedSession> queue() const { return queue_.entries(); }
    bool is_queued(SessionId id) const { return queue_.contains(id); }
    std::optional<SessionPlacement> placement(SessionId id) const;

    // "" when every invariant holds, else a description of the first broken one.
    std::string check_invariants() const;

  private:
    struct SessionRec {
        uint64_t p = 0;
        uint64_t t = 0;
        LaneId lane = kNoLane;
        uint64_t offset = 0;
    };
    // What one public call did, turned into a LayoutChange by finish().
    struct CallLog {
        std::map<LaneId, std::optional<LaneLayout>> before; // nullopt: created by this call
        std::set<LaneId> moved;                             // lanes whose blocks moved
        std::set<LaneId> merged;                            // closed by merging
        std::vector<Move> moves;
        std::set<SessionId> relocated;
        std::vector<SessionId> admitted;
    };
    // One lane of a re-layout: existing lanes merged into the first (or a new
    // lane when empty), its capacity, and whether the new session joins it.
    struct Target {
        std::vector<LaneId> members;
        uint64_t capacity = 0;
        bool gets_session = false;
        std::optional<SessionId> adopts; // an earlier session moving in (rebalancing)
    };
    // A lane or a free range, in address order; lanes of capacity 0 excluded.
    struct PoolSegment {
        LaneId lane = kNoLane; // kNoLane: a free range
        uint64_t begin = 0;
        uint64_t bytes = 0;
    };
    struct NewSession {
        SessionId id;
        uint64_t p;
        uint64_t t;
    };

    // admission.cpp
    // False only if the proof behind fits_after_repartition() is broken: a bug.
    bool place(const NewSession &s, CallLog *log);
    bool try_join_existing(const NewSession &s, CallLog *log);
    bool try_new_lane_in_free_range(const NewSession &s, CallLog *log);
    bool lanes_allowed() const;
    void admit_waiting(CallLog *log);
    void add_to_lane(Lane *lane, const NewSession &s, uint64_t offset, CallLog *log);
    Lane &create_lane(uint64_t base, uint64_t capacity, CallLog *log);
    void trim(Lane *lane);
    void remove_lane(LaneId id);
    void note_lane(const Lane &lane, CallLog *log) const;
    LayoutChange finish(const CallLog &log); // also counts the bytes moved
    SessionPlacement placement_of(SessionId id, const SessionRec &rec) const;

    // admission_repartition.cpp
    std::vector<PoolSegment> pool_segments() const;
    // Per segment, what re-partitioning it yields and costs: a free range its
    // bytes, a lane its slack and its persistent data to move.
    std::vector<Segment> segment_costs(const std::vector<PoolSegment> &segments) const;
    // The index of `lane` among segments (segments.size() when absent).
    static size_t segment_of(const std::vector<PoolSegment> &segments, LaneId lane);
    bool try_repartition_new_lane(const NewSession &s, CallLog *log);
    bool try_grow_lane(const NewSession &s, CallLog *log);
    bool merge_and_grow(const NewSession &s, CallLog *log);
    void relayout(uint64_t begin, uint64_t end, const std::vector<Target> &targets,
                  const NewSession &s, CallLog *log);
    // relayout() of a single-lane target that keeps its base, when the lane's
    // blocks are packed from it: nothing moves. False (nothing done) when
    // they are not.
    bool relayout_in_place(Lane *lane, const Target &target, const NewSession &s, CallLog *log);
    uint64_t extra_for(const Lane &lane, const NewSession &s) const;

    // admission_rebalance.cpp
    void rebalance(CallLog *log);
    bool rebalance_lane(const Lane &lane, uint64_t spare, CallLog *log);

    uint64_t pool_bytes_;
    AdmissionMode mode_;
    AdmissionOptions options_;
    FreeList free_;
    AdmissionQueue queue_;
    std::unordered_map<SessionId, SessionRec> sessions_; // admitted ones
    std::map<LaneId, Lane> lanes_;
    std::set<std::tuple<uint64_t, uint64_t, LaneId>> order_; // (base, capacity, id)
    LaneId next_lane_ = 0;
    uint64_t total_p_ = 0;
    uint64_t total_t_ = 0;
    std::multiset<uint64_t> all_t_;
    AdmissionStats stats_;
};

} // namespace salus::lanes
