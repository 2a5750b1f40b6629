#include "sched/scheduler.h"

#include "sched/policy_keys.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <string>

namespace salus::sched {

namespace {

TimeNs elapsed(TimeNs from, TimeNs to) {
    return to > from ? to - from : 0;
}

Status no_session(SessionId id) {
    return {SALUS_ENOSESSION, "scheduler: unknown or closed session " + std::to_string(id)};
}

Status misuse(SessionId id, const char *what) {
    return {SALUS_EINVAL, "scheduler: session " + std::to_string(id) + ": " + what};
}

bool is_open(SessionState state) {
    return state == SessionState::ready || state == SessionState::waiting ||
           state == SessionState::running;
}

// Policies whose favourite a synchronous client would lose between its
// iterations (see Holds in scheduler.h).
bool holds_apply(Policy policy) {
    return policy == Policy::srtf || policy == Policy::fair || policy == Policy::priority;
}

// Gaps measured before a session's lane may be held for it: one shows the
// client is synchronous and how fast it comes back.
constexpr uint32_t kMinGapSamples = 1;

} // namespace

Scheduler::Scheduler(Policy policy) : policy_(policy) {}

void Scheduler::reserve(size_t sessions) {
    sessions_.reserve(sessions);
    heap_pos_.reserve(sessions);
    slot_by_id_.reserve(sessions);
}

SessionRecord *Scheduler::find(SessionId id) {
    auto it = slot_by_id_.find(id);
    return it == slot_by_id_.end() ? nullptr : &sessions_[it->second];
}

const SessionRecord *Scheduler::find(SessionId id) const {
    auto it = slot_by_id_.find(id);
    return it == slot_by_id_.end() ? nullptr : &sessions_[it->second];
}

uint32_t Scheduler::slot_of(const SessionRecord &session) const {
    return static_cast<uint32_t>(&session - sessions_.data());
}

uint32_t Scheduler::join_lane(LaneId lane) {
    auto [it, added] = lane_by_id_.try_emplace(lane, 0);
    if (added) {
        if (free_lanes_.empty()) {
            it->second = static_cast<uint32_t>(lanes_.size());
            lanes_.emplace_back();
            candidates_.reserve(lanes_.size());
        } else {
            it->second = free_lanes_.back();
            free_lanes_.pop_back();
        }
        lanes_[it->second].id = lane;
    }
    ++lanes_[it->second].sessions;
    return it->second;
}

void Scheduler::leave_lane(uint32_t index) {
    Lane &lane = lanes_[index];
    if (--lane.sessions > 0) return;
    // Nothing runs, is ready or is held there. A lane still listed in
    // candidates_ stays marked so, so that reusing it cannot list it twice.
    lane_by_id_.erase(lane.id);
    const bool candidate = lane.candidate;
    lane = Lane{};
    lane.candidate = candidate;
    free_lanes_.push_back(index);
}

uint32_t Scheduler::allocate_slot() {
    if (!free_slots_.empty()) {
        uint32_t slot = free_slots_.back();
        free_slots_.pop_back();
        return slot;
    }
    sessions_.emplace_back();
    heap_pos_.push_back(kNotInHeap);
    return static_cast<uint32_t>(sessions_.size() - 1);
}

void Scheduler::mark_candidate(uint32_t index) {
    Lane &lane = lanes_[index];
    if (lane.candidate) return;
    lane.candidate = true;
    candidates_.push_back(index);
}

void Scheduler::enter_ready(uint32_t slot) {
    SessionRecord &session = sessions_[slot];
    session.stats.state = SessionState::ready;
    session.ready_seq = next_ready_seq_++;
    lanes_[session.lane_index].ready.push(slot, ready_key(policy_, session), heap_pos_);
    mark_candidate(session.lane_index);
}

void Scheduler::leave_ready(uint32_t slot) {
    lanes_[sessions_[slot].lane_index].ready.erase(slot, heap_pos_);
}

void Scheduler::link_admitted(uint32_t slot) {
    SessionRecord &session = sessions_[slot];
    session.prev_admitted = last_admitted_;
    session.next_admitted = kNoSlot;
    if (last_admitted_ == kNoSlot) {
        first_admitted_ = slot;
    } else {
        sessions_[last_admitted_].next_admitted = slot;
    }
    last_admitted_ = slot;
}

void Scheduler::unlink_admitted(uint32_t slot) {
    SessionRecord &session = sessions_[slot];
    if (session.prev_admitted == kNoSlot) {
        first_admitted_ = session.next_admitted;
    } else {
        sessions_[session.prev_admitted].next_admitted = session.next_admitted;
    }
    if (session.next_admitted == kNoSlot) {
        last_admitted_ = session.prev_admitted;
    } else {
        sessions_[session.next_admitted].prev_admitted = session.prev_admitted;
    }
    session.prev_admitted = session.next_admitted = kNoSlot;
}

Status Scheduler::session_admitted(SessionId id, LaneId lane, const SessionParams &params,
                                   TimeNs now) {
    if (slot_by_id_.count(id)) return misuse(id, "admitted twice");
    if (!(params.weight > 0) || !std::isfinite(params.weight)) {
        return misuse(id, "weight must be a finite number > 0");
    }
    uint32_t slot = allocate_slot();
    slot_by_id_.emplace(id, slot);
    SessionRecord &session = sessions_[slot];
    session = SessionRecord{};
    session.in_use = true;
    session.lane_index = join_lane(lane);
    session.admission_seq = next_admission_seq_++;
    session.stats.id = id;
    session.stats.lane = lane;
    session.stats.state = SessionState::waiting;
    session.stats.params = params;
    session.stats.admitted_ns = now;
    link_admitted(slot);
    ++open_sessions_;
    return {};
}

void Scheduler::mark_closed(SessionRecord &session, TimeNs now) {
    session.stats.state = SessionState::closed;
    session.stats.completed_ns = now;
}

Status Scheduler::session_closed(SessionId id, TimeNs now) {
    SessionRecord *session = find(id);
    if (!session || !is_open(session->stats.state)) return no_session(id);
    uint32_t slot = slot_of(*session);
    if (session->stats.state == SessionState::ready) leave_ready(slot);
    unlink_admitted(slot);
    session->queued_at.clear();
    session->stats.iterations_queued = 0;
    --open_sessions_;
    release_hold_of(slot, now);
    if (session->stats.state == SessionState::running) {
        session->stats.state = SessionState::closing;
    } else {
        mark_closed(*session, now);
    }
    return {};
}

Status Scheduler::iteration_queued(SessionId id, TimeNs now) {
    SessionRecord *session = find(id);
    if (!session || !is_open(session->stats.state)) return no_session(id);
    session->queued_at.push_back(now);
    ++session->stats.iterations_queued;
    if (session->stats.state == SessionState::waiting) {
        record_gap(*session, now);
        enter_ready(slot_of(*session));
    }
    return {};
}

Status Scheduler::iteration_finished(SessionId id, TimeNs now) {
    SessionRecord *session = find(id);
    if (!session) return no_session(id);
    SessionState state = session->stats.state;
    if (state != SessionState::running && state != SessionState::closing) {
        return misuse(id, "finished an iteration it was not running");
    }
    uint32_t slot = slot_of(*session);
    session->stats.run_ns += elapsed(session->started_ns, now);
    ++session->stats.iterations_done;
    lanes_[session->lane_index].running = kNoSlot;
    --running_iterations_;
    mark_candidate(session->lane_index);
    if (state == SessionState::closing) {
        mark_closed(*session, now);
    } else if (session->stats.iterations_queued > 0) {
        enter_ready(slot);
    } else {
        session->stats.state = SessionState::waiting;
        session->gap_open = true;
        session->gap_since = now;
        maybe_hold(slot, now);
    }
    return {};
}

void Scheduler::record_gap(SessionRecord &session, TimeNs now) {
    if (!session.gap_open) return;
    session.gap_open = false;
    TimeNs gap = elapsed(session.gap_since, now);
    // A client that paused (evaluation, a checkpoint) counts as merely
    // slow, so one pause does not rule out holds for long.
    if (hold_max_ns_ > 0) gap = std::min(gap, 2 * hold_max_ns_);
    const auto sample = static_cast<int64_t>(gap);
    if (session.gap_samples++ == 0) {
        session.gap_mean_ns = sample;
        session.gap_dev_ns = sample / 2;
        return;
    }
    // Smoothed like TCP's round-trip time (RFC 6298): gains 1/8 and 1/4.
    const int64_t error = sample - session.gap_mean_ns;
    session.gap_mean_ns += error / 8;
    session.gap_dev_ns += ((error < 0 ? -error : error) - session.gap_dev_ns) / 4;
}

TimeNs Scheduler::hold_ns(const SessionRecord &session) const {
    if (session.gap_samples < kMinGapSamples) return 0;
    const auto mean = static_cast<TimeNs>(std::max<int64_t>(session.gap_mean_ns, 0));
    const auto dev = static_cast<TimeNs>(std::max<int64_t>(session.gap_dev_ns, 0));
    // A session that usually comes back after the longest hold would
    // mostly leave the lane idle for nothing.
    if (mean >= hold_max_ns_) return 0;
    return std::clamp<TimeNs>(2 * mean + 4 * dev, 1, hold_max_ns_);
}

void Scheduler::maybe_hold(uint32_t slot, TimeNs now) {
    if (hold_max_ns_ == 0 || !holds_apply(policy_)) return;
    SessionRecord &session = sessions_[slot];
    const TimeNs wait = hold_ns(session);
    if (wait == 0) return;
    Lane &lane = lanes_[session.lane_index];
    assert(lane.held_for == kNoSlot && lane.running == kNoSlot);
    // Its next iteration would join the round-robin at the back.
    const ReadyKey key = ready_key(policy_, session, next_ready_seq_++);
    if (!lane.ready.empty() && !(key < lane.ready.top_key())) return;
    lane.held_for = slot;
    lane.hold_since = now;
    lane.hold_until = now + wait;
    lane.hold_key = key;
    ++hold_stats_.granted;
    if (observer_) observer_->held(lane.id, session.stats.id, lane.hold_until, now);
    mark_candidate(session.lane_index);
}

void Scheduler::release_hold(Lane &lane, HoldEnd why, TimeNs now) {
    if (lane.held_for == kNoSlot) return;
    const SessionId session = sessions_[lane.held_for].stats.id;
    lane.held_for = kNoSlot;
    hold_stats_.held_ns += elapsed(lane.hold_since, now);
    switch (why) {
    case HoldEnd::returned:
        ++hold_stats_.returned;
        break;
    case HoldEnd::expired:
        ++hold_stats_.expired;
        break;
    case HoldEnd::early:
        ++hold_stats_.early;
        break;
    }
    if (observer_) observer_->hold_ended(lane.id, session, why, now);
}

void Scheduler::release_hold_of(uint32_t slot, TimeNs now) {
    Lane &lane = lanes_[sessions_[slot].lane_index];
    if (lane.held_for != slot) return;
    release_hold(lane, HoldEnd::early, now);
    // Another session may run there now.
    mark_candidate(sessions_[slot].lane_index);
}

void Scheduler::set_hold_max(TimeNs max_ns) {
    hold_max_ns_ = max_ns;
}

std::optional<Scheduler::Hold> Scheduler::hold(LaneId lane) const {
    auto it = lane_by_id_.find(lane);
    if (it == lane_by_id_.end()) return std::nullopt;
    const Lane &l = lanes_[it->second];
    if (l.held_for == kNoSlot) return std::nullopt;
    return Hold{sessions_[l.held_for].stats.id, l.hold_until};
}

Status Scheduler::session_moved(SessionId id, LaneId lane, TimeNs now) {
    SessionRecord *session = find(id);
    if (!session || !is_open(session->stats.state)) return no_session(id);
    if (session->stats.state == SessionState::running) return misuse(id, "moved while running");
    uint32_t slot = slot_of(*session);
    release_hold_of(slot, now);
    bool ready = session->stats.state == SessionState::ready;
    if (ready) leave_ready(slot);
    const uint32_t old_lane = session->lane_index;
    session->lane_index = join_lane(lane);
    leave_lane(old_lane);
    session->stats.lane = lane;
    // Joins the new lane's round-robin at the back, like any newly ready session.
    if (ready) enter_ready(slot);
    return {};
}

void Scheduler::start(uint32_t slot, TimeNs now, std::vector<Start> &out) {
    SessionRecord &session = sessions_[slot];
    assert(session.stats.iterations_queued > 0 && heap_pos_[slot] == kNotInHeap);
    Lane &lane = lanes_[session.lane_index];
    assert(lane.running == kNoSlot && lane.held_for == kNoSlot);
    lane.running = slot;
    ++running_iterations_;
    session.stats.state = SessionState::running;
    session.started_ns = now;
    session.stats.queueing_delay_ns += elapsed(session.queued_at.pop_front(), now);
    --session.stats.iterations_queued;
    if (observer_ && lane.last_session != 0 && lane.last_session != session.stats.id) {
        observer_->switched(lane.id, lane.last_session, session.stats.id, now);
    }
    lane.last_session = session.stats.id;
    out.push_back({lane.id, session.stats.id});
}

void Scheduler::decide_fifo(TimeNs now, std::vector<Start> &out) {
    // The head owns the device: wait for every running iteration (the head's
    // own, or other sessions' left over from a policy switch) to finish.
    if (running_iterations_ > 0 || first_admitted_ == kNoSlot) return;
    if (sessions_[first_admitted_].stats.state != SessionState::ready) return;
    leave_ready(first_admitted_);
    start(first_admitted_, now, out);
}

bool Scheduler::decide_held(Lane &lane, TimeNs now, uint32_t *picked) {
    const uint32_t held = lane.held_for;
    *picked = kNoSlot;
    bool keep = now < lane.hold_until && hold_max_ns_ > 0 && holds_apply(policy_);
    HoldEnd why = HoldEnd::early;
    if (keep && !lane.ready.empty() && lane.ready.top() != held &&
        lane.ready.top_key() < lane.hold_key) {
        keep = false; // a session the policy prefers to the held one is ready
    } else if (sessions_[held].stats.state == SessionState::ready) {
        // It came back (a lane thread may see the hold's end late: it
        // counts as returned all the same). Within the hold it runs,
        // whoever queued meanwhile.
        why = HoldEnd::returned;
        if (keep) *picked = held;
        keep = false;
    } else if (now >= lane.hold_until) {
        why = HoldEnd::expired;
    }
    if (!keep) release_hold(lane, why, now);
    return !keep;
}

std::optional<TimeNs> Scheduler::decide(TimeNs now, std::vector<Start> &out) {
    std::optional<TimeNs> wake;
    // Held lanes stay candidates until their hold ends: compacted in place.
    size_t kept = 0;
    for (uint32_t index : candidates_) {
        Lane &lane = lanes_[index];
        lane.candidate = false;
        if (lane.running != kNoSlot) continue;
        uint32_t picked = kNoSlot;
        if (lane.held_for != kNoSlot && !decide_held(lane, now, &picked)) {
            lane.candidate = true;
            candidates_[kept++] = index;
            // Only a hold that keeps someone waiting needs a call at its end.
            if (!lane.ready.empty()) wake = std::min(wake.value_or(~TimeNs{0}), lane.hold_until);
            continue;
        }
        if (policy_ == Policy::fifo) continue;
        if (picked != kNoSlot) {
            leave_ready(picked);
        } else if (lane.ready.empty()) {
            continue;
        } else {
            picked = lane.ready.pop(heap_pos_);
        }
        start(picked, now, out);
    }
    candidates_.resize(kept);
    if (policy_ == Policy::fifo) decide_fifo(now, out);
    return wake;
}

void Scheduler::set_policy(Policy policy, TimeNs now) {
    policy_ = policy;
    policy_since_ns_ = now;
    for (uint32_t index = 0; index < lanes_.size(); ++index) {
        // A hold was the old policy's preference.
        release_hold(lanes_[index], HoldEnd::early, now);
        lanes_[index].ready.rekey(
            [&](uint32_t slot) { return ready_key(policy_, sessions_[slot]); }, heap_pos_);
        mark_candidate(index);
    }
}

std::optional<SessionStats> Scheduler::stats(SessionId id) const {
    const SessionRecord *session = find(id);
    if (!session) return std::nullopt;
    return session->stats;
}

void Scheduler::snapshot(std::vector<SessionStats> &out) const {
    size_t first = out.size();
    for (const SessionRecord &session : sessions_) {
        if (session.in_use) out.push_back(session.stats);
    }
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(first), out.end(),
              [](const SessionStats &a, const SessionStats &b) { return a.id < b.id; });
}

Status Scheduler::forget(SessionId id) {
    auto it = slot_by_id_.find(id);
    if (it == slot_by_id_.end()) return no_session(id);
    uint32_t slot = it->second;
    if (sessions_[slot].stats.state != SessionState::closed) return misuse(id, "still open");
    leave_lane(sessions_[slot].lane_index);
    sessions_[slot] = SessionRecord{};
    free_slots_.push_back(slot);
    slot_by_id_.erase(it);
    return {};
}

std::optional<SessionId> Scheduler::running_on(LaneId lane) const {
    auto it = lane_by_id_.find(lane);
    if (it == lane_by_id_.end() || lanes_[it->second].running == kNoSlot) return std::nullopt;
    return sessions_[lanes_[it->second].running].stats.id;
}

} // namespace salus::sched
