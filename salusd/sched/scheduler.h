// The iteration scheduler core: takes timestamped events and answers which
// session's next iteration starts on which lane. Pure: no threads, no clock,
// no I/O, so the daemon and salus-sim drive the same code.
//
// Model. Every admitted session belongs to one lane (chosen by admission;
// lanes exist implicitly from their first session until their last one is
// forgotten or moved away: admission makes new lane ids as it re-partitions). Within a lane at most
// one iteration runs at a time; lanes run in parallel. A session holds a
// count of queued iterations; decide() starts the next one of the session the
// policy picks, and iteration_finished() reports its end. Between iterations
// the policy may pick another session of the lane: that is the job switch, so
// every policy preempts only at iteration boundaries.
//
// Policies (order among the ready sessions of one lane, fifo excepted):
//   fifo      The earliest-admitted open session, over all lanes, owns the
//             device: it starts only when no iteration runs anywhere, and
//             while it has nothing queued nothing else runs. When it closes
//             the next earliest-admitted session takes over.
//   srtf      Smallest estimated remaining time first, where remaining =
//             (declared - done) x measured mean iteration time. A session
//             that declared no total (or has run past it) counts as infinite
//             and runs only when no declared session is ready; a declared
//             session with no finished iteration counts as 0, so it runs one
//             iteration at the next boundary and gets measured. Ties: the
//             earlier-admitted session.
//   pack      Round-robin: the session that became ready longest ago; a
//             session that just ran one iteration goes to the back.
//   fair      Least attained service first: run time / weight. Ties: the
//             earlier-admitted session. A newcomer starts at 0 and so runs
//             until it has caught up (least-attained-service semantics).
//   priority  Higher priority first; among equal priorities round-robin as in
//             pack. A higher-priority session that becomes ready while a
//             lower one runs gets the lane's very next iteration.
//
// Holds (srtf, fair, priority). A synchronous client queues its next
// iteration only after the reply to the last one, so at that iteration's end
// its session has nothing queued and any other ready session would take the
// lane: the policy's favourite would get at most every other iteration. So
// when a session's iteration leaves it with nothing queued and, counted as if
// its next one were queued (at the back of its round-robin), it is strictly
// preferred to every ready session of the lane, the lane is held for it: no
// other session starts there until its next iteration is queued (it starts at
// once), a session the policy prefers to it becomes ready (that one starts),
// or the hold expires. The hold lasts 2 x the session's smoothed gap (end of
// an iteration that left it idle to its next queued one) + 4 x that gap's mean
// deviation, at most hold_max; there is none before a gap is measured, nor
// for a session whose smoothed gap is hold_max or more, nor when hold_max is 0
// (the default). A hold delays only sessions ready while it lasts. fifo
// waits for its owner by definition; pack is round-robin, so neither holds.
// decide() returns when it must be called again for a held lane on which some
// other session is ready (the hold's end); hold() tells a lane's hold.
// hold_stats() counts holds by how they ended (HoldEnd) and the time lanes
// spent held; an Observer hears of each hold and of each job switch (a lane
// starting another session than the one whose iteration it started last).
//
// Time: every event carries `now` (caller's nanoseconds). Durations and
// queueing delays are differences of those, clamped at 0 if time goes back.
//
// Cost: events and decide() are O(log n) in the sessions of one lane (an
// indexed heap per lane, keyed by the policy) plus O(lanes changed since the
// last decide, and lanes held); nothing allocates in steady state once every
// session has been admitted and its deepest queue seen. set_policy() re-keys
// in O(n).
#pragma once

#include "common/status.h"
#include "sched/observer.h"
#include "sched/ready_heap.h"
#include "sched/session_record.h"
#include "sched/types.h"

#include <cstddef>
#include <optional>
#include <unordered_map>
#include <vector>

namespace salus::sched {

class Scheduler {
  public:
    explicit Scheduler(Policy policy = Policy::fifo);

    // Events. Each fails with SALUS_ENOSESSION for an unknown (or closed,
    // where it matters) session and SALUS_EINVAL for a misuse, changing nothing.

    // A new session, admitted to `lane`, with nothing queued (state waiting).
    // Its id must not be known, even as a closed session not yet forgotten.
    Status session_admitted(SessionId id, LaneId lane, const SessionParams &params, TimeNs now);
    // The client closed it. Its queued iterations are dropped. If one of its
    // iterations runs it becomes `closing` and leaves when that one finishes.
    Status session_closed(SessionId id, TimeNs now);
    // The client queued one more iteration.
    Status iteration_queued(SessionId id, TimeNs now);
    // The running iteration of this session finished; its lane is free.
    Status iteration_finished(SessionId id, TimeNs now);
    // Re-partitioning moved the session to another lane. Not while it runs:
    // move it after its iteration finishes.
    Status session_moved(SessionId id, LaneId lane, TimeNs now);

    // Appends a Start for every idle lane with a session the policy picks and
    // marks those iterations running. Reuses `out`'s capacity. Returns the
    // earliest end of a hold that keeps a ready session waiting: decide()
    // must run again then (nothing when no hold does).
    std::optional<TimeNs> decide(TimeNs now, std::vector<Start> &out);

    // The longest hold (see above); 0 turns holds off and ends those held now
    // at the next decide(). Takes effect for holds begun after it.
    void set_hold_max(TimeNs max_ns);
    TimeNs hold_max() const { return hold_max_ns_; }
    struct Hold {
        SessionId session = 0; // the session the lane waits for
        TimeNs until = 0;      // when the hold ends at the latest
    };
    // The lane's hold, if it has one (possibly past its end until decide()).
    std::optional<Hold> hold(LaneId lane) const;
    const HoldStats &hold_stats() const { return hold_stats_; }

    // Told of job switches and holds from now on; nullptr: nobody (the
    // default). Not owned; must outlive the scheduler or be unset first.
    void set_observer(Observer *observer) { observer_ = observer; }

    // Takes effect at the next decide(); running iterations carry on.
    void set_policy(Policy policy, TimeNs now);
    Policy policy() const { return policy_; }
    TimeNs policy_since_ns() const { return policy_since_ns_; }

    // Accounting. Closed sessions stay queryable until forgotten.
    std::optional<SessionStats> stats(SessionId id) const;
    // Appends every known session's stats (closed ones included), by id.
    void snapshot(std::vector<SessionStats> &out) const;
    // Drops a closed session's record; SALUS_EINVAL if it is still open.
    Status forget(SessionId id);

    std::optional<SessionId> running_on(LaneId lane) const;
    // Lanes the scheduler keeps a record of: those with a session (closed
    // ones not yet forgotten count).
    size_t lanes() const { return lane_by_id_.size(); }
    // Admitted and not closed by the client (a closing session is not open).
    size_t open_sessions() const { return open_sessions_; }
    size_t running_iterations() const { return running_iterations_; }

    // Sizes the tables for this many sessions up front (optional).
    void reserve(size_t sessions);

  private:
    struct Lane {
        LaneId id = 0;
        uint32_t running = kNoSlot; // slot of the session whose iteration runs
        ReadyHeap ready;            // open sessions with queued iterations, not running
        bool candidate = false;     // in candidates_: something changed since decide()
        // The hold (kNoSlot: none): for whom, until when, and the key that
        // session had when the hold began, which a newcomer must beat.
        uint32_t held_for = kNoSlot;
        TimeNs hold_since = 0;
        TimeNs hold_until = 0;
        ReadyKey hold_key;
        SessionId last_session = 0; // whose iteration it started last; 0: none yet
        uint32_t sessions = 0;      // records on it, forgotten ones excepted
    };

    SessionRecord *find(SessionId id);
    const SessionRecord *find(SessionId id) const;
    uint32_t slot_of(const SessionRecord &session) const;
    // The index of the lane, a new record if none; join_lane counts the
    // session in, leave_lane out, dropping the record after its last.
    uint32_t join_lane(LaneId lane);
    void leave_lane(uint32_t index);
    uint32_t allocate_slot();

    void mark_candidate(uint32_t lane_index);
    void enter_ready(uint32_t slot);
    void leave_ready(uint32_t slot);
    void start(uint32_t slot, TimeNs now, std::vector<Start> &out);
    void decide_fifo(TimeNs now, std::vector<Start> &out);
    // decide() for a held lane: false while it keeps holding, else true
    // with *picked the session to start (kNoSlot: the top of the heap).
    bool decide_held(Lane &lane, TimeNs now, uint32_t *picked);
    void record_gap(SessionRecord &session, TimeNs now);
    TimeNs hold_ns(const SessionRecord &session) const;
    void maybe_hold(uint32_t slot, TimeNs now);
    void release_hold(Lane &lane, HoldEnd why, TimeNs now);
    void release_hold_of(uint32_t slot, TimeNs now);
    void link_admitted(uint32_t slot);
    void unlink_admitted(uint32_t slot);
    void mark_closed(SessionRecord &session, TimeNs now);

    Policy policy_;
    TimeNs policy_since_ns_ = 0;

    std::vector<SessionRecord> sessions_; // by slot
    std::vector<uint32_t> heap_pos_;      // by slot: position in its lane's ready heap
    std::vector<uint32_t> free_slots_;
    std::unordered_map<SessionId, uint32_t> slot_by_id_;

    std::vector<Lane> lanes_;
    std::unordered_map<LaneId, uint32_t> lane_by_id_;
    std::vector<uint32_t> free_lanes_; // indices of dropped lanes, for reuse
    std::vector<uint32_t> candidates_; // lane indices to look at in decide()

    uint32_t first_admitted_ = kNoSlot; // fifo's head: oldest open session
    uint32_t last_admitted_ = kNoSlot;
    uint64_t next_admission_seq_ = 0;
    uint64_t next_ready_seq_ = 0;
    size_t open_sessions_ = 0;
    size_t running_iterations_ = 0;
    TimeNs hold_max_ns_ = 0;
    HoldStats hold_stats_;
    Observer *observer_ = nullptr;
};

} // namespace salus::sched
