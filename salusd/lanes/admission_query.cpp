// Admission: queries and the invariant check.
#include "lanes/admission.h"

#include <algorithm>

namespace salus::lanes {

uint64_t Admission::used_bytes() const {
    uint64_t used = 0;
    for (const auto &[id, lane] : lanes_) used += lane.need();
    return used;
}

uint64_t Admission::slack_bytes() const {
    uint64_t slack = 0;
    for (const auto &[id, lane] : lanes_) slack += lane.slack();
    return slack;
}

std::vector<LaneInfo> Admission::lanes() const {
    std::vector<LaneInfo> out;
    out.reserve(lanes_.size());
    for (const auto &[base, capacity, id] : order_) {
        const Lane &lane = lanes_.at(id);
        LaneInfo info;
        info.layout = lane.layout();
        info.persistent_bytes = lane.persistent_bytes();
        info.slack_bytes = lane.slack();
        for (SessionId sid : lane.sessions()) {
            info.sessions.push_back(placement_of(sid, sessions_.at(sid)));
        }
        std::sort(info.sessions.begin(), info.sessions.end(),
                  [](const SessionPlacement &a, const SessionPlacement &b) {
                      if (a.persistent_offset != b.persistent_offset) {
                          return a.persistent_offset < b.persistent_offset;
                      }
                      return a.session < b.session;
                  });
        out.push_back(std::move(info));
    }
    return out;
}

std::optional<SessionPlacement> Admission::placement(SessionId id) const {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return std::nullopt;
    return placement_of(id, it->second);
}

std::string Admission::check_invariants() const {
    std::string err = free_.check();
    if (!err.empty()) return err;
    if (order_.size() != lanes_.size()) return "lane address index out of step with the lanes";
    if (options_.max_lanes != 0 && lanes_.size() > options_.max_lanes) {
        return "more lanes than max_lanes";
    }

    size_t sessions_in_lanes = 0;
    for (const auto &[id, lane] : lanes_) {
        const std::string name = "lane " + std::to_string(id) + ": ";
        err = lane.check();
        if (!err.empty()) return err;
        if (lane.empty()) return name + "empty but not closed";
        if (lane.end() > pool_bytes_) return name + "ends past the pool";
        if (lane.base() % kLaneAlignment != 0 || lane.capacity() % kLaneAlignment != 0) {
            return name + "range not aligned";
        }
        if (order_.count({lane.base(), lane.capacity(), id}) == 0) {
            return name + "missing from the address index";
        }
        for (SessionId sid : lane.sessions()) {
            auto rec = sessions_.find(sid);
            if (rec == sessions_.end())
                return name + "holds unknown session " + std::to_string(sid);
            const SessionRec &r = rec->second;
            if (r.lane != id) return name + "session " + std::to_string(sid) + " thinks otherwise";
            if (lane.capacity() == 0 && (r.p != 0 || r.t != 0)) {
                return name + "capacity 0 but session " + std::to_string(sid) + " needs memory";
            }
            if (r.p == 0) {
                if (r.offset != lane.base()) return name + "empty block not at the base";
                continue;
            }
            auto block = lane.blocks().find(r.offset);
            if (block == lane.blocks().end() || block->second.session != sid ||
                block->second.bytes != r.p) {
                return name + "block of session " + std::to_string(sid) + " not where recorded";
            }
        }
        sessions_in_lanes += lane.sessions().size();
    }
    if (sessions_in_lanes != sessions_.size()) return "an admitted session is in no lane";

    // Lanes and free ranges tile the pool: no byte lost, none counted twice.
    uint64_t cursor = 0;
    for (const PoolSegment &seg : pool_segments()) {
        if (seg.begin != cursor) {
            return std::string(seg.begin < cursor ? "overlap" : "gap") + " at " +
                   std::to_string(std::min(seg.begin, cursor)) + " in the pool";
        }
        cursor += seg.bytes;
    }
    if (cursor != pool_bytes_)
        return "lanes and free ranges cover " + std::to_string(cursor) + " of " +
               std::to_string(pool_bytes_) + " bytes";
    if (free_bytes() + used_bytes() + slack_bytes() != pool_bytes_) {
        return "free + used + slack != pool";
    }

    uint64_t sum_p = 0;
    uint64_t sum_t = 0;
    uint64_t max_t = 0;
    for (const auto &[sid, rec] : sessions_) {
        sum_p += rec.p;
        sum_t += rec.t;
        max_t = std::max(max_t, rec.t);
    }
    if (sum_p != total_p_ || sum_t != total_t_ || all_t_.size() != sessions_.size() ||
        (all_t_.empty() ? 0 : *all_t_.rbegin()) != max_t) {
        return "running totals of P and T out of step";
    }

    // The waiting sessions admit_waiting() would try must not fit: else they would
    // have been admitted.
    const std::vector<QueuedSession> waiting = queue_.entries();
    const size_t eligible = queue_.eligible_prefix();
    for (size_t i = 0; i < waiting.size(); ++i) {
        const QueuedSession &q = waiting[i];
        if (sessions_.count(q.session) != 0) {
            return "session " + std::to_string(q.session) + " both admitted and waiting";
        }
        if (q.overtaken > options_.max_overtakes) {
            return "session " + std::to_string(q.session) + " overtaken " +
                   std::to_string(q.overtaken) + " times";
        }
        if (i < eligible && fits_after_repartition(q.persistent_bytes, q.ephemeral_bytes)) {
            return "waiting session " + std::to_string(q.session) + " (position " +
                   std::to_string(i) + ") fits but was not admitted";
        }
    }
    return {};
}

} // namespace salus::lanes
