// The event loop of salus-sim: simulated time, the scheduler core and
// admission driven as salusd's engine drives them (server/engine.cpp).
#include "sim.h"

#include "lanes/admission.h"
#include "sched/scheduler.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <queue>
#include <random>
#include <set>
#include <tuple>
#include <utility>

namespace salus::sim {

namespace {

using lanes::LaneId;
using lanes::LayoutChange;

// Events at one instant run in this order, then the scheduler decides once:
// iteration ends first (they free lanes and memory), then new jobs, then the
// requests of synchronous clients, then wake-ups for holds.
enum class Ev : uint8_t { end, submit, request, wake };

struct Event {
    TimeNs t;
    Ev kind;
    uint64_t seq; // keeps events of one instant and kind in the order they were made
    size_t job;

    bool operator>(const Event &o) const {
        return std::tie(t, kind, seq) > std::tie(o.t, o.kind, o.seq);
    }
};

struct JobState {
    bool joined = false;  // the scheduler has its session
    bool started = false; // its first iteration has started
    bool running = false;
    LaneId running_on = lanes::kNoLane;
    bool ready = false; // an iteration queued and not started
    TimeNs ready_since = 0;
    uint64_t requested = 0;       // iterations its client has queued so far
    LaneId lane = lanes::kNoLane; // as the last LayoutChange applied said
};

sched::SessionId session_of(size_t job) {
    return job + 1;
}

class Simulator : private sched::Observer {
  public:
    Simulator(const std::vector<JobSpec> &jobs, const SimOptions &options)
        : jobs_(jobs), options_(options), state_(jobs.size()), scheduler_(options.policy),
          admission_(
              options.memory_bytes, options.admission,
              lanes::AdmissionOptions{options.max_overtakes, options.lanes, options.rebalance}),
          rng_(options.seed) {
        scheduler_.set_hold_max(options.hold_max_ns);
        scheduler_.set_observer(this);
        scheduler_.reserve(jobs.size());
        result_.jobs.resize(jobs.size());
    }

    SimResult run() {
        for (size_t j = 0; j < jobs_.size(); ++j) push(jobs_[j].submit_ns, Ev::submit, j);
        while (!events_.empty() && result_.error.empty()) {
            now_ = events_.top().t;
            while (!events_.empty() && events_.top().t == now_) {
                Event e = events_.top();
                events_.pop();
                dispatch(e);
            }
            // The last running iteration of a pause has ended.
            if (paused_ && scheduler_.running_iterations() == 0) apply_pending();
            if (!paused_) decide();
            sample();
            if (options_.check) check();
        }
        for (size_t j = 0; j < jobs_.size() && result_.error.empty(); ++j) {
            const JobResult &r = result_.jobs[j];
            if (r.status == JobStatus::done && r.iterations_done != jobs_[j].iterations) {
                fail("job " + jobs_[j].name + " never finished");
            }
        }
        result_.bytes_moved = admission_.stats().bytes_moved;
        return std::move(result_);
    }

  private:
    void push(TimeNs t, Ev kind, size_t job) { events_.push({t, kind, next_seq_++, job}); }

    void log(EventKind kind, size_t job, uint32_t lane = 0, uint64_t value = 0) {
        result_.log.push_back({now_, kind, job, lane, value});
    }

    // What only the scheduler core knows, logged as salusd logs it.
    void switched(sched::LaneId lane, sched::SessionId from, sched::SessionId to, TimeNs) override {
        log(EventKind::job_switch, to - 1, lane, from - 1);
    }
    void held(sched::LaneId lane, sched::SessionId session, TimeNs until, TimeNs now) override {
        log(EventKind::hold, session - 1, lane, until - now);
    }
    void hold_ended(sched::LaneId lane, sched::SessionId session, sched::HoldEnd why,
                    TimeNs) override {
        log(EventKind::unhold, session - 1, lane, static_cast<uint64_t>(why));
    }

    void fail(const std::string &message) {
        if (result_.error.empty()) {
            result_.error = "t=" + std::to_string(now_) + "ns: " + message;
        }
    }

    void expect_ok(const Status &st) {
        if (!st.ok()) fail(st.message());
    }

    void dispatch(const Event &e) {
        switch (e.kind) {
        case Ev::end:
            on_end(e.job);
            break;
        case Ev::submit:
            on_submit(e.job);
            break;
        case Ev::request:
            on_request(e.job);
            break;
        case Ev::wake:
            wakes_.erase(e.t);
            break; // only makes the loop decide
        }
    }

    void on_submit(size_t j) {
        const JobSpec &job = jobs_[j];
        log(EventKind::submit, j);
        lanes::AdmitResult r =
            admission_.admit(session_of(j), job.persistent_bytes, job.ephemeral_bytes);
        if (!r.status.ok()) {
            result_.jobs[j].status = JobStatus::refused;
            result_.jobs[j].reason = r.status.message();
            log(EventKind::refuse, j);
            return;
        }
        if (r.queued) log(EventKind::wait, j);
        after_admission_call();
        apply(std::move(r.change));
    }

    void on_request(size_t j) {
        log(EventKind::request, j);
        queue_iteration(j);
    }

    void queue_iteration(size_t j) {
        JobState &s = state_[j];
        ++s.requested;
        expect_ok(scheduler_.iteration_queued(session_of(j), now_));
        if (!s.running) {
            s.ready = true;
            s.ready_since = now_;
        }
    }

    void on_end(size_t j) {
        const JobSpec &job = jobs_[j];
        JobState &s = state_[j];
        JobResult &r = result_.jobs[j];
        log(EventKind::end, j, s.running_on);
        expect_ok(scheduler_.iteration_finished(session_of(j), now_));
        s.running = false;
        running_ephemeral_ -= job.ephemeral_bytes;
        lane_busy_.erase(s.running_on);
        ++r.iterations_done;
        if (r.iterations_done == job.iterations) {
            close(j);
            return;
        }
        // A pipelined client queued this one when the last one started.
        if (s.requested > r.iterations_done) {
            s.ready = true;
            s.ready_since = now_;
        } else if (options_.client == ClientModel::sync) {
            push(now_ + options_.think_ns, Ev::request, j);
        }
    }

    void close(size_t j) {
        JobResult &r = result_.jobs[j];
        r.end_ns = now_;
        if (auto stats = scheduler_.stats(session_of(j))) r.run_ns = stats->run_ns;
        expect_ok(scheduler_.session_closed(session_of(j), now_));
        expect_ok(scheduler_.forget(session_of(j)));
        state_[j].joined = false;
        joined_persistent_ -= jobs_[j].persistent_bytes;
        log(EventKind::close, j);
        lanes::ReleaseResult released = admission_.release(session_of(j));
        expect_ok(released.status);
        after_admission_call();
        apply(std::move(released.change));
    }

    // Records how often each session still waiting for memory has been overtaken.
    void after_admission_call() {
        for (const lanes::QueuedSession &q : admission_.queue()) {
            result_.jobs[q.session - 1].overtaken = q.overtaken;
        }
    }

    // As Engine::apply: a change that pauses lanes or moves memory waits for
    // every running iteration to end, and so does every change after it.
    void apply(LayoutChange change) {
        for (const lanes::SessionPlacement &p : change.admitted) {
            const size_t j = p.session - 1;
            result_.jobs[j].admitted_ns = now_;
            log(EventKind::admit, j, p.lane.lane);
        }
        if (change.empty()) return;
        const bool moves_memory = !change.pause.empty() || !change.moves.empty();
        if (pending_.empty() && !moves_memory) {
            apply_now(change);
            return;
        }
        pending_.push_back(std::move(change));
        if (!paused_) log(EventKind::pause, 0);
        paused_ = true;
        if (scheduler_.running_iterations() == 0) apply_pending();
    }

    void apply_pending() {
        for (const LayoutChange &change : pending_) apply_now(change);
        pending_.clear();
        paused_ = false;
        log(EventKind::resume, 0);
    }

    void apply_now(const LayoutChange &change) {
        if (options_.check && !change.moves.empty() && scheduler_.running_iterations() != 0) {
            fail("memory moved while iterations ran");
        }
        for (LaneId id : change.closed) applied_lanes_.erase(id);
        for (const lanes::LaneLayout &layout : change.lanes) applied_lanes_[layout.lane] = layout;
        for (const lanes::SessionPlacement &p : change.relocated) {
            JobState &s = state_[p.session - 1];
            if (s.lane == p.lane.lane) continue;
            s.lane = p.lane.lane;
            if (!s.joined) continue;
            expect_ok(scheduler_.session_moved(p.session, p.lane.lane, now_));
            log(EventKind::move, p.session - 1, p.lane.lane);
        }
        for (const lanes::SessionPlacement &p : change.admitted) {
            const size_t j = p.session - 1;
            JobState &s = state_[j];
            s.lane = p.lane.lane;
            s.joined = true;
            joined_persistent_ += jobs_[j].persistent_bytes;
            sched::SessionParams params;
            params.declared_iterations = jobs_[j].iterations;
            params.priority = jobs_[j].priority;
            params.persistent_bytes = jobs_[j].persistent_bytes;
            params.ephemeral_bytes = jobs_[j].ephemeral_bytes;
            expect_ok(scheduler_.session_admitted(p.session, p.lane.lane, params, now_));
            log(EventKind::join, j, p.lane.lane);
            // Its client sends the first iteration as soon as the session is open.
            log(EventKind::request, j);
            queue_iteration(j);
        }
    }

    void decide() {
        starts_.clear();
        std::optional<TimeNs> wake = scheduler_.decide(now_, starts_);
        for (const sched::Start &s : starts_) start(s);
        if (wake && *wake > now_ && wakes_.insert(*wake).second) push(*wake, Ev::wake, 0);
    }

    void start(const sched::Start &st) {
        const size_t j = st.session - 1;
        const JobSpec &job = jobs_[j];
        JobState &s = state_[j];
        JobResult &r = result_.jobs[j];
        if (options_.check) {
            auto placed = admission_.placement(st.session);
            if (!placed || placed->lane.lane != st.lane || s.lane != st.lane) {
                fail("job " + job.name + " started on lane " + std::to_string(st.lane) +
                     ", not the lane admission gave it");
            }
            if (lane_busy_.count(st.lane)) {
                fail("two iterations at once on lane " + std::to_string(st.lane));
            }
            auto lane = applied_lanes_.find(st.lane);
            if (lane == applied_lanes_.end() ||
                lane->second.ephemeral_bytes < job.ephemeral_bytes) {
                fail("job " + job.name + "'s ephemeral bytes exceed its lane's region");
            }
        }
        lane_busy_.insert(st.lane);
        if (!s.started) r.first_start_ns = now_;
        s.started = true;
        s.running = true;
        s.running_on = st.lane;
        if (s.ready) r.wait_ns += now_ - s.ready_since;
        s.ready = false;
        running_ephemeral_ += job.ephemeral_bytes;
        log(EventKind::start, j, st.lane);
        push(now_ + duration(job), Ev::end, j);
        if (options_.client == ClientModel::pipelined && s.requested < job.iterations) {
            log(EventKind::request, j);
            queue_iteration(j);
        }
    }

    TimeNs duration(const JobSpec &job) {
        if (options_.jitter <= 0) return job.iteration_ns;
        // From the raw bits: the same draws on every standard library.
        const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
        const double d =
            static_cast<double>(job.iteration_ns) * (1 + options_.jitter * (2 * u - 1));
        return std::max<TimeNs>(1, static_cast<TimeNs>(std::llround(d)));
    }

    void sample() {
        Sample s;
        s.t = now_;
        s.reserved_bytes = joined_persistent_;
        for (const auto &[id, lane] : applied_lanes_) s.reserved_bytes += lane.ephemeral_bytes;
        s.active_bytes = joined_persistent_ + running_ephemeral_;
        s.running = static_cast<uint32_t>(scheduler_.running_iterations());
        s.lanes = static_cast<uint32_t>(admission_.lane_count());
        s.admitted = static_cast<uint32_t>(admission_.admitted_count());
        s.waiting = static_cast<uint32_t>(admission_.queued_count());
        std::vector<Sample> &tl = result_.timeline;
        if (!tl.empty()) {
            const Sample &last = tl.back();
            if (std::tie(last.reserved_bytes, last.active_bytes, last.running, last.lanes,
                         last.admitted, last.waiting) == std::tie(s.reserved_bytes, s.active_bytes,
                                                                  s.running, s.lanes, s.admitted,
                                                                  s.waiting)) {
                return;
            }
        }
        tl.push_back(s);
    }

    // The safety condition of every lane, recomputed from its sessions' sizes.
    void check() {
        std::string broken = admission_.check_invariants();
        if (!broken.empty()) fail("admission: " + broken);
        for (const lanes::LaneInfo &lane : admission_.lanes()) {
            uint64_t sum_p = 0, sum_t = 0, max_t = 0;
            for (const lanes::SessionPlacement &p : lane.sessions) {
                sum_p += p.persistent_bytes;
                sum_t += p.ephemeral_bytes;
                max_t = std::max(max_t, p.ephemeral_bytes);
            }
            const uint64_t need =
                sum_p + (options_.admission == lanes::AdmissionMode::Safe ? max_t : sum_t);
            if (need > lane.layout.capacity) {
                fail("lane " + std::to_string(lane.layout.lane) + " needs " + std::to_string(need) +
                     " bytes, has " + std::to_string(lane.layout.capacity));
            }
        }
        if (admission_.used_bytes() > admission_.pool_bytes()) fail("pool overcommitted");
        // Between changes the daemon's view is admission's.
        const Sample &now = result_.timeline.back();
        if (!paused_ && now.reserved_bytes != admission_.used_bytes()) {
            fail("the applied layout differs from admission's");
        }
        if (now.active_bytes > now.reserved_bytes) fail("more memory in use than reserved");
    }

    const std::vector<JobSpec> &jobs_;
    const SimOptions &options_;
    std::vector<JobState> state_;
    sched::Scheduler scheduler_;
    lanes::Admission admission_;
    std::mt19937_64 rng_;
    SimResult result_;

    std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
    uint64_t next_seq_ = 0;
    std::set<TimeNs> wakes_; // hold wake-ups already in events_
    TimeNs now_ = 0;
    std::vector<sched::Start> starts_;
    std::vector<LayoutChange> pending_;
    bool paused_ = false;
    std::set<LaneId> lane_busy_;
    // The layout as applied so far (the daemon's view; admission's runs ahead
    // of it during a pause): lanes, and the P of sessions the scheduler has.
    std::map<LaneId, lanes::LaneLayout> applied_lanes_;
    uint64_t joined_persistent_ = 0;
    uint64_t running_ephemeral_ = 0;
};

} // namespace

SimResult simulate(const std::vector<JobSpec> &jobs, const SimOptions &options) {
    return Simulator(jobs, options).run();
}

} // namespace salus::sim
