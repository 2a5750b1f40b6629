// Rebalancing after a release: a lane holding several sessions gives one of
// them a new lane of its own while lanes are allowed, so that a lane that went
// idle does not leave parallel capacity unused (see admission.h).
#include "lanes/admission.h"

#include "lanes/window.h"

#include <algorithm>
#include <tuple>

namespace salus::lanes {

void Admission::rebalance(CallLog *log) {
    if (!options_.rebalance || !lanes_allowed()) return;
    std::vector<const Lane *> crowded;
    for (const auto &[id, lane] : lanes_) {
        if (lane.sessions().size() >= 2) crowded.push_back(&lane);
    }
    if (crowded.empty()) return;
    // The most sessions first; the lowest id among equals (deterministic).
    std::stable_sort(crowded.begin(), crowded.end(), [](const Lane *a, const Lane *b) {
        return a->sessions().size() > b->sessions().size();
    });
    // The whole pool is a run that contains every lane: a session can move
    // exactly when the pool's spare bytes cover what its move adds.
    const uint64_t spare = free_bytes() + slack_bytes();
    for (const Lane *lane : crowded) {
        if (rebalance_lane(*lane, spare, log)) {
            ++stats_.rebalanced;
            return;
        }
    }
}

bool Admission::rebalance_lane(const Lane &lane, uint64_t spare, CallLog *log) {
    // Sessions that can leave without changing the address order of blocks:
    // the lowest block (its new lane goes right below), the highest (right
    // above), any session without a block (above).
    struct Candidate {
        SessionId id;
        bool below;
        uint64_t extra; // bytes its move adds: its P + T less what its lane gives back
    };
    // A move may take at most half the spare bytes: when memory is short,
    // splitting a lane only for the next admission to grow or merge one again
    // would move memory back and forth.
    std::vector<Candidate> candidates;
    auto consider = [&](SessionId sid, bool below) {
        const SessionRec &rec = sessions_.at(sid);
        const uint64_t extra = rec.p + rec.t - (lane.need() - lane.need_without(rec.p, rec.t));
        if (2 * extra <= spare) candidates.push_back({sid, below, extra});
    };
    if (!lane.blocks().empty()) {
        consider(lane.blocks().begin()->second.session, true);
        consider(lane.blocks().rbegin()->second.session, false);
    }
    for (SessionId sid : lane.sessions()) {
        if (sessions_.at(sid).p == 0) consider(sid, false);
    }
    if (candidates.empty()) return false;

    const std::vector<PoolSegment> segments = pool_segments();
    const std::vector<Segment> costs = segment_costs(segments);
    const size_t index = segment_of(segments, lane.id());

    // The cheapest: least persistent data in the run, then the smallest P.
    std::optional<std::tuple<uint64_t, uint64_t, SessionId>> best_key;
    Candidate best{};
    Window best_window;
    for (const Candidate &c : candidates) {
        const SessionRec &rec = sessions_.at(c.id);
        if (rec.p + rec.t == 0) {
            // Needs no memory: a lane of capacity 0, no run, no copy.
            best_key = std::make_tuple(0, 0, c.id);
            best = c;
            break;
        }
        if (index == segments.size()) continue; // capacity 0: holds only sessions of 0 bytes
        const std::optional<Window> window = cheapest_window_containing(costs, index, c.extra);
        if (!window) continue;
        const auto key = std::make_tuple(window->cost, rec.p, c.id);
        if (!best_key || key < *best_key) {
            best_key = key;
            best = c;
            best_window = *window;
        }
    }
    if (!best_key) return false;

    const SessionRec rec = sessions_.at(best.id);
    if (rec.p + rec.t == 0) {
        note_lane(lane, log);
        log->moved.insert(lane.id()); // paused while its session leaves
        Lane &from = lanes_.at(lane.id());
        from.remove_session(best.id, rec.p, rec.t, rec.offset);
        Lane &to = create_lane(0, 0, log);
        to.add_session(best.id, 0, 0, 0);
        sessions_.at(best.id).lane = to.id();
        sessions_.at(best.id).offset = 0;
        log->relocated.insert(best.id);
        return true;
    }

    std::vector<Target> targets;
    const Target own{{}, rec.p + rec.t, false, best.id};
    for (size_t i = best_window.first; i <= best_window.last; ++i) {
        const LaneId id = segments[i].lane;
        if (id == kNoLane) continue;
        if (id != lane.id()) {
            targets.push_back({{id}, lanes_.at(id).need(), false, std::nullopt});
            continue;
        }
        if (best.below) targets.push_back(own);
        targets.push_back({{id}, lane.need_without(rec.p, rec.t), false, std::nullopt});
        if (!best.below) targets.push_back(own);
    }
    relayout(segments[best_window.first].begin,
             segments[best_window.last].begin + segments[best_window.last].bytes, targets,
             NewSession{0, 0, 0}, log);
    return true;
}

} // namespace salus::lanes
