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

uint32_t Scheduler::lane_index(LaneId lane) {
    auto [it, added] = lane_by_id_.try_emplace(lane, static_cast<uint32_t>(lanes_.size()));
    if (added) {
        lanes_.emplace_back();
        lanes_.back().id = lane;
        candidates_.reserve(lanes_.size());
    }
    return it->second;
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
    session.lane_index = lane_index(lane);
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
    if (session->stats.state == SessionState::waiting) enter_ready(slot_of(*session));
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
    }
    return {};
}

Status Scheduler::session_moved(SessionId id, LaneId lane, TimeNs /*now*/) {
    SessionRecord *session = find(id);
    if (!session || !is_open(session->stats.state)) return no_session(id);
    if (session->stats.state == SessionState::running) return misuse(id, "moved while running");
    uint32_t slot = slot_of(*session);
    bool ready = session->stats.state == SessionState::ready;
    if (ready) leave_ready(slot);
    session->lane_index = lane_index(lane);
    session->stats.lane = lane;
    // Joins the new lane's round-robin at the back, like any newly ready session.
    if (ready) enter_ready(slot);
    return {};
}

void Scheduler::start(uint32_t slot, TimeNs now, std::vector<Start> &out) {
    SessionRecord &session = sessions_[slot];
    assert(session.stats.iterations_queued > 0 && heap_pos_[slot] == kNotInHeap);
    Lane &lane = lanes_[session.lane_index];
    assert(lane.running == kNoSlot);
    lane.running = slot;
    ++running_iterations_;
    session.stats.state = SessionState::running;
    session.started_ns = now;
    session.stats.queueing_delay_ns += elapsed(session.queued_at.pop_front(), now);
    --session.stats.iterations_queued;
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

void Scheduler::decide(TimeNs now, std::vector<Start> &out) {
    for (uint32_t index : candidates_) {
        Lane &lane = lanes_[index];
        lane.candidate = false;
        if (policy_ == Policy::fifo || lane.running != kNoSlot || lane.ready.empty()) continue;
        start(lane.ready.pop(heap_pos_), now, out);
    }
    candidates_.clear();
    if (policy_ == Policy::fifo) decide_fifo(now, out);
}

void Scheduler::set_policy(Policy policy, TimeNs now) {
    policy_ = policy;
    policy_since_ns_ = now;
    for (uint32_t index = 0; index < lanes_.size(); ++index) {
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
