// The layout applier: admission's layout changes made real on the loop
// thread (lanes opened and retired, persistent blocks moved, executables
// re-pointed).
//
// Layout changes that move memory (re-partitioning) pause scheduling, wait
// until no iteration runs, move the persistent blocks, re-point the affected
// executables and resume; the others apply at once. Changes apply in the
// order admission made them.
#include "server/engine.h"

#include "device/health.h"
#include "server/clock.h"
#include "server/log.h"

namespace salus::server {

namespace {

using ull = unsigned long long;
using lanes::Move;

} // namespace

void Engine::apply(LayoutChange change) {
    if (change.empty()) return;
    for (const SessionPlacement &p : change.admitted) {
        log_event(monotonic_ns(), sched::EventKind::admit, p.session, p.lane.lane);
    }
    bool moves_memory = !change.pause.empty() || !change.moves.empty();
    if (pending_changes_.empty() && !moves_memory) {
        apply_now(change);
        return;
    }
    if (pending_changes_.empty()) log_event(monotonic_ns(), sched::EventKind::pause, 0);
    pending_changes_.push_back(std::move(change));
    bool idle;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (layout_pause_ == LayoutPause::None) layout_pause_ = LayoutPause::Waiting;
        idle = scheduler_.running_iterations() == 0;
    }
    // Otherwise the lane that finishes the last running iteration says so.
    if (idle) apply_pending();
}

void Engine::apply_pending() {
    const bool paused = !pending_changes_.empty();
    while (!pending_changes_.empty()) {
        apply_now(pending_changes_.front());
        pending_changes_.pop_front();
    }
    if (paused) log_event(monotonic_ns(), sched::EventKind::resume, 0);
    std::lock_guard<std::mutex> lock(mutex_);
    layout_pause_ = LayoutPause::None;
    schedule_locked(monotonic_ns());
}

bool Engine::bind_admitted(Session &session) {
    const SessionPlacement p = *placement(session.id);
    Status st;
    for (size_t k = 0; k < session.graph_count() && st.ok(); ++k) {
        st = session.graph(static_cast<uint32_t>(k))
                 ->bind(pool_ + p.persistent_offset, pool_ + p.lane.ephemeral_offset);
    }
    session.persistent_offset = session.bound_persistent = p.persistent_offset;
    session.bound_ephemeral = p.lane.ephemeral_offset;
    if (st.ok()) return true;
    // Device memory is in an unknown state: nothing can trust it any more.
    SALUS_LOG_ERROR("session %llu: %s", static_cast<ull>(session.id), st.message().c_str());
    report_device_lost(st.message());
    return false;
}

// Loop thread; no iteration runs in a lane this change touches.
void Engine::apply_now(const LayoutChange &change) {
    uint64_t now = monotonic_ns();
    uint64_t moved_bytes = 0;
    for (const Move &m : change.moves) {
        Status st = device_->move_within(pool_ + m.dst, pool_ + m.src, m.bytes);
        if (!st.ok()) {
            // A block half moved: no session's memory can be trusted any more.
            SALUS_LOG_ERROR("moving %llu bytes of session %llu: %s", static_cast<ull>(m.bytes),
                            static_cast<ull>(m.session), st.message().c_str());
            report_device_lost("moving persistent memory: " + st.message());
        }
        moved_bytes += m.bytes;
    }
    if (!change.moves.empty() || !change.relocated.empty()) {
        SALUS_LOG_INFO("lanes re-partitioned: %zu block(s) moved (%llu bytes), %zu lane(s) "
                       "changed, %zu retired, %zu session(s) relocated",
                       change.moves.size(), static_cast<ull>(moved_bytes), change.lanes.size(),
                       change.closed.size(), change.relocated.size());
    }

    // Retire lanes first, so that their streams serve the lanes this change
    // opens: there are never more lanes than streams.
    std::vector<std::thread> retired;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (LaneId id : change.closed) {
            auto it = lanes_.find(id);
            if (it == lanes_.end()) continue;
            it->second->stop = true;
            it->second->wake.notify_one();
            retired.push_back(std::move(it->second->thread));
        }
    }
    for (std::thread &t : retired) t.join();
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (LaneId id : change.closed) {
            auto it = lanes_.find(id);
            if (it == lanes_.end()) continue;
            if (it->second->exec) free_streams_.push_back(std::move(it->second->exec));
            lanes_.erase(it);
        }
        for (const LaneLayout &layout : change.lanes) {
            auto it = lanes_.find(layout.lane);
            if (it == lanes_.end()) {
                start_lane_locked(layout);
            } else {
                it->second->layout = layout;
            }
        }
    }

    // Only the layouts and the relocated sessions' offsets change here: each
    // session's graphs follow on its lane before its next work runs
    // (lane_main), so a change costs nothing per idle session of a lane.
    for (LaneId id : change.closed) layouts_.erase(id);
    for (const LaneLayout &layout : change.lanes) layouts_[layout.lane] = layout;
    for (const SessionPlacement &p : change.relocated) {
        auto old = placements_.find(p.session);
        bool lane_changed = old == placements_.end() || old->second.lane.lane != p.lane.lane;
        placements_[p.session] = p;
        auto session = sessions_.find(p.session);
        std::lock_guard<std::mutex> lock(mutex_);
        if (session != sessions_.end()) session->second->persistent_offset = p.persistent_offset;
        if (lane_changed) {
            (void)scheduler_.session_moved(p.session, sched_lane(p.lane.lane), now);
            log_event(now, sched::EventKind::move, p.session, p.lane.lane);
        }
    }

    for (const SessionPlacement &p : change.admitted) {
        auto it = sessions_.find(p.session);
        if (it == sessions_.end()) continue;
        SessionPtr session = it->second;
        placements_[p.session] = p;
        // The first bind writes the initial values. A session whose values
        // could not be written never runs: the lost device fails it.
        if (!bind_admitted(*session)) continue;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            session->admitted = true;
            runnable_[session->id] = session;
            Status st = scheduler_.session_admitted(session->id, sched_lane(p.lane.lane),
                                                    session->params, now);
            log_event(now, sched::EventKind::join, session->id, p.lane.lane);
            if (!st.ok()) {
                SALUS_LOG_ERROR("session %llu: %s", static_cast<ull>(session->id),
                                st.message().c_str());
            }
        }
        admitted_(session);
    }
}

} // namespace salus::server
