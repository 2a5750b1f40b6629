// The job-switch hot path (iteration_finished, iteration_queued, decide) and
// a policy switch must not allocate once the sessions are admitted: this
// executable replaces the global operator new with a counting one.
#include "sched_test_util.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <vector>

#include "../counting_new.h"

namespace salus::sched::test {
namespace {

constexpr LaneId kLanes = 4;

// Every lane busy, every session with work: finish each running iteration,
// queue one more for it, decide. Returns false if any event failed.
bool cycle(Scheduler &sched, TimeNs &now, std::vector<Start> &running, std::vector<Start> &out) {
    bool ok = true;
    for (const Start &s : running) {
        now += 1000 + s.session % 7 * 100;
        ok &= sched.iteration_finished(s.session, now).ok();
        ok &= sched.iteration_queued(s.session, now).ok();
    }
    out.clear();
    sched.decide(now, out);
    running.swap(out);
    return ok && running.size() == (sched.policy() == Policy::fifo ? 1u : kLanes);
}

class NoAlloc : public ::testing::TestWithParam<Policy> {};

TEST_P(NoAlloc, SteadyStateJobSwitchesAndPolicySwitchesAllocateNothing) {
    Scheduler sched(GetParam());
    TimeNs now = 0;
    for (SessionId id = 1; id <= 1000; ++id) {
        SessionParams p;
        p.declared_iterations = id % 3 ? 100'000 : 0;
        p.priority = static_cast<int>(id % 4);
        p.weight = 1.0 + static_cast<double>(id % 3);
        ASSERT_TRUE(sched.session_admitted(id, static_cast<LaneId>(id % kLanes), p, now).ok());
        ASSERT_TRUE(sched.iteration_queued(id, now).ok());
        ASSERT_TRUE(sched.iteration_queued(id, now).ok());
    }
    std::vector<Start> running, out;
    running.reserve(kLanes);
    out.reserve(kLanes);
    sched.decide(now, running);
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(cycle(sched, now, running, out));

    bool ok = true;
    g_counting = true;
    for (int i = 0; i < 5000; ++i) ok &= cycle(sched, now, running, out);
    for (Policy p : kAllPolicies) sched.set_policy(p, now);
    sched.set_policy(GetParam(), now);
    for (int i = 0; i < 100; ++i) ok &= cycle(sched, now, running, out);
    g_counting = false;

    EXPECT_TRUE(ok);
    EXPECT_EQ(g_allocations, 0);
}

// Synchronous clients with holds on: each iteration ends with nothing
// queued, the lane is held, the next request comes 100 ns later.
TEST_P(NoAlloc, HoldsAllocateNothing) {
    Scheduler sched(GetParam());
    sched.set_hold_max(1'000);
    TimeNs now = 0;
    for (SessionId id = 1; id <= 40; ++id) {
        SessionParams p;
        p.declared_iterations = 1'000'000 + id;
        p.priority = static_cast<int>(id % 3); // mixed within each lane
        ASSERT_TRUE(sched.session_admitted(id, static_cast<LaneId>(id % kLanes), p, now).ok());
        ASSERT_TRUE(sched.iteration_queued(id, now).ok());
    }
    std::vector<Start> running, out;
    running.reserve(kLanes);
    out.reserve(kLanes);
    auto step = [&] {
        bool ok = true;
        now += 1'000;
        for (const Start &s : running) ok &= sched.iteration_finished(s.session, now).ok();
        out.clear();
        sched.decide(now, out);
        now += 100;
        for (const Start &s : running) ok &= sched.iteration_queued(s.session, now).ok();
        sched.decide(now, out);
        running.swap(out);
        return ok;
    };
    sched.decide(now, running);
    for (int i = 0; i < 2000; ++i) ASSERT_TRUE(step());
    bool ok = true;
    g_counting = true;
    for (int i = 0; i < 5000; ++i) ok &= step();
    g_counting = false;
    EXPECT_TRUE(ok);
    EXPECT_EQ(g_allocations, 0);
}

INSTANTIATE_TEST_SUITE_P(Sched, NoAlloc, ::testing::ValuesIn(kAllPolicies), policy_param_name);

} // namespace
} // namespace salus::sched::test
