// Traces of two and three jobs whose completion times were worked out by
// hand for every policy, with pipelined and synchronous clients. Iterations
// last whole seconds; jobs share one lane unless said otherwise.
//
// One thing the hand computations must follow: a job that arrives while an
// iteration runs grows the lane, a LayoutChange that pauses it, so its
// session joins the scheduler only when that iteration ends (as in salusd).
#include "sim_test_util.h"

#include <gtest/gtest.h>

namespace salus::sim::test {
namespace {

using sched::Policy;

SimOptions one_lane(Policy policy) {
    SimOptions o;
    o.policy = policy;
    o.lanes = 1;
    o.memory_bytes = 4ull << 30;
    return o;
}

void expect_ends(const SimResult &r, const std::vector<double> &want) {
    std::vector<double> got = ends(r);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_DOUBLE_EQ(got[i], want[i]) << "job " << i;
    }
}

// A: 3 x 1 s at 0. B: 2 x 1 s at 0.5, priority 1. B joins at 1 (A's first
// iteration ends), after A's second iteration was already queued.
std::vector<JobSpec> late_arrival() {
    return {job("A", 3, 0, 1), job("B", 2, 0.5, 1, 1)};
}

struct Expected {
    Policy policy;
    std::vector<double> ends;
};

std::string expected_name(const ::testing::TestParamInfo<Expected> &param) {
    return sched::policy_name(param.param.policy);
}

class TwoJobs : public ::testing::TestWithParam<Expected> {};

TEST_P(TwoJobs, LateArrivalOnOneLane) {
    const std::vector<JobSpec> jobs = late_arrival();
    const SimOptions options = one_lane(GetParam().policy);
    SimResult r = run_checked(jobs, options);
    expect_ends(r, GetParam().ends);
    EXPECT_EQ(check_log(jobs, r, options), "");
}

// fifo:     A owns the device until it closes: A 0-3, B 3-5.
// srtf:     at 1, B (no iteration measured: 0) beats A (2 left): B 1-3, A 3-5.
// pack:     round-robin, A ready first at 1: A 0-1, A 1-2, B 2-3, A 3-4, B 4-5.
// fair:     B (0 s) 1-2; A and B tie at 1 s, A admitted first: A 2-3; B 3-4; A 4-5.
// priority: B (1) runs whenever ready: B 1-3, A 3-5.
INSTANTIATE_TEST_SUITE_P(Sim, TwoJobs,
                         ::testing::Values(Expected{Policy::fifo, {3, 5}},
                                           Expected{Policy::srtf, {5, 3}},
                                           Expected{Policy::pack, {4, 5}},
                                           Expected{Policy::fair, {5, 4}},
                                           Expected{Policy::priority, {5, 3}}),
                         expected_name);

// With room for a lane each the jobs run side by side, except under fifo,
// where the first-admitted session owns the whole device.
TEST(TwoJobs, ParallelLanes) {
    const std::vector<JobSpec> jobs = late_arrival();
    for (Policy policy : sched::kAllPolicies) {
        SimOptions options = one_lane(policy);
        options.lanes = 0;
        SimResult r = run_checked(jobs, options);
        if (policy == Policy::fifo) {
            expect_ends(r, {3, 5});
        } else {
            expect_ends(r, {3, 2.5});
        }
        EXPECT_EQ(check_log(jobs, r, options), "") << sched::policy_name(policy);
    }
}

// A: 3 x 1 s, B: 2 x 2 s, C: 3 x 0.5 s (priority 1), all at 0 (nothing runs
// yet, so the lane grows without waiting).
std::vector<JobSpec> three_jobs() {
    return {job("A", 3, 0, 1), job("B", 2, 0, 2), job("C", 3, 0, 0.5, 1)};
}

class ThreeJobs : public ::testing::TestWithParam<Expected> {};

TEST_P(ThreeJobs, Pipelined) {
    const std::vector<JobSpec> jobs = three_jobs();
    const SimOptions options = one_lane(GetParam().policy);
    SimResult r = run_checked(jobs, options);
    expect_ends(r, GetParam().ends);
    EXPECT_EQ(check_log(jobs, r, options), "");
}

// fifo:     A 0-3, B 3-7, C 7-8.5.
// srtf:     A 0-1 and B 1-3 (unmeasured first); C 3-4.5 (1 s left < 2 s);
//           A and B tie at 2 s left, A admitted first: A 4.5-6.5; B 6.5-8.5.
// pack:     A 0-1, B 1-3, C 3-3.5, A 3.5-4.5, B 4.5-6.5, C 6.5-7, A 7-8, C 8-8.5.
// fair:     A 0-1, B 1-3, C 3-4 (0.5 then 1 s attained), A 4-5 (tie at 1 s,
//           A first), C 5-5.5, A 5.5-6.5 (tie at 2 s), B 6.5-8.5.
// priority: C 0-1.5; then A and B round-robin: A 1.5-2.5, B 2.5-4.5,
//           A 4.5-5.5, B 5.5-7.5, A 7.5-8.5.
INSTANTIATE_TEST_SUITE_P(Sim, ThreeJobs,
                         ::testing::Values(Expected{Policy::fifo, {3, 7, 8.5}},
                                           Expected{Policy::srtf, {6.5, 8.5, 4.5}},
                                           Expected{Policy::pack, {8, 6.5, 8.5}},
                                           Expected{Policy::fair, {6.5, 8.5, 5.5}},
                                           Expected{Policy::priority, {8.5, 7.5, 1.5}}),
                         expected_name);

// The same jobs with synchronous clients: 0.25 s think, holds of up to 2 s
// (a session's hold is 2 x 0.25 + 4 x its gap's deviation, 1 s after its
// first gap, so it always comes back within it). A hold needs one measured
// gap, and only srtf, fair and priority hold.
class ThreeJobsSync : public ::testing::TestWithParam<Expected> {};

TEST_P(ThreeJobsSync, ThinkTimeAndHolds) {
    const std::vector<JobSpec> jobs = three_jobs();
    SimOptions options = one_lane(GetParam().policy);
    options.client = ClientModel::sync;
    options.think_ns = ns(0.25);
    options.hold_max_ns = 2 * kSecond;
    SimResult r = run_checked(jobs, options);
    expect_ends(r, GetParam().ends);
    EXPECT_EQ(check_log(jobs, r, options), "");
}

// fifo:     the owner keeps the device while it thinks: A 0-1, 1.25-2.25,
//           2.5-3.5; B 3.5-5.5, 5.75-7.75; C 7.75-8.25, 8.5-9, 9.25-9.75.
// srtf:     A 0-1, B 1-3, C 3-3.5 (each unmeasured while the others think);
//           A 3.5-4.5 (2 s left, ties B, admitted first); A is held for
//           (1 s left, ties C): A 4.75-5.75; C 5.75-6.25, held for (0.5 s
//           left): C 6.5-7; B 7-9.
// pack:     a thinking job loses its turn: A 0-1, B 1-3, C 3-3.5, A 3.5-4.5,
//           B 4.5-6.5, C 6.5-7, A 7-8, C 8-8.5.
// fair:     A 0-1, B 1-3, C 3-3.5, A 3.5-4.5 (1 s attained vs B's 2), no hold
//           for A (C has less): C 4.5-5, held for (1 s): C 5.25-5.75; A
//           5.75-6.75 (ties B at 2 s, admitted first); B 6.75-8.75.
// priority: C 0-0.5, A 0.5-1.5 while C thinks, C 1.5-2, held for: C
//           2.25-2.75; then B (ready before A) 2.75-4.75, A 4.75-5.75, not
//           held for (it would queue behind B): B 5.75-7.75, A 7.75-8.75.
INSTANTIATE_TEST_SUITE_P(Sim, ThreeJobsSync,
                         ::testing::Values(Expected{Policy::fifo, {3.5, 7.75, 9.75}},
                                           Expected{Policy::srtf, {5.75, 9, 7}},
                                           Expected{Policy::pack, {8, 6.5, 8.5}},
                                           Expected{Policy::fair, {6.75, 8.75, 5.75}},
                                           Expected{Policy::priority, {8.75, 7.75, 2.75}}),
                         expected_name);

// Synchronous clients under priority: A (priority 1) 3 x 1 s, B 2 x 1 s, both
// at 0, 0.25 s think. A 0-1; thinking, it loses the lane to B 1-2; A 2-3.
// From its second gap on A's lane is held for it (its smoothed gap is 0.25 s:
// hold 2 x 0.25 + 4 x 0.125 = 1 s), so A runs 3.25-4.25 and B 4.25-5.25.
// Without holds B takes the lane at 3: B 3-4, A 4-5.
TEST(TwoJobs, SyncPriorityHolds) {
    const std::vector<JobSpec> jobs = {job("A", 3, 0, 1, 1), job("B", 2, 0, 1, 0)};
    SimOptions options = one_lane(Policy::priority);
    options.client = ClientModel::sync;
    options.think_ns = ns(0.25);

    options.hold_max_ns = 2 * kSecond;
    SimResult held = run_checked(jobs, options);
    expect_ends(held, {4.25, 5.25});
    EXPECT_EQ(check_log(jobs, held, options), "");

    options.hold_max_ns = 0;
    expect_ends(run_checked(jobs, options), {5, 4});
    // A cap under the think time: the gap is too long to wait for.
    options.hold_max_ns = ns(0.1);
    expect_ends(run_checked(jobs, options), {5, 4});
}

// srtf with synchronous clients and a late arrival (A: 3 x 1 s at 0; B:
// 2 x 1 s at 0.5, joining at 1): A 0-1, B 1-2 (unmeasured, so first), A 2-3
// (B was thinking), then the lane is held for A (1 s left ties B's 1 s, and
// A was admitted first): A 3.25-4.25, B 4.25-5.25.
TEST(TwoJobs, SyncSrtfLateArrival) {
    const std::vector<JobSpec> jobs = {job("A", 3, 0, 1), job("B", 2, 0.5, 1)};
    SimOptions options = one_lane(Policy::srtf);
    options.client = ClientModel::sync;
    options.think_ns = ns(0.25);
    options.hold_max_ns = 2 * kSecond;
    SimResult r = run_checked(jobs, options);
    expect_ends(r, {4.25, 5.25});
    EXPECT_EQ(check_log(jobs, r, options), "");
    // Queueing delay: A started at once, B 0.5 s after it arrived.
    EXPECT_EQ(r.jobs[0].first_start_ns, 0u);
    EXPECT_EQ(r.jobs[1].first_start_ns, ns(1));
}

} // namespace
} // namespace salus::sim::test
