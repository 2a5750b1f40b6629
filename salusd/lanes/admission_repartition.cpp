// Re-partitioning: packing a run of lanes and free ranges so that a new lane
// appears or a lane grows, merging neighbouring lanes when even that is short.
// Every re-layout packs its run from the run's first byte, lanes in address
// order and each lane's blocks in address order from its base, so the order
// of all blocks is kept and order_moves() can sequence the copies.
#include "lanes/admission.h"

#include "lanes/move_order.h"
#include "lanes/window.h"

#include <algorithm>
#include <cassert>
#include <queue>
#include <set>

namespace salus::lanes {
uint64_t Admission::extra_for(const Lane &lane, const NewSession &s) const {
    return lane.need_with(s.p, s.t) - lane.need();
}

std::vector<Admission::PoolSegment> Admission::pool_segments() const {
    std::vector<PoolSegment> out;
    out.reserve(order_.size() + free_.size());
    auto lane_it = order_.begin();
    auto free_it = free_.by_offset().begin();
    const auto free_end = free_.by_offset().end();
    while (lane_it != order_.end() || free_it != free_end) {
        if (lane_it != order_.end() && std::get<1>(*lane_it) == 0) {
            ++lane_it; // holds no memory
            continue;
        }
        const bool take_lane = lane_it != order_.end() &&
                               (free_it == free_end || std::get<0>(*lane_it) < free_it->first);
        if (take_lane) {
            out.push_back({std::get<2>(*lane_it), std::get<0>(*lane_it), std::get<1>(*lane_it)});
            ++lane_it;
        } else {
            out.push_back({kNoLane, free_it->first, free_it->second});
            ++free_it;
        }
    }
    return out;
}

std::vector<Segment> Admission::segment_costs(const std::vector<PoolSegment> &segments) const {
    std::vector<Segment> costs(segments.size());
    for (size_t i = 0; i < segments.size(); ++i) {
        if (segments[i].lane == kNoLane) {
            costs[i] = {segments[i].bytes, 0};
        } else {
            const Lane &lane = lanes_.at(segments[i].lane);
            costs[i] = {lane.slack(), lane.persistent_bytes()};
        }
    }
    return costs;
}

size_t Admission::segment_of(const std::vector<PoolSegment> &segments, LaneId lane) {
    for (size_t i = 0; i < segments.size(); ++i) {
        if (segments[i].lane == lane) return i;
    }
    return segments.size();
}

bool Admission::try_repartition_new_lane(const NewSession &s, CallLog *log) {
    const std::vector<PoolSegment> segments = pool_segments();
    const std::vector<Segment> costs = segment_costs(segments);
    const std::optional<Window> window = cheapest_window(costs, s.p + s.t);
    if (!window) return false;
    std::vector<Target> targets;
    for (size_t i = window->first; i <= window->last; ++i) {
        if (segments[i].lane == kNoLane) continue;
        targets.push_back({{segments[i].lane}, lanes_.at(segments[i].lane).need(), false});
    }
    targets.push_back({{}, s.p + s.t, true});
    relayout(segments[window->first].begin,
             segments[window->last].begin + segments[window->last].bytes, targets, s, log);
    return true;
}

bool Admission::try_grow_lane(const NewSession &s, CallLog *log) {
    // The lane needing the fewest extra bytes; lanes of capacity 0 only when
    // nothing else exists (they need P + T, like a new lane).
    const Lane *best = nullptr;
    uint64_t best_extra = 0;
    for (const auto &[id, lane] : lanes_) {
        const uint64_t extra = extra_for(lane, s);
        const bool better = best == nullptr || extra < best_extra ||
                            (extra == best_extra && best->capacity() == 0 && lane.capacity() > 0);
        if (better) {
            best = &lane;
            best_extra = extra;
        }
    }
    if (best == nullptr) return false;

    const std::vector<PoolSegment> segments = pool_segments();
    const std::vector<Segment> costs = segment_costs(segments);
    const size_t index = segment_of(segments, best->id());
    const std::optional<Window> window = index < segments.size()
                                             ? cheapest_window_containing(costs, index, best_extra)
                                             : cheapest_window(costs, best_extra);
    if (!window) return false;

    const LaneId grown = best->id();
    const uint64_t grown_capacity = best->need_with(s.p, s.t);
    std::vector<Target> targets;
    for (size_t i = window->first; i <= window->last; ++i) {
        const LaneId id = segments[i].lane;
        if (id == kNoLane) continue;
        if (id == grown) {
            targets.push_back({{id}, grown_capacity, true});
        } else {
            targets.push_back({{id}, lanes_.at(id).need(), false});
        }
    }
    if (index == segments.size()) targets.push_back({{grown}, grown_capacity, true});
    relayout(segments[window->first].begin,
             segments[window->last].begin + segments[window->last].bytes, targets, s, log);
    return true;
}

bool Admission::merge_and_grow(const NewSession &s, CallLog *log) {
    const std::vector<PoolSegment> segments = pool_segments();
    // Groups of consecutive lanes, as a linked list over the lanes in address
    // order; group i spans lanes [i, next[i]).
    std::vector<LaneId> ids;
    std::vector<uint64_t> persistent;
    std::vector<uint64_t> ephemeral;
    uint64_t spare = 0;
    for (const PoolSegment &seg : segments) {
        if (seg.lane == kNoLane) {
            spare += seg.bytes;
            continue;
        }
        const Lane &lane = lanes_.at(seg.lane);
        ids.push_back(lane.id());
        persistent.push_back(lane.persistent_bytes());
        ephemeral.push_back(lane.max_ephemeral());
        spare += lane.slack();
    }
    assert(!ids.empty());
    if (ids.empty()) return false;
    const size_t n = ids.size();
    const uint64_t max_t = *std::max_element(ephemeral.begin(), ephemeral.end());
    const uint64_t required = s.p + (s.t > max_t ? s.t - max_t : 0);

    std::vector<size_t> next(n);
    std::vector<size_t> prev(n);
    std::vector<uint32_t> version(n, 0);
    std::vector<bool> alive(n, true);
    for (size_t i = 0; i < n; ++i) {
        next[i] = i + 1;
        prev[i] = i == 0 ? n : i - 1; // n: none
    }
    struct Pair {
        uint64_t gain;
        size_t left;
        size_t right;
        uint32_t left_version;
        uint32_t right_version;
        bool operator<(const Pair &o) const {
            if (gain != o.gain) return gain < o.gain;
            return left > o.left; // lower addresses first among equals
        }
    };
    std::priority_queue<Pair> heap;
    auto push_pair = [&](size_t left, size_t right) {
        if (left >= n || right >= n) return;
        heap.push({std::min(ephemeral[left], ephemeral[right]), left, right, version[left],
                   version[right]});
    };
    for (size_t i = 0; i + 1 < n; ++i) push_pair(i, i + 1);
    // Merging two lanes saves the smaller of their ephemeral regions.
    while (spare < required) {
        assert(!heap.empty());
        if (heap.empty()) return false; // nothing changed yet
        const Pair top = heap.top();
        heap.pop();
        if (!alive[top.left] || !alive[top.right] || next[top.left] != top.right ||
            version[top.left] != top.left_version || version[top.right] != top.right_version) {
            continue;
        }
        spare += top.gain;
        ephemeral[top.left] = std::max(ephemeral[top.left], ephemeral[top.right]);
        persistent[top.left] += persistent[top.right];
        alive[top.right] = false;
        next[top.left] = next[top.right];
        if (next[top.left] < n) prev[next[top.left]] = top.left;
        ++version[top.left];
        push_pair(prev[top.left], top.left);
        push_pair(top.left, next[top.left]);
    }

    std::vector<Target> targets;
    bool placed = false;
    for (size_t g = 0; g < n; g = next[g]) {
        Target target;
        target.members.assign(ids.begin() + static_cast<std::ptrdiff_t>(g),
                              ids.begin() + static_cast<std::ptrdiff_t>(next[g]));
        target.capacity = persistent[g] + ephemeral[g];
        if (!placed && ephemeral[g] == max_t) {
            target.gets_session = true;
            target.capacity = persistent[g] + s.p + std::max(ephemeral[g], s.t);
            placed = true;
        }
        targets.push_back(std::move(target));
    }
    relayout(0, pool_bytes_, targets, s, log);
    return true;
}

bool Admission::relayout_in_place(Lane *lane, const Target &target, const NewSession &s,
                                  CallLog *log) {
    // Packed from its base already: every block stays where it is, so the
    // lane only changes its capacity - O(log) instead of re-adding all of
    // its sessions (a flood of sessions into one growing lane stays linear).
    if (lane->blocks_end() - lane->base() != lane->persistent_bytes()) return false;
    order_.erase({lane->base(), lane->capacity(), lane->id()});
    lane->set_range(lane->base(), target.capacity);
    order_.emplace(lane->base(), lane->capacity(), lane->id());
    if (target.gets_session)
        add_to_lane(lane, s, s.p == 0 ? lane->base() : lane->blocks_end(), log);
    return true;
}

void Admission::relayout(uint64_t begin, uint64_t end, const std::vector<Target> &targets,
                         const NewSession &s, CallLog *log) {
    for (const Target &target : targets) {
        for (LaneId id : target.members) note_lane(lanes_.at(id), log);
    }
    auto admitted_here = [&](SessionId id) {
        return std::find(log->admitted.begin(), log->admitted.end(), id) != log->admitted.end();
    };
    // Sessions moving to a new lane of their own leave their lanes (in the
    // run too) first, so that those are re-laid out without them.
    for (const Target &target : targets) {
        if (!target.adopts) continue;
        const SessionRec &rec = sessions_.at(*target.adopts);
        log->moved.insert(rec.lane); // paused while it leaves
        lanes_.at(rec.lane).remove_session(*target.adopts, rec.p, rec.t, rec.offset);
    }
    free_.take_all_within(begin, end);
    std::vector<Move> relocation;
    uint64_t cursor = begin;
    for (const Target &target : targets) {
        if (target.members.empty()) {
            Lane &lane = create_lane(cursor, target.capacity, log);
            if (target.gets_session) add_to_lane(&lane, s, cursor, log);
            if (target.adopts) {
                const SessionId sid = *target.adopts;
                SessionRec &rec = sessions_.at(sid);
                if (rec.p > 0 && rec.offset != cursor) {
                    relocation.push_back({rec.offset, cursor, rec.p, sid});
                }
                log->relocated.insert(sid);
                rec.offset = cursor;
                rec.lane = lane.id();
                lane.add_session(sid, rec.p, rec.t, cursor);
            }
            cursor += target.capacity;
            continue;
        }
        if (target.members.size() == 1 && lanes_.at(target.members.front()).base() == cursor &&
            relayout_in_place(&lanes_.at(target.members.front()), target, s, log)) {
            cursor += target.capacity;
            continue;
        }
        // The members' sessions: blocks in address order, then those without one.
        std::vector<SessionId> order;
        for (LaneId id : target.members) {
            const Lane &member = lanes_.at(id);
            for (const auto &[offset, block] : member.blocks()) order.push_back(block.session);
        }
        for (LaneId id : target.members) {
            for (SessionId sid : lanes_.at(id).sessions()) {
                if (sessions_.at(sid).p == 0) order.push_back(sid);
            }
        }
        Lane &kept = lanes_.at(target.members.front());
        for (size_t i = 1; i < target.members.size(); ++i) {
            log->merged.insert(target.members[i]);
            remove_lane(target.members[i]);
        }
        order_.erase({kept.base(), kept.capacity(), kept.id()});
        kept.clear_sessions();
        kept.set_range(cursor, target.capacity);
        order_.emplace(kept.base(), kept.capacity(), kept.id());

        uint64_t at = cursor;
        for (SessionId sid : order) {
            SessionRec &rec = sessions_.at(sid);
            const uint64_t dst = rec.p == 0 ? cursor : at;
            if (rec.p > 0 && dst != rec.offset) {
                relocation.push_back({rec.offset, dst, rec.p, sid});
                // Its old lane is this one or a merged one, paused anyway.
                if (!admitted_here(sid)) log->moved.insert(kept.id());
            }
            if (dst != rec.offset || rec.lane != kept.id()) log->relocated.insert(sid);
            rec.offset = dst;
            rec.lane = kept.id();
            kept.add_session(sid, rec.p, rec.t, dst);
            at += rec.p;
        }
        if (target.gets_session) add_to_lane(&kept, s, s.p == 0 ? cursor : at, log);
        cursor += target.capacity;
    }
    assert(cursor <= end);
    free_.add(cursor, end - cursor);
    const std::vector<Move> ordered = order_moves(std::move(relocation));
    log->moves.insert(log->moves.end(), ordered.begin(), ordered.end());
}

} // namespace salus::lanes
