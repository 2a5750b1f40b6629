// Admission: validation, the in-place steps (join a lane, open a lane in a
// free range), release and the queue. Re-partitioning lives in
// admission_repartition.cpp, queries and invariants in admission_query.cpp.
#include "lanes/admission.h"

#include <algorithm>
#include <cassert>

namespace salus::lanes {

const char *admission_mode_name(AdmissionMode mode) {
    return mode == AdmissionMode::Safe ? "safe" : "static";
}

Admission::Admission(uint64_t pool_bytes, AdmissionMode mode, AdmissionOptions options)
    : pool_bytes_(pool_bytes / kLaneAlignment * kLaneAlignment), mode_(mode), options_(options),
      queue_(options.max_overtakes) {
    free_.add(0, pool_bytes_);
}

bool Admission::fits_after_repartition(uint64_t p, uint64_t t) const {
    if (p > pool_bytes_ || t > pool_bytes_) return false;
    if (mode_ == AdmissionMode::Safe) {
        const uint64_t max_t = all_t_.empty() ? 0 : *all_t_.rbegin();
        return total_p_ + p + std::max(max_t, t) <= pool_bytes_;
    }
    return total_p_ + total_t_ + p + t <= pool_bytes_;
}

bool Admission::can_admit_now(uint64_t p, uint64_t t) const {
    if (p % kLaneAlignment != 0 || t % kLaneAlignment != 0) return false;
    return queue_.may_overtake_all() && fits_after_repartition(p, t);
}

Status Admission::grow_ephemeral(SessionId id, uint64_t t) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) {
        return Status(SALUS_ENOSESSION, "session " + std::to_string(id) + " is not admitted");
    }
    SessionRec &rec = it->second;
    t = (t + kLaneAlignment - 1) / kLaneAlignment * kLaneAlignment;
    if (t <= rec.t) return {};
    Lane &lane = lanes_.at(rec.lane);
    // In Static mode every T widens the region; in Safe mode a T up to the
    // largest of the lane's fits in it as it is.
    const uint64_t room = mode_ == AdmissionMode::Safe ? lane.ephemeral_bytes() : rec.t;
    if (t > room) {
        return Status(SALUS_ERESOURCE,
                      "the graph needs " + std::to_string(t) + " ephemeral bytes, over the " +
                          std::to_string(room) +
                          " its session's lane holds for it; open the session with its "
                          "largest graph first");
    }
    lane.remove_session(id, rec.p, rec.t, rec.offset);
    lane.add_session(id, rec.p, t, rec.offset);
    all_t_.erase(all_t_.find(rec.t));
    all_t_.insert(t);
    total_t_ += t - rec.t;
    rec.t = t;
    return {};
}

AdmitResult Admission::admit(SessionId id, uint64_t p, uint64_t t) {
    AdmitResult result;
    if (p % kLaneAlignment != 0 || t % kLaneAlignment != 0) {
        result.status =
            Status(SALUS_EINVAL, "session " + std::to_string(id) + ": P = " + std::to_string(p) +
                                     " and T = " + std::to_string(t) + " must be multiples of " +
                                     std::to_string(kLaneAlignment) + " bytes");
        return result;
    }
    if (sessions_.count(id) != 0 || queue_.contains(id)) {
        result.status = Status(SALUS_EINVAL,
                               "session " + std::to_string(id) + " is already admitted or waiting");
        return result;
    }
    if (p > pool_bytes_ || t > pool_bytes_ || p + t > pool_bytes_) {
        result.status = Status(SALUS_ERESOURCE,
                               "session " + std::to_string(id) + " needs " + std::to_string(p) +
                                   " persistent + " + std::to_string(t) +
                                   " ephemeral bytes, more than the whole device memory pool of " +
                                   std::to_string(pool_bytes_) + " bytes");
        ++stats_.refused;
        return result;
    }
    CallLog log;
    const bool overtakes = !queue_.empty();
    if (queue_.may_overtake_all() && fits_after_repartition(p, t) && place({id, p, t}, &log)) {
        if (overtakes) queue_.note_overtaken_by_arrival();
    } else {
        queue_.push(id, p, t);
        result.queued = true;
        ++stats_.queued;
    }
    result.change = finish(log);
    return result;
}

ReleaseResult Admission::release(SessionId id) {
    ReleaseResult result;
    CallLog log;
    if (queue_.remove(id)) {
        admit_waiting(&log);
        result.change = finish(log);
        return result;
    }
    auto found = sessions_.find(id);
    if (found == sessions_.end()) {
        result.status = Status(SALUS_ENOSESSION, "session " + std::to_string(id) +
                                                     " is neither admitted nor waiting");
        return result;
    }
    const SessionRec rec = found->second;
    sessions_.erase(found);
    total_p_ -= rec.p;
    total_t_ -= rec.t;
    all_t_.erase(all_t_.find(rec.t));
    Lane &lane = lanes_.at(rec.lane);
    note_lane(lane, &log);
    lane.remove_session(id, rec.p, rec.t, rec.offset);
    const bool emptied = lane.empty();
    if (emptied) {
        free_.add(lane.base(), lane.capacity());
        remove_lane(lane.id());
    } else {
        trim(&lane);
    }
    admit_waiting(&log);
    if (emptied) rebalance(&log); // after the queue: waiting sessions come first
    result.change = finish(log);
    return result;
}

void Admission::admit_waiting(CallLog *log) {
    queue_.admit_waiting([&](const QueuedSession &q) {
        return fits_after_repartition(q.persistent_bytes, q.ephemeral_bytes) &&
               place({q.session, q.persistent_bytes, q.ephemeral_bytes}, log);
    });
}

bool Admission::lanes_allowed() const {
    return options_.max_lanes == 0 || lanes_.size() < options_.max_lanes;
}

bool Admission::place(const NewSession &s, CallLog *log) {
    if (try_join_existing(s, log)) {
        ++stats_.joined;
    } else if (lanes_allowed() && try_new_lane_in_free_range(s, log)) {
        ++stats_.new_lanes;
    } else if (lanes_allowed() && try_repartition_new_lane(s, log)) {
        ++stats_.repartitioned;
    } else if (try_grow_lane(s, log)) {
        ++stats_.grown;
    } else {
        // In Static mode merging frees nothing, and fits_after_repartition()
        // already guaranteed step 3 or 4.
        assert(mode_ == AdmissionMode::Safe);
        if (mode_ != AdmissionMode::Safe || !merge_and_grow(s, log)) return false;
        ++stats_.merged;
    }
    return true;
}

bool Admission::try_join_existing(const NewSession &s, CallLog *log) {
    Lane *best = nullptr;
    uint64_t best_left = 0;
    for (auto &[lane_id, lane] : lanes_) {
        const uint64_t need = lane.need_with(s.p, s.t);
        if (need > lane.capacity()) continue;
        const uint64_t left = lane.capacity() - need;
        if (best == nullptr || left < best_left) {
            best = &lane;
            best_left = left;
        }
    }
    if (best == nullptr) return false;
    const uint64_t ephemeral = best->need_with(s.p, s.t) - best->persistent_bytes() - s.p;
    if (std::optional<uint64_t> hole = best->find_hole(s.p, ephemeral)) {
        note_lane(*best, log);
        add_to_lane(best, s, *hole, log);
        return true;
    }
    // Enough room but not in one piece below the (grown) ephemeral region.
    ++stats_.in_lane_compactions;
    relayout(best->base(), best->end(), {Target{{best->id()}, best->capacity(), true}}, s, log);
    return true;
}

bool Admission::try_new_lane_in_free_range(const NewSession &s, CallLog *log) {
    const uint64_t bytes = s.p + s.t;
    std::optional<uint64_t> offset = free_.best_fit(bytes);
    if (!offset && bytes == 0) offset = 0; // a lane of capacity 0 holds no memory
    if (!offset) return false;
    free_.take(*offset, bytes);
    Lane &lane = create_lane(*offset, bytes, log);
    add_to_lane(&lane, s, *offset, log);
    return true;
}

void Admission::add_to_lane(Lane *lane, const NewSession &s, uint64_t offset, CallLog *log) {
    lane->add_session(s.id, s.p, s.t, offset);
    sessions_[s.id] = SessionRec{s.p, s.t, lane->id(), offset};
    total_p_ += s.p;
    total_t_ += s.t;
    all_t_.insert(s.t);
    log->admitted.push_back(s.id);
}

void Admission::trim(Lane *lane) {
    // The ephemeral region comes down onto the highest block; nothing moves.
    const uint64_t capacity = lane->blocks_end() - lane->base() + lane->ephemeral_bytes();
    if (capacity >= lane->capacity()) return;
    free_.add(lane->base() + capacity, lane->capacity() - capacity);
    order_.erase({lane->base(), lane->capacity(), lane->id()});
    lane->set_range(lane->base(), capacity);
    order_.emplace(lane->base(), lane->capacity(), lane->id());
}

Lane &Admission::create_lane(uint64_t base, uint64_t capacity, CallLog *log) {
    const LaneId id = next_lane_++;
    auto [it, inserted] = lanes_.emplace(id, Lane(id, base, capacity, mode_));
    assert(inserted);
    (void)inserted;
    order_.emplace(base, capacity, id);
    log->before.emplace(id, std::nullopt);
    return it->second;
}

void Admission::remove_lane(LaneId id) {
    auto it = lanes_.find(id);
    order_.erase({it->second.base(), it->second.capacity(), id});
    lanes_.erase(it);
}

void Admission::note_lane(const Lane &lane, CallLog *log) const {
    log->before.emplace(lane.id(), lane.layout()); // keeps the first snapshot
}

SessionPlacement Admission::placement_of(SessionId id, const SessionRec &rec) const {
    return {id, lanes_.at(rec.lane).layout(), rec.offset, rec.p, rec.t};
}

LayoutChange Admission::finish(const CallLog &log) {
    LayoutChange change;
    const std::set<SessionId> admitted(log.admitted.begin(), log.admitted.end());
    // Blocks admitted by this very call hold no data yet: copying them is waste.
    for (const Move &m : log.moves) {
        if (admitted.count(m.session) != 0) continue;
        change.moves.push_back(m);
        stats_.bytes_moved += m.bytes;
    }
    for (const auto &[id, before] : log.before) {
        auto it = lanes_.find(id);
        if (it == lanes_.end()) {
            if (before) change.closed.push_back(id);
            if (before && log.merged.count(id) != 0) change.pause.push_back(id);
            continue;
        }
        const LaneLayout after = it->second.layout();
        if (!before) {
            change.lanes.push_back(after);
            continue;
        }
        const bool changed = after.base != before->base || after.capacity != before->capacity ||
                             after.ephemeral_offset != before->ephemeral_offset ||
                             after.ephemeral_bytes != before->ephemeral_bytes;
        if (changed) change.lanes.push_back(after);
        if (changed || log.moved.count(id) != 0) change.pause.push_back(id);
    }
    for (SessionId id : log.relocated) {
        if (admitted.count(id) != 0) continue;
        auto it = sessions_.find(id);
        if (it != sessions_.end()) change.relocated.push_back(placement_of(id, it->second));
    }
    for (SessionId id : log.admitted) change.admitted.push_back(placement_of(id, sessions_.at(id)));
    return change;
}

} // namespace salus::lanes
