// The engine as the server sees it: set-up of the streams and the pool,
// admission, the sessions' life and the status reply.
#include "server/engine.h"

#include "server/clock.h"
#include "server/error_name.h"
#include "server/log.h"

#include <algorithm>

namespace salus::server {

namespace {

using ull = unsigned long long;
using lanes::AdmitResult;
using lanes::QueuedSession;
using lanes::ReleaseResult;

} // namespace

Engine::Engine(uv_loop_t *loop, Device *device, EngineOptions options, DoneFn done,
               AdmittedFn admitted, LostFn lost)
    : loop_(loop), device_(device), options_(options), done_(std::move(done)),
      admitted_(std::move(admitted)), on_lost_(std::move(lost)),
      admission_(options.pool_bytes, options.mode, options.admission), scheduler_(options.policy) {
    async_.data = this;
    scheduler_.set_hold_max(options.hold_max_ns);
}

Engine::~Engine() {
    join();
    device_->release(pool_, options_.pool_bytes);
}

void Engine::set_event_log(EventLog *log) {
    events_ = log;
    std::lock_guard<std::mutex> lock(mutex_);
    scheduler_.set_observer(log ? this : nullptr);
}

void Engine::switched(sched::LaneId lane, sched::SessionId from, sched::SessionId to,
                      sched::TimeNs now) {
    events_->record(now, sched::EventKind::job_switch, to, lane, from);
}

void Engine::held(sched::LaneId lane, sched::SessionId session, sched::TimeNs until,
                  sched::TimeNs now) {
    events_->record(now, sched::EventKind::hold, session, lane, until - now);
}

void Engine::hold_ended(sched::LaneId lane, sched::SessionId session, sched::HoldEnd why,
                        sched::TimeNs now) {
    events_->record(now, sched::EventKind::unhold, session, lane, static_cast<uint64_t>(why));
}

Status Engine::start() {
    Status st;
    // Streams first: on CUDA each brings a cuBLAS handle whose device memory
    // must be taken before the default pool measures what is free.
    for (uint32_t i = 0; i < options_.admission.max_lanes; ++i) {
        std::unique_ptr<Stream> stream = device_->create_stream(&st);
        if (!st.ok()) {
            return Status(st.code(), "creating the stream of lane " + std::to_string(i + 1) + ": " +
                                         st.message());
        }
        free_streams_.push_back(std::move(stream));
    }
    if (options_.pool_bytes == 0) {
        options_.pool_bytes = device_->default_pool_bytes(options_.pool_reserve, &st);
        SALUS_RETURN_IF_ERROR(st);
        admission_ = Admission(options_.pool_bytes, options_.mode, options_.admission);
    }
    pool_ = static_cast<uint8_t *>(device_->allocate(options_.pool_bytes, &st));
    SALUS_RETURN_IF_ERROR(st);
    uv_async_init(loop_, &async_, [](uv_async_t *handle) {
        static_cast<Engine *>(handle->data)->collect_reports();
    });
    uv_prepare_init(loop_, &prepare_);
    prepare_.data = this;
    uv_prepare_start(&prepare_, [](uv_prepare_t *handle) {
        static_cast<Engine *>(handle->data)->collect_reports();
    });
    async_open_ = true;
    return {};
}

Status Engine::admit(const SessionPtr &session, uint32_t *position) {
    const MemoryPlan &plan = session->exe->plan();
    AdmitResult result = admission_.admit(session->id, plan.persistent_bytes, plan.ephemeral_bytes);
    if (events_) {
        const uint64_t now = monotonic_ns();
        log_event(now, sched::EventKind::submit, session->id, 0, session->name);
        if (!result.status.ok()) {
            log_event(now, sched::EventKind::refuse, session->id, 0,
                      error_code_name(result.status.code()));
        } else if (result.queued) {
            log_event(now, sched::EventKind::wait, session->id);
        }
    }
    SALUS_RETURN_IF_ERROR(result.status);
    sessions_[session->id] = session;
    if (result.queued) {
        *position = queue_position(session->id);
        return {};
    }
    *position = 0;
    apply(std::move(result.change));
    return {};
}

uint32_t Engine::queue_position(uint64_t session_id) const {
    std::vector<QueuedSession> queue = admission_.queue();
    for (size_t i = 0; i < queue.size(); ++i) {
        if (queue[i].session == session_id) return static_cast<uint32_t>(i + 1);
    }
    return 0;
}

void Engine::enqueue(const SessionPtr &session, QueuedIteration iteration) {
    uint64_t now = monotonic_ns();
    std::lock_guard<std::mutex> lock(mutex_);
    session->queue.push_back(std::move(iteration));
    log_event(now, sched::EventKind::request, session->id);
    Status st = scheduler_.iteration_queued(session->id, now);
    if (!st.ok()) {
        SALUS_LOG_ERROR("session %llu: %s", static_cast<ull>(session->id), st.message().c_str());
    }
    schedule_locked(now);
}

bool Engine::idle(const SessionPtr &session) {
    std::lock_guard<std::mutex> lock(mutex_);
    return !session->running && !session->writing && session->queue.empty();
}

void Engine::close(const SessionPtr &session) {
    uint64_t now = monotonic_ns();
    bool running = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        session->queue.clear();
        if (session->admitted) (void)scheduler_.session_closed(session->id, now);
        log_event(now, sched::EventKind::close, session->id);
        runnable_.erase(session->id);
        running = session->running;
        session->release_when_done = running;
        // Its turn may pass to another session (fifo hands over the device).
        schedule_locked(now);
    }
    // Still in use by its running iteration: collect_reports releases it after.
    if (!running) release_memory(session);
}

void Engine::release_memory(const SessionPtr &session) {
    ReleaseResult result = admission_.release(session->id);
    sessions_.erase(session->id);
    placements_.erase(session->id);
    {
        std::lock_guard<std::mutex> lock(mutex_);
        session->admitted = false;
        (void)scheduler_.forget(session->id);
    }
    if (result.status.ok()) apply(std::move(result.change));
}

void Engine::set_policy(sched::Policy policy) {
    std::lock_guard<std::mutex> lock(mutex_);
    scheduler_.set_policy(policy, monotonic_ns());
    schedule_locked(monotonic_ns());
}

void Engine::set_hold_max(uint64_t ns) {
    std::lock_guard<std::mutex> lock(mutex_);
    scheduler_.set_hold_max(ns);
    // With 0, lanes held now are released at once.
    schedule_locked(monotonic_ns());
}

sched::Policy Engine::policy() {
    std::lock_guard<std::mutex> lock(mutex_);
    return scheduler_.policy();
}

std::optional<sched::SessionStats> Engine::stats(uint64_t session_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    return scheduler_.stats(session_id);
}

Status Engine::add_graph(const SessionPtr &session, std::unique_ptr<Executable> exe,
                         uint32_t *index) {
    auto p = placements_.find(session->id);
    if (p == placements_.end()) {
        return Status(SALUS_EINTERNAL,
                      "session " + std::to_string(session->id) + " holds no memory yet");
    }
    const uint64_t t = exe->plan().ephemeral_bytes;
    SALUS_RETURN_IF_ERROR(admission_.grow_ephemeral(session->id, t));
    p->second.ephemeral_bytes = std::max(p->second.ephemeral_bytes, t);
    // Bound where the session is now; if its other graphs still point at an
    // older place, its lane re-points them all before its next work.
    Status st = exe->bind(pool_ + p->second.persistent_offset,
                          pool_ + layouts_.at(p->second.lane.lane).ephemeral_offset);
    if (!st.ok()) return st;
    std::lock_guard<std::mutex> lock(mutex_);
    session->added.push_back(std::move(exe));
    *index = static_cast<uint32_t>(session->added.size());
    return {};
}

std::optional<SessionPlacement> Engine::placement(uint64_t session_id) const {
    auto it = placements_.find(session_id);
    if (it == placements_.end()) return std::nullopt;
    SessionPlacement p = it->second;
    p.lane = layouts_.at(p.lane.lane); // lanes change without their sessions
    return p;
}

EngineStatus Engine::status() {
    EngineStatus st;
    st.pool_bytes = admission_.pool_bytes();
    st.free_bytes = admission_.free_bytes();
    st.lanes = admission_.lanes();
    for (const QueuedSession &q : admission_.queue()) st.queued.push_back(q.session);
    std::vector<uint64_t> samples;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const LaneInfo &info : st.lanes) {
            auto lane = lanes_.find(info.layout.lane);
            st.lane_streams.push_back(lane == lanes_.end() ? "" : lane->second->stream);
        }
        st.switches = switches_.count();
        st.holds = scheduler_.hold_stats();
        samples = switches_.recent();
    }
    const SwitchPercentiles p = SwitchLatencies::percentiles(std::move(samples));
    st.switch_p50_ns = p.p50_ns;
    st.switch_p99_ns = p.p99_ns;
    return st;
}

} // namespace salus::server
