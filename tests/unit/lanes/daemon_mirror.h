// A stand-in for the daemon in the lanes tests: it applies every LayoutChange
// to a model of the pool in which each session's persistent block holds its
// own pattern, knows only what the changes told it, and checks after each
// change that
//  - the moves, run one after another (memmove each), kept every block intact;
//  - what it was told matches what Admission reports (no relocation or lane
//    change left unsaid), and every lane it touched was paused;
//  - no two live allocations overlap, lanes lie in the pool and keep their
//    condition (recomputed from the sessions' own sizes).
// Between changes everything outside persistent blocks is overwritten with
// garbage, as iterations would, so no move may rely on it.
#pragma once

#include "lanes/admission.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace salus::lanes::testing {

class DaemonMirror {
  public:
    // One model cell per kLaneAlignment bytes.
    explicit DaemonMirror(const Admission &admission)
        : admission_(admission), cells_(admission.pool_bytes() / kLaneAlignment, 0) {
        scribble();
    }

    // Applies the change of an admit() or, with `released`, of a release().
    // Returns "" or the first problem found.
    std::string apply(const LayoutChange &change, std::optional<SessionId> released = {}) {
        if (released) sessions_.erase(*released);
        std::string err = check_pause(change);
        if (!err.empty()) return err;
        err = run_moves(change.moves);
        if (!err.empty()) return err;
        for (LaneId id : change.closed) {
            if (lanes_.erase(id) == 0) return "closed lane " + std::to_string(id) + " never seen";
        }
        for (const LaneLayout &layout : change.lanes) lanes_[layout.lane] = layout;
        for (const SessionPlacement &p : change.relocated) {
            auto it = sessions_.find(p.session);
            if (it == sessions_.end()) return "relocated unknown session";
            it->second = p;
        }
        for (const SessionPlacement &p : change.admitted) {
            if (sessions_.count(p.session) != 0) return "admitted twice";
            sessions_[p.session] = p;
            write_pattern(p);
        }
        for (auto &[id, p] : sessions_)
            p.lane = lanes_.count(p.lane.lane) ? lanes_[p.lane.lane] : p.lane;
        err = compare_with_admission();
        if (!err.empty()) return err;
        err = check_patterns();
        if (!err.empty()) return err;
        err = check_layout();
        if (!err.empty()) return err;
        scribble();
        return {};
    }

    size_t sessions() const { return sessions_.size(); }
    size_t lanes() const { return lanes_.size(); }

  private:
    static uint64_t pattern(SessionId id, uint64_t cell) {
        uint64_t x = (id + 1) * 0x9E3779B97F4A7C15ull ^ (cell + 1) * 0xC2B2AE3D27D4EB4Full;
        x ^= x >> 31;
        return x | 1; // garbage is always even
    }

    void write_pattern(const SessionPlacement &p) {
        const uint64_t first = p.persistent_offset / kLaneAlignment;
        for (uint64_t i = 0; i < p.persistent_bytes / kLaneAlignment; ++i) {
            cells_[first + i] = pattern(p.session, i);
        }
    }

    std::string check_patterns() const {
        for (const auto &[id, p] : sessions_) {
            const uint64_t first = p.persistent_offset / kLaneAlignment;
            for (uint64_t i = 0; i < p.persistent_bytes / kLaneAlignment; ++i) {
                if (cells_[first + i] != pattern(id, i)) {
                    return "session " + std::to_string(id) + ": byte " +
                           std::to_string(i * kLaneAlignment) + " of its block corrupted";
                }
            }
        }
        return {};
    }

    // Everything outside persistent blocks becomes garbage.
    void scribble() {
        ++epoch_;
        std::vector<std::pair<uint64_t, uint64_t>> blocks;
        for (const auto &[id, p] : sessions_) {
            if (p.persistent_bytes > 0) {
                blocks.emplace_back(p.persistent_offset / kLaneAlignment,
                                    (p.persistent_offset + p.persistent_bytes) / kLaneAlignment);
            }
        }
        std::sort(blocks.begin(), blocks.end());
        uint64_t cursor = 0;
        auto fill = [&](uint64_t end) {
            for (; cursor < end; ++cursor)
                cells_[cursor] = (epoch_ * 0x100000001B3ull + cursor) << 1;
        };
        for (const auto &[begin, end] : blocks) {
            fill(begin);
            cursor = std::max(cursor, end);
        }
        fill(cells_.size());
    }

    std::string check_pause(const LayoutChange &change) const {
        const std::set<LaneId> pause(change.pause.begin(), change.pause.end());
        for (const Move &m : change.moves) {
            auto it = sessions_.find(m.session);
            if (it == sessions_.end()) return "move of a block the daemon never initialised";
            if (pause.count(it->second.lane.lane) == 0) {
                return "lane " + std::to_string(it->second.lane.lane) + " not paused for a move";
            }
        }
        for (const LaneLayout &l : change.lanes) {
            auto it = lanes_.find(l.lane);
            if (it == lanes_.end()) continue; // new lane
            const LaneLayout &old = it->second;
            const bool same = old.base == l.base && old.capacity == l.capacity &&
                              old.ephemeral_offset == l.ephemeral_offset &&
                              old.ephemeral_bytes == l.ephemeral_bytes;
            if (!same && pause.count(l.lane) == 0) {
                return "lane " + std::to_string(l.lane) + " changed without a pause";
            }
        }
        for (const SessionPlacement &p : change.relocated) {
            auto it = sessions_.find(p.session);
            if (it != sessions_.end() && pause.count(it->second.lane.lane) == 0) {
                return "session " + std::to_string(p.session) + " relocated from a running lane";
            }
        }
        return {};
    }

    std::string run_moves(const std::vector<Move> &moves) {
        std::map<SessionId, uint64_t> at;
        for (const auto &[id, p] : sessions_) at[id] = p.persistent_offset;
        for (const Move &m : moves) {
            auto it = sessions_.find(m.session);
            if (it == sessions_.end()) return "move of an unknown block";
            if (m.src != at[m.session] || m.bytes != it->second.persistent_bytes) {
                return "move of session " + std::to_string(m.session) +
                       " does not start where its block is";
            }
            if (m.src % kLaneAlignment || m.dst % kLaneAlignment || m.bytes % kLaneAlignment ||
                m.dst + m.bytes > admission_.pool_bytes()) {
                return "move out of the pool or unaligned";
            }
            std::memmove(&cells_[m.dst / kLaneAlignment], &cells_[m.src / kLaneAlignment],
                         m.bytes / kLaneAlignment * sizeof(uint64_t));
            at[m.session] = m.dst;
        }
        return {};
    }

    static bool same_layout(const LaneLayout &a, const LaneLayout &b) {
        return a.lane == b.lane && a.base == b.base && a.capacity == b.capacity &&
               a.ephemeral_offset == b.ephemeral_offset && a.ephemeral_bytes == b.ephemeral_bytes;
    }

    std::string compare_with_admission() const {
        const std::vector<LaneInfo> lanes = admission_.lanes();
        if (lanes.size() != lanes_.size()) {
            return "daemon knows " + std::to_string(lanes_.size()) + " lanes, admission has " +
                   std::to_string(lanes.size());
        }
        size_t sessions = 0;
        for (const LaneInfo &info : lanes) {
            auto it = lanes_.find(info.layout.lane);
            if (it == lanes_.end() || !same_layout(it->second, info.layout)) {
                return "lane " + std::to_string(info.layout.lane) + " changed unreported";
            }
            for (const SessionPlacement &p : info.sessions) {
                auto s = sessions_.find(p.session);
                if (s == sessions_.end() || s->second.lane.lane != p.lane.lane ||
                    s->second.persistent_offset != p.persistent_offset ||
                    s->second.persistent_bytes != p.persistent_bytes) {
                    return "session " + std::to_string(p.session) + " moved unreported";
                }
            }
            sessions += info.sessions.size();
        }
        if (sessions != sessions_.size()) return "the daemon knows sessions admission does not";
        return {};
    }

    // Independent of Admission's own checks: from the sizes alone.
    std::string check_layout() const {
        struct Interval {
            uint64_t begin, end;
            std::string what;
        };
        std::vector<Interval> live;
        std::vector<Interval> ranges;
        std::map<LaneId, std::vector<const SessionPlacement *>> members;
        for (const auto &[id, p] : sessions_) members[p.lane.lane].push_back(&p);
        for (const auto &[id, l] : lanes_) {
            if (l.base + l.capacity > admission_.pool_bytes()) return "lane past the pool";
            if (l.ephemeral_offset + l.ephemeral_bytes != l.base + l.capacity) {
                return "ephemeral region not at the top of its lane";
            }
            if (l.capacity > 0) ranges.push_back({l.base, l.base + l.capacity, "lane"});
            if (l.ephemeral_bytes > 0) {
                live.push_back({l.ephemeral_offset, l.ephemeral_offset + l.ephemeral_bytes,
                                "ephemeral region of lane " + std::to_string(id)});
            }
            uint64_t sum_p = 0, sum_t = 0, max_t = 0;
            for (const SessionPlacement *p : members[id]) {
                sum_p += p->persistent_bytes;
                sum_t += p->ephemeral_bytes;
                max_t = std::max(max_t, p->ephemeral_bytes);
                if (p->persistent_bytes == 0) continue;
                if (p->persistent_offset < l.base ||
                    p->persistent_offset + p->persistent_bytes > l.ephemeral_offset) {
                    return "block of session " + std::to_string(p->session) + " outside its lane";
                }
                live.push_back({p->persistent_offset, p->persistent_offset + p->persistent_bytes,
                                "block of session " + std::to_string(p->session)});
            }
            const bool safe = admission_.mode() == AdmissionMode::Safe;
            const uint64_t need = sum_p + (safe ? max_t : sum_t);
            if (need > l.capacity) return "lane " + std::to_string(id) + " breaks its condition";
            if (l.ephemeral_bytes < (safe ? max_t : sum_t)) return "ephemeral region too small";
        }
        for (auto *list : {&live, &ranges}) {
            std::sort(list->begin(), list->end(),
                      [](const Interval &a, const Interval &b) { return a.begin < b.begin; });
            for (size_t i = 1; i < list->size(); ++i) {
                if ((*list)[i].begin < (*list)[i - 1].end) {
                    return (*list)[i - 1].what + " overlaps " + (*list)[i].what;
                }
            }
        }
        uint64_t lane_bytes = 0;
        for (const Interval &r : ranges) lane_bytes += r.end - r.begin;
        if (lane_bytes + admission_.free_bytes() != admission_.pool_bytes()) {
            return "lanes + free != pool";
        }
        return {};
    }

    const Admission &admission_;
    std::vector<uint64_t> cells_;
    uint64_t epoch_ = 0;
    std::map<SessionId, SessionPlacement> sessions_;
    std::map<LaneId, LaneLayout> lanes_;
};

} // namespace salus::lanes::testing
