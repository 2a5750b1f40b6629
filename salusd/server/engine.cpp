#include "server/engine.h"

#include "device/health.h"
#include "server/clock.h"
#include "server/error_name.h"
#include "server/log.h"
#include "server/replies.h"

#include <algorithm>
#include <new>
#include <unistd.h>

namespace salus::server {

namespace {

using ull = unsigned long long;
using lanes::AdmitResult;
using lanes::Move;
using lanes::QueuedSession;
using lanes::ReleaseResult;

// Recent job switches kept for the percentiles of the status reply.
constexpr size_t kSwitchSamples = 1 << 16;
// How long an idle lane spins for new work before it sleeps.
constexpr uint64_t kSpinNs = 50'000;

// The event log's detail for a lane's work: empty for an iteration.
const char *work_name(Work work) {
    switch (work) {
    case Work::Iteration:
        return "";
    case Work::ReadVariables:
        return "read-variables";
    case Work::WriteVariables:
        return "write-variables";
    }
    return "";
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

sched::LaneId sched_lane(LaneId lane) {
    return static_cast<sched::LaneId>(lane);
}

} // namespace

Engine::Engine(uv_loop_t *loop, Device *device, EngineOptions options, DoneFn done,
               AdmittedFn admitted, LostFn lost)
    : loop_(loop), device_(device), options_(options), done_(std::move(done)),
      admitted_(std::move(admitted)), on_lost_(std::move(lost)),
      admission_(options.pool_bytes, options.mode, options.admission), scheduler_(options.policy),
      switch_ns_(kSwitchSamples, 0) {
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
    uv_async_init(loop_, &async_,
                  [](uv_async_t *handle) { static_cast<Engine *>(handle->data)->on_async(); });
    uv_prepare_init(loop_, &prepare_);
    prepare_.data = this;
    uv_prepare_start(&prepare_,
                     [](uv_prepare_t *handle) { static_cast<Engine *>(handle->data)->drain(); });
    async_open_ = true;
    return {};
}

void Engine::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        // Lanes post to the async handle only while it is open, under the mutex.
        async_open_ = false;
        for (auto &[id, lane] : lanes_) {
            lane->stop = true;
            lane->wake.notify_one();
        }
    }
    if (!uv_is_closing(reinterpret_cast<uv_handle_t *>(&async_)) && pool_) {
        uv_close(reinterpret_cast<uv_handle_t *>(&async_), nullptr);
        uv_close(reinterpret_cast<uv_handle_t *>(&prepare_), nullptr);
    }
}

void Engine::join() {
    std::vector<std::thread> threads;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        for (auto &[id, lane] : lanes_) {
            lane->stop = true;
            lane->wake.notify_one();
            if (lane->thread.joinable()) threads.push_back(std::move(lane->thread));
        }
    }
    for (std::thread &t : threads) t.join();
    std::lock_guard<std::mutex> lock(mutex_);
    // Results nobody will send; sessions are freed with them.
    done_queue_.clear();
    lanes_.clear();
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
    // Still in use by its running iteration: on_async releases it after.
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

void Engine::schedule_locked(uint64_t now) {
    if (paused_ || stopping_ || halted_ || lost_) return;
    starts_.clear();
    const bool held = scheduler_.decide(now, starts_).has_value();
    for (const sched::Start &start : starts_) {
        auto lane = lanes_.find(start.lane);
        auto session = runnable_.find(start.session);
        if (lane == lanes_.end() || session == runnable_.end() || session->second->queue.empty()) {
            SALUS_LOG_ERROR("scheduler picked session %llu on lane %u, which do not exist or "
                            "have nothing queued",
                            static_cast<ull>(start.session), start.lane);
            (void)scheduler_.iteration_finished(start.session, now);
            continue;
        }
        Session &picked = *session->second;
        picked.running = true;
        lane->second->next = std::move(picked.queue.front());
        picked.queue.pop_front();
        ++busy_lanes_; // until its reply is written
        lane->second->assigned = session->second;
        lane->second->has_work.store(true, std::memory_order_release);
        lane->second->wake.notify_one();
    }
    if (!held) return;
    // A hold begins when an iteration ends, normally on the lane's own
    // thread, which then sleeps until the hold's end at the latest; one
    // begun on another thread (a start refused above) must wake it.
    for (auto &[id, lane] : lanes_) {
        if (!lane->assigned && scheduler_.hold(sched_lane(id))) lane->wake.notify_one();
    }
}

void Engine::wait_for_work_locked(Lane *lane, std::unique_lock<std::mutex> &lock) {
    const sched::LaneId id = sched_lane(lane->layout.lane);
    uint64_t decided_at = 0; // the end of a hold this thread decided at
    while (!lane->assigned && !lane->stop) {
        std::optional<sched::Scheduler::Hold> hold = scheduler_.hold(id);
        uint64_t now = monotonic_ns();
        if (!hold || hold->until == decided_at) {
            lane->wake.wait(lock);
        } else if (now < hold->until) {
            lane->wake.wait_for(lock, std::chrono::nanoseconds(hold->until - now));
        } else {
            // The hold ended with no event to say so: decide now. Paused,
            // the hold stays until scheduling resumes, which decides again.
            schedule_locked(now);
            decided_at = hold->until;
        }
    }
}

void Engine::record_switch_locked(uint64_t ns) {
    switch_ns_[switch_next_] = ns;
    switch_next_ = (switch_next_ + 1) % switch_ns_.size();
    ++switches_;
}

void Engine::lane_main(Lane *lane, std::promise<std::string> *label) {
    // A lane's thread runs on its stream's device from the first iteration.
    // Without a stream (start_lane_locked reported why) the device is lost
    // and the lane only fails what it is given.
    if (lane->exec) {
        if (Status st = lane->exec->attach_thread(); !st.ok()) {
            report_device_lost("a lane thread cannot use the device: " + st.message());
        }
    }
    // How operators find the lane: its stream and its thread id, as top -H
    // and perf show it. The lane is visible only once this is known.
    const std::string thread = "thread " + std::to_string(gettid());
    const std::string name = lane->exec ? lane->exec->name() : "no stream";
    label->set_value(name.empty() ? thread : name + ", " + thread);
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        if (!lane->assigned && !lane->stop) {
            // Work often follows within microseconds (the client's next
            // request): spin briefly before sleeping, since waking a thread
            // whose core went idle costs tens of microseconds on a VM.
            lock.unlock();
            uint64_t until = monotonic_ns() + kSpinNs;
            while (!lane->has_work.load(std::memory_order_acquire) && monotonic_ns() < until) {
                cpu_relax();
            }
            lock.lock();
        }
        wait_for_work_locked(lane, lock);
        if (!lane->assigned) return;
        SessionPtr session = std::move(lane->assigned);
        lane->assigned = nullptr;
        lane->has_work.store(false, std::memory_order_relaxed);
        QueuedIteration iteration = std::move(lane->next);
        session->running_request_id = iteration.request_id;
        const bool is_iteration = iteration.work == Work::Iteration;
        uint64_t index = is_iteration ? ++session->started : session->started;
        // Looked up under the mutex: the loop may be adding a graph.
        Executable *exe = session->graph(iteration.graph);
        // Its memory moved since its graphs were bound (a layout change
        // while it was idle): they follow here, not on the loop.
        const uint64_t want_persistent = session->persistent_offset;
        const uint64_t want_ephemeral = lane->layout.ephemeral_offset;
        std::vector<Executable *> rebound;
        if (session->bound_persistent != want_persistent ||
            session->bound_ephemeral != want_ephemeral) {
            for (size_t k = 0; k < session->graph_count(); ++k) {
                rebound.push_back(session->graph(static_cast<uint32_t>(k)));
            }
        }
        uint64_t start = monotonic_ns();
        if (lane->chained && lane->last_session != session->id) {
            record_switch_locked(start - lane->last_end_ns);
        }
        log_event(start, sched::EventKind::start, session->id, lane->layout.lane,
                  work_name(iteration.work));
        lock.unlock();

        IterationDone done;
        uint64_t run_ns = 0;
        done.session = session;
        done.counts = is_iteration;
        done.request_id = iteration.request_id;
        done.request_bytes = iteration.request->size();
        done.reply_bytes = iteration.reply_bytes;
        Reply reply;
        std::string lost_message;
        try {
            Status st;
            for (Executable *graph : rebound) {
                if (st.ok()) st = graph->bind(pool_ + want_persistent, pool_ + want_ephemeral);
            }
            if (st.ok()) {
                session->bound_persistent = want_persistent;
                session->bound_ephemeral = want_ephemeral;
            } else {
                report_device_lost(st.message());
            }
            // Nothing more runs on a lost device; an iteration that fails
            // because the device was lost says so instead of its own error.
            if (st.ok() && !device_lost(&lost_message)) {
                reply = run_work(*session, exe, lane->exec.get(), iteration, &st);
            }
            if (!st.ok() || !lost_message.empty()) {
                if (device_lost(&lost_message)) st = Status(SALUS_EEXEC, lost_message);
            }
            run_ns = monotonic_ns() - start;
            done.run_ns = run_ns;
            if (st.ok() && is_iteration) {
                reply = iteration_reply(iteration.request_id, session->id, index, *exe,
                                        start - iteration.arrival_ns, done.run_ns);
            } else if (!st.ok()) {
                reply = error_reply(iteration.request_id, st.code(), st.message());
            }
            done.status = std::move(st);
        } catch (const std::bad_alloc &) {
            done.status = Status(SALUS_ENOMEM, "out of host memory running the iteration");
            reply = error_reply(iteration.request_id, done.status.code(), done.status.message());
        }
        // The feeds are consumed: free the request here rather than on the loop.
        iteration.feeds.clear();
        iteration.request.reset();
        uint64_t end = monotonic_ns();

        // Account before the client sees the reply, so that whatever it asks
        // next (a listing, a close) finds this iteration counted.
        lock.lock();
        // The device's time: the lane's clock around the work (run_work
        // returns once the stream has finished it).
        log_event(start + run_ns, sched::EventKind::end, session->id, lane->layout.lane,
                  done.status.ok() ? "" : "failed");
        if (!lost_message.empty()) lost_ = true;
        session->running = false;
        session->running_request_id = 0;
        session->writing = true;
        (void)scheduler_.iteration_finished(session->id, end);
        idle_.notify_all();
        if (paused_ && scheduler_.running_iterations() == 0) quiesced_ = true;
        bool wake = loop_needed_locked(done);
        done_queue_.push_back(std::move(done));
        schedule_locked(end);
        if (wake && async_open_) uv_async_send(&async_);
        lock.unlock();

        size_t written = 0;
        bool handed_off =
            session->channel->try_write(reply, &written) == ReplyChannel::Result::HandOff;

        lock.lock();
        session->writing = false;
        --busy_lanes_;
        // The loop sends what the lane could not, closes a session that
        // waited for this reply to be out, and, draining, hears that it is.
        if (handed_off || session->close_requested || wake_after_replies_) {
            IterationDone rest;
            rest.session = session;
            rest.report = false;
            rest.handed_off = handed_off;
            if (handed_off) rest.reply = std::move(reply);
            rest.offset = written;
            done_queue_.push_back(std::move(rest));
            if (async_open_) uv_async_send(&async_);
        } else if (lost_ && busy_lanes_ == 0 && async_open_) {
            // The loop fails what is left once no lane is busy.
            uv_async_send(&async_);
        }
        // A job switch is measured from here, when the kernels finished: it
        // covers the reply (outputs copied and written), the accounting and
        // the scheduler's decision.
        lane->last_end_ns = start + run_ns;
        lane->last_session = session->id;
        lane->chained = lane->assigned != nullptr;
    }
}

// Lane thread. An iteration's reply is built afterwards, once its run time
// is known; the other work answers here.
Reply Engine::run_work(const Session &session, Executable *exe, Stream *stream,
                       const QueuedIteration &work, Status *status) {
    switch (work.work) {
    case Work::Iteration:
        *status = exe->run(stream, work.feeds.data(), work.feeds.size());
        return Reply();
    case Work::ReadVariables:
        return read_variables_reply(work.request_id, session.id, *exe, stream, work.tensors,
                                    status);
    case Work::WriteVariables:
        for (const Feed &f : work.feeds) {
            *status = exe->write_persistent(stream, f.tensor, f.data);
            if (!status->ok()) {
                *status =
                    Status(status->code(), "writing \"" + exe->graph().tensors[f.tensor].name +
                                               "\": " + status->message());
                return Reply();
            }
        }
        return write_variables_reply(work.request_id, session.id,
                                     static_cast<uint32_t>(work.feeds.size()));
    }
    return Reply();
}

bool Engine::loop_needed_locked(const IterationDone &done) const {
    // Reports pile up without a wake only while a client keeps the loop busy.
    constexpr size_t kMaxUnreported = 64;
    const Session &s = *done.session;
    return s.release_when_done || s.close_requested || quiesced_ || lost_ ||
           done_queue_.size() >= kMaxUnreported || s.channel->reading_paused();
}

void Engine::mark_closing(const SessionPtr &session) {
    std::lock_guard<std::mutex> lock(mutex_);
    session->close_requested = true;
}

void Engine::drain() {
    on_async();
}

void Engine::on_async() {
    std::vector<IterationDone> batch;
    bool quiesced;
    bool nothing;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        nothing = done_queue_.empty() && !quiesced_;
        batch.swap(done_queue_);
        quiesced = quiesced_;
    }
    if (nothing) {
        check_lost();
        return;
    }
    for (IterationDone &done : batch) {
        bool release;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            release = done.session->release_when_done && !done.session->running;
            if (release) done.session->release_when_done = false;
        }
        done_(done);
        if (release) release_memory(done.session);
    }
    if (quiesced) apply_pending();
    check_lost();
}

bool Engine::device_lost(std::string *message) const {
    std::string why;
    if (!salus::device_lost(&why)) return false;
    if (message) {
        *message = std::string(device_->type() == DeviceType::CUDA ? "the GPU context is lost: "
                                                                   : "the device is lost: ") +
                   why;
    }
    return true;
}

void Engine::check_lost() {
    if (lost_handled_ || !salus::device_lost(nullptr)) return;
    LostWork work;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        lost_ = true;
        // A lane still running or writing wakes the loop when it is done.
        if (busy_lanes_ > 0) return;
        for (auto &[id, session] : sessions_) {
            while (!session->queue.empty()) {
                work.iterations.emplace_back(session, std::move(session->queue.front()));
                session->queue.pop_front();
            }
            if (!session->admitted) work.waiting.push_back(session);
        }
    }
    lost_handled_ = true;
    std::string message;
    device_lost(&message);
    on_lost_(message, work);
}

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
        paused_ = true;
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
    paused_ = false;
    quiesced_ = false;
    schedule_locked(monotonic_ns());
}

void Engine::start_lane_locked(const LaneLayout &layout) {
    auto lane = std::make_unique<Lane>();
    lane->layout = layout;
    if (!free_streams_.empty()) {
        lane->exec = std::move(free_streams_.back());
        free_streams_.pop_back();
    } else {
        // Only without a lane limit (max_lanes 0): start() prepared none.
        Status st;
        lane->exec = device_->create_stream(&st);
        if (!lane->exec) report_device_lost("cannot create a stream: " + st.message());
    }
    Lane *raw = lane.get();
    lanes_[layout.lane] = std::move(lane);
    std::promise<std::string> label;
    std::future<std::string> named = label.get_future();
    raw->thread = std::thread(&Engine::lane_main, this, raw, &label);
    // The thread names the lane before it needs mutex_ (held here): status
    // replies never see a lane without its stream.
    raw->stream = named.get();
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

void Engine::set_wake_after_replies(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_after_replies_ = on;
}

std::vector<Engine::Halted> Engine::halt() {
    std::vector<Halted> halted;
    std::lock_guard<std::mutex> lock(mutex_);
    halted_ = true;
    uint64_t now = monotonic_ns();
    // An iteration given to a lane that has not started it yet is taken back.
    for (auto &[id, lane] : lanes_) {
        if (!lane->assigned) continue;
        SessionPtr session = std::move(lane->assigned);
        lane->assigned = nullptr;
        lane->has_work.store(false, std::memory_order_relaxed);
        session->running = false;
        --busy_lanes_;
        (void)scheduler_.iteration_finished(session->id, now);
        halted.push_back({session, lane->next.request_id, false});
        lane->next = QueuedIteration();
    }
    for (auto &[id, session] : sessions_) {
        if (session->running && session->running_request_id != 0) {
            halted.push_back({session, session->running_request_id, true});
        }
        for (const QueuedIteration &iteration : session->queue) {
            halted.push_back({session, iteration.request_id, false});
        }
        session->queue.clear();
    }
    return halted;
}

bool Engine::wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return idle_.wait_for(lock, timeout, [&] { return scheduler_.running_iterations() == 0; });
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
        st.switches = switches_;
        st.holds = scheduler_.hold_stats();
        size_t n = std::min<uint64_t>(switches_, switch_ns_.size());
        samples.assign(switch_ns_.begin(), switch_ns_.begin() + static_cast<long>(n));
    }
    if (!samples.empty()) {
        std::sort(samples.begin(), samples.end());
        st.switch_p50_ns = samples[(samples.size() - 1) / 2];
        st.switch_p99_ns = samples[(samples.size() - 1) * 99 / 100];
    }
    return st;
}

} // namespace salus::server
