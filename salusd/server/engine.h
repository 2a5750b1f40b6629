// The engine: the device memory pool cut into lanes (lanes/), the iteration
// scheduler (sched/) and one thread per lane that runs what it picks. The
// server's facade; its parts live in files of their own:
//   engine.cpp             streams and pool set-up, admission, sessions, status
//   engine_lanes.cpp       the lane threads: wait, run, reply; streams; holds
//   engine_completion.cpp  how the loop hears of finished iterations
//   engine_layout.cpp      applying admission's layout changes
//   engine_lost.cpp        a lost device
//   engine_shutdown.cpp    halting and stopping
//
// Threads. Admission, layout changes and accounting belong to the loop
// thread. The scheduler, every session's queue and its running flag are
// shared with the lane threads under one mutex.
#pragma once

#include "device/device.h"
#include "lanes/admission.h"
#include "sched/scheduler.h"
#include "server/event_log.h"
#include "server/session.h"
#include "server/switch_latencies.h"

#include <uv.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace salus::server {

using lanes::Admission;
using lanes::AdmissionMode;
using lanes::AdmissionOptions;
using lanes::LaneId;
using lanes::LaneInfo;
using lanes::LaneLayout;
using lanes::LayoutChange;
using lanes::SessionPlacement;

struct EngineOptions {
    uint64_t pool_bytes = 0;   // 0: the device's default, measured by start()
    uint64_t pool_reserve = 0; // what the default pool leaves free
    AdmissionMode mode = AdmissionMode::Safe;
    AdmissionOptions admission;
    sched::Policy policy = sched::Policy::pack;
    uint64_t hold_max_ns = 0; // see Scheduler::set_hold_max
};

// One iteration that ran, as the loop hears of it: first its accounting,
// then, if the lane could not write all of its reply, the rest to send.
struct IterationDone {
    SessionPtr session;
    bool report = true; // false: only the rest of a reply
    bool counts = true; // an iteration (not a variable read or write)
    uint64_t request_id = 0;
    Status status;
    uint64_t run_ns = 0;
    uint32_t request_bytes = 0;
    uint64_t reply_bytes = 0; // QueuedIteration::reply_bytes
    // Set when the lane could not write the whole reply: the loop sends
    // `reply` from byte `offset` (the lane reserved the channel).
    bool handed_off = false;
    Reply reply;
    size_t offset = 0;
};

struct EngineStatus {
    uint64_t pool_bytes = 0;
    uint64_t free_bytes = 0;
    std::vector<LaneInfo> lanes;
    std::vector<std::string> lane_streams; // parallel to lanes: each one's stream
    std::vector<lanes::SessionId> queued;
    uint64_t switches = 0;
    uint64_t switch_p50_ns = 0;
    uint64_t switch_p99_ns = 0;
    sched::HoldStats holds;
};

// What a lost device leaves unanswered: the iterations still queued and the
// sessions that were never admitted (their CreateSession is unanswered).
struct LostWork {
    std::vector<std::pair<SessionPtr, QueuedIteration>> iterations;
    std::vector<SessionPtr> waiting;
};

class Engine : private sched::Observer {
  public:
    using DoneFn = std::function<void(IterationDone &done)>;
    // The session holds memory and a lane and may run (loop thread).
    using AdmittedFn = std::function<void(const SessionPtr &session)>;
    // The device is lost and no lane runs any more (loop thread, once):
    // `message` is what to tell the clients of `work`.
    using LostFn = std::function<void(const std::string &message, LostWork &work)>;

    Engine(uv_loop_t *loop, Device *device, EngineOptions options, DoneFn done, AdmittedFn admitted,
           LostFn lost);
    ~Engine();
    Engine(const Engine &) = delete;
    Engine &operator=(const Engine &) = delete;

    // Creates the streams, then claims the device memory pool: the only
    // device allocation while serving.
    Status start();
    // Before start(): every event goes to `log` (not owned; it must outlive
    // the engine's threads). Without one nothing is recorded.
    void set_event_log(EventLog *log);
    uint64_t pool_bytes() const { return options_.pool_bytes; }
    // Loop: stops the lanes after their running iterations and closes the
    // async handle; join() afterwards waits for the threads.
    void stop();
    void join();

    // Loop thread. Admits the session now (admitted callback, maybe before
    // this returns) or queues it (*position > 0: its place in the queue).
    Status admit(const SessionPtr &session, uint32_t *position);
    void enqueue(const SessionPtr &session, QueuedIteration iteration);
    // Loop thread. Binds another graph of an admitted session (prepared
    // with Executable::prepare_shared) and appends it: *index is its graph
    // number. Its T may exceed the session's only up to the ephemeral
    // region of the session's lane (SALUS_ERESOURCE beyond).
    Status add_graph(const SessionPtr &session, std::unique_ptr<Executable> exe, uint32_t *index);
    // The session ends: queued iterations are dropped, its memory returns to
    // the pool once no iteration of it runs, and waiting sessions are admitted.
    void close(const SessionPtr &session);
    // No iteration queued or running.
    bool idle(const SessionPtr &session);
    // The client asked to close it: the lane finishing its last iteration
    // wakes the loop at once.
    void mark_closing(const SessionPtr &session);
    // Hands the loop every finished iteration not yet reported, then applies
    // a layout change that waited for them and checks for a lost device.
    // Lanes wake the loop only when it must act; otherwise reports wait for
    // its next turn (every loop iteration collects them), so a busy client
    // does not pay a loop wake-up per iteration.
    void collect_reports();

    // An iteration halt() took away from its session, for the caller to answer.
    struct Halted {
        SessionPtr session;
        uint64_t request_id = 0;
        bool running = false; // on its lane now, else it was queued
    };
    // Loop, for shutting down: during the drain, lanes wake the loop after
    // every reply they write, so that it sees at once when the last one is out.
    void set_wake_after_replies(bool on);
    // Loop: no iteration starts any more; the queued ones are dropped. Returns
    // those and the running ones, whose results nobody will wait for.
    std::vector<Halted> halt();
    // Any thread: waits up to `timeout` until no iteration runs; whether none does.
    bool wait_idle(std::chrono::milliseconds timeout);

    void set_policy(sched::Policy policy);
    void set_hold_max(uint64_t ns);
    sched::Policy policy();
    // Applies from the next time memory is released (see Admission).
    void set_max_overtakes(uint32_t n) { admission_.set_max_overtakes(n); }
    AdmissionMode mode() const { return options_.mode; }
    std::optional<sched::SessionStats> stats(uint64_t session_id);
    std::optional<SessionPlacement> placement(uint64_t session_id) const;
    EngineStatus status();
    uint32_t queue_position(uint64_t session_id) const;
    // Whether the device is lost, with what to tell clients (any thread).
    bool device_lost(std::string *message) const;

  private:
    struct Lane {
        LaneLayout layout;
        std::thread thread;
        std::condition_variable wake;
        SessionPtr assigned;               // the session whose iteration `next` to start
        QueuedIteration next;              // taken off its queue when assigned, so a
                                           // close that drops the queue cannot take it
        std::atomic<bool> has_work{false}; // `assigned` is set: read without the mutex
        bool stop = false;
        // Job-switch measurement: when its last iteration ended, and whose.
        uint64_t last_end_ns = 0;
        uint64_t last_session = 0;
        bool chained = false;         // its next iteration was picked as the last one ended
        std::unique_ptr<Stream> exec; // where its iterations run
        std::string stream;           // how operators find exec, e.g. "cuda stream 3, thread 4242"
    };

    // Where a layout change that moves memory stands (engine_layout.cpp).
    enum class LayoutPause : uint8_t {
        None,     // none waits: scheduling goes on
        Waiting,  // one waits for the running iterations; nothing starts
        Quiesced, // ...and none runs any more: the loop applies it
    };
    // Whether iterations may start. It only ever moves down this list.
    enum class RunState : uint8_t {
        Running,
        Halted, // halt() or stop(): nothing starts any more
        Lost,   // the device is lost: nothing starts, lanes wake the loop
    };
    // With mutex_ held.
    void raise_run_state_locked(RunState state) { run_state_ = std::max(run_state_, state); }
    static sched::LaneId sched_lane(LaneId lane) { return static_cast<sched::LaneId>(lane); }
    void release_memory(const SessionPtr &session);

    // engine_lanes.cpp: the lane runner.
    // `label` receives the lane's stream string once the thread is bound to
    // the device.
    void lane_main(Lane *lane, std::promise<std::string> *label);
    // Lane thread, mutex_ held: sleeps until the lane is given work or
    // stopped; while the scheduler holds the lane, no longer than the hold.
    void wait_for_work_locked(Lane *lane, std::unique_lock<std::mutex> &lock);
    Reply run_work(const Session &session, Executable *exe, Stream *stream,
                   const QueuedIteration &work, Status *status);
    // With mutex_ held: asks the scheduler and hands out what it picks.
    void schedule_locked(uint64_t now);
    void start_lane_locked(const LaneLayout &layout);

    // engine_layout.cpp: the layout applier.
    void apply(LayoutChange change);
    void apply_now(const LayoutChange &change);
    void apply_pending();
    // Binds a session's graphs where admission placed it (the first bind
    // writes the initial values). False (and the device reported lost) when
    // the device failed.
    bool bind_admitted(Session &session);

    // engine_lost.cpp.
    // Loop: once the device is lost and no lane is busy, hands what is left
    // to on_lost_ (once).
    void check_lost();

    // engine_completion.cpp: the completion path.
    // With mutex_ held, after a lane queued a report: whether the loop must
    // wake for it now.
    bool loop_needed_locked(const IterationDone &done) const;

    // The event log, if there is one (one branch when there is none).
    void log_event(uint64_t t, sched::EventKind kind, uint64_t session, LaneId lane = 0,
                   std::string_view text = {}) {
        if (events_) events_->record(t, kind, session, static_cast<sched::LaneId>(lane), 0, text);
    }
    // sched::Observer, set only with an event log; mutex_ is held.
    void switched(sched::LaneId lane, sched::SessionId from, sched::SessionId to,
                  sched::TimeNs now) override;
    void held(sched::LaneId lane, sched::SessionId session, sched::TimeNs until,
              sched::TimeNs now) override;
    void hold_ended(sched::LaneId lane, sched::SessionId session, sched::HoldEnd why,
                    sched::TimeNs now) override;

    uv_loop_t *loop_;
    Device *device_;
    EngineOptions options_;
    DoneFn done_;
    AdmittedFn admitted_;
    LostFn on_lost_;
    EventLog *events_ = nullptr;
    uint8_t *pool_ = nullptr;
    Admission admission_;
    bool lost_handled_ = false; // loop thread
    uv_async_t async_;
    uv_prepare_t prepare_;
    bool async_open_ = false;

    // Loop thread only.
    std::map<uint64_t, SessionPtr> sessions_;         // admitted or waiting for admission
    std::map<uint64_t, SessionPlacement> placements_; // .lane: see layouts_
    std::map<LaneId, LaneLayout> layouts_;            // every lane's current layout
    std::deque<LayoutChange> pending_changes_;

    std::mutex mutex_; // everything below, and Session's engine fields
    sched::Scheduler scheduler_;
    std::map<LaneId, std::unique_ptr<Lane>> lanes_;
    std::map<uint64_t, SessionPtr> runnable_; // admitted and bound: what decide() may pick
    std::vector<sched::Start> starts_;
    std::vector<IterationDone> done_queue_;
    LayoutPause layout_pause_ = LayoutPause::None;
    RunState run_state_ = RunState::Running;
    bool wake_after_replies_ = false; // set_wake_after_replies()
    std::condition_variable idle_;    // an iteration finished: for wait_idle()
    unsigned busy_lanes_ = 0;         // lanes given an iteration whose reply is not yet written
    std::vector<std::unique_ptr<Stream>> free_streams_; // of no lane now
    SwitchLatencies switches_;
};

} // namespace salus::server
