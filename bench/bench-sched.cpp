// Scheduler core decision time: the job-switch hot path (one
// iteration_finished + decide pair) and a full decide that refills every
// lane, with 10, 1,000 and 10,000 sessions on 1 and 16 lanes, per policy.
// Every session always has work queued, so each lane's ready set is full.
//
//   bench-sched [--samples N]
#include "sched/scheduler.h"
#include "stats.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

using salus::sched::LaneId;
using salus::sched::Policy;
using salus::sched::Scheduler;
using salus::sched::SessionId;
using salus::sched::SessionParams;
using salus::sched::Start;
using salus::sched::TimeNs;

constexpr double kTargetUs = 10.0;

void check(const salus::Status &st) {
    if (!st.ok()) {
        std::fprintf(stderr, "bench-sched: %s\n", st.message().c_str());
        std::exit(1);
    }
}

double now_us() {
    using namespace std::chrono;
    return duration<double, std::micro>(steady_clock::now().time_since_epoch()).count();
}

struct Setup {
    Scheduler sched;
    TimeNs clock = 0; // simulated time fed to the scheduler
    std::vector<Start> running, out;

    Setup(Policy policy, size_t sessions, LaneId lanes) : sched(policy) {
        sched.reserve(sessions);
        for (SessionId id = 1; id <= sessions; ++id) {
            SessionParams p;
            p.declared_iterations = id % 4 ? 1'000'000 + id % 1000 : 0; // a quarter undeclared
            p.priority = static_cast<int>(id % 5);
            p.weight = 1.0 + static_cast<double>(id % 3);
            check(sched.session_admitted(id, static_cast<LaneId>(id % lanes), p, clock));
            check(sched.iteration_queued(id, clock));
            check(sched.iteration_queued(id, clock));
        }
        running.reserve(lanes);
        out.reserve(lanes);
        sched.decide(clock, running);
        for (size_t i = 0; i < 2 * sessions + 1000; ++i) switch_one(i);
    }

    // A varied iteration duration, so measured means and service differ.
    TimeNs duration(SessionId id, size_t i) const { return 500'000 + (id * 7919 + i) % 300'000; }

    // The running iteration of lane slot `i % lanes` finishes and its lane
    // gets its next iteration: the job switch. Returns the time it took.
    double switch_one(size_t i) {
        Start &s = running[i % running.size()];
        clock += duration(s.session, i);
        check(sched.iteration_queued(s.session, clock)); // the client keeps work queued
        out.clear();
        double t0 = now_us();
        salus::Status st = sched.iteration_finished(s.session, clock);
        sched.decide(clock, out);
        double t1 = now_us();
        check(st);
        if (out.size() != 1) {
            std::fprintf(stderr, "bench-sched: a switch started %zu iterations\n", out.size());
            std::exit(1);
        }
        s = out[0];
        return t1 - t0;
    }

    // Every lane finishes at once; one decide refills them all.
    double full_decide() {
        clock += 500'000;
        for (const Start &s : running) {
            check(sched.iteration_queued(s.session, clock));
            check(sched.iteration_finished(s.session, clock));
        }
        size_t lanes = running.size();
        running.clear();
        double t0 = now_us();
        sched.decide(clock, running);
        double t1 = now_us();
        if (running.size() != lanes) {
            std::fprintf(stderr, "bench-sched: full decide refilled %zu of %zu lanes\n",
                         running.size(), lanes);
            std::exit(1);
        }
        return t1 - t0;
    }
};

} // namespace

int main(int argc, char **argv) {
    size_t samples = 20'000;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--samples") && i + 1 < argc) {
            samples = static_cast<size_t>(std::strtoul(argv[++i], nullptr, 10));
        } else {
            std::fprintf(stderr, "usage: bench-sched [--samples N]\n");
            return 2;
        }
    }
    if (samples < 100) samples = 100;

    std::printf("scheduler decision time, microseconds (%zu samples each; target <= %.0f us "
                "at 10,000 sessions)\n\n",
                samples, kTargetUs);
    std::printf("%-8s %8s %5s | %28s | %28s\n", "policy", "sessions", "lanes",
                "switch: finished+decide", "full decide (all lanes)");
    std::printf("%-8s %8s %5s | %8s %8s %10s | %8s %8s %10s\n", "", "", "", "p50", "p99", "mean",
                "p50", "p99", "mean");

    double worst_p99_at_10k = 0;
    for (Policy policy : salus::sched::kAllPolicies) {
        for (size_t sessions : {10u, 1'000u, 10'000u}) {
            for (LaneId lanes : {1u, 16u}) {
                Setup setup(policy, sessions, lanes);
                std::vector<double> switches, fulls;
                switches.reserve(samples);
                fulls.reserve(samples / 10);
                for (size_t i = 0; i < samples; ++i) switches.push_back(setup.switch_one(i));
                for (size_t i = 0; i < samples / 10; ++i) fulls.push_back(setup.full_decide());
                auto sw = salus::bench::summarize(switches);
                auto fd = salus::bench::summarize(fulls);
                std::printf("%-8s %8zu %5u | %8.3f %8.3f %10.3f | %8.3f %8.3f %10.3f\n",
                            salus::sched::policy_name(policy), sessions, lanes, sw.p50, sw.p99,
                            sw.mean, fd.p50, fd.p99, fd.mean);
                if (sessions == 10'000) {
                    worst_p99_at_10k = std::max({worst_p99_at_10k, sw.p99, fd.p99});
                }
            }
        }
    }
    std::printf("\nworst p99 at 10,000 sessions: %.3f us (target <= %.0f us): %s\n",
                worst_p99_at_10k, kTargetUs, worst_p99_at_10k <= kTargetUs ? "met" : "MISSED");
    return 0;
}
