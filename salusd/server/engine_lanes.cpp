// The lane runner: one thread per lane that runs what the scheduler picks,
// and the hand-out of picked iterations to lanes.
//
// A lane thread that finishes an iteration writes the reply to the client
// itself, asks the scheduler for its lane's next iteration and starts it at
// once: a job switch never waits for the event loop.
//
// Holds (see sched/scheduler.h): a lane the scheduler holds for a session
// sleeps until the hold's end at the latest, then decides again itself.
//
// Streams. Every lane runs on a stream of execution of its own (on CUDA a
// cudaStream_t with its cuBLAS handle). start() creates one per possible
// lane before it measures and claims the pool, so that nothing the driver
// allocates later moves device memory; a lane takes a free stream when it
// opens and returns it when it is retired.
#include "server/engine.h"

#include "device/health.h"
#include "server/clock.h"
#include "server/log.h"
#include "server/replies.h"

#include <new>
#include <unistd.h>

namespace salus::server {

namespace {

using ull = unsigned long long;

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

} // namespace

void Engine::schedule_locked(uint64_t now) {
    if (layout_pause_ != LayoutPause::None || run_state_ != RunState::Running) return;
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
            switches_.record(start - lane->last_end_ns);
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
        if (!lost_message.empty()) raise_run_state_locked(RunState::Lost);
        session->running = false;
        session->running_request_id = 0;
        session->writing = true;
        (void)scheduler_.iteration_finished(session->id, end);
        idle_.notify_all();
        if (layout_pause_ == LayoutPause::Waiting && scheduler_.running_iterations() == 0) {
            layout_pause_ = LayoutPause::Quiesced;
        }
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
        // waited for this reply to be out, and, shutting down, hears that it is.
        if (handed_off || session->close_requested || wake_after_replies_) {
            IterationDone rest;
            rest.session = session;
            rest.report = false;
            rest.handed_off = handed_off;
            if (handed_off) rest.reply = std::move(reply);
            rest.offset = written;
            done_queue_.push_back(std::move(rest));
            if (async_open_) uv_async_send(&async_);
        } else if (run_state_ == RunState::Lost && busy_lanes_ == 0 && async_open_) {
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

} // namespace salus::server
