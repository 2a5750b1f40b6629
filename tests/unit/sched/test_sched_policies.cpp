// Each policy's decisions on scripted event sequences, with the expected
// (lane, session) starts written out.
#include "sched/policy_keys.h"
#include "sched_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace salus::sched::test {
namespace {

TEST(Fifo, FirstAdmittedOwnsTheDeviceUntilItCloses) {
    Script s(Policy::fifo);
    s.admit(1, 0);
    s.admit(2, 1);
    s.admit(3, 0);
    s.queue(2);
    s.queue(3);
    // Session 1 has nothing queued, yet it owns the device.
    EXPECT_EQ(s.decide(), Starts{});
    s.at(10).queue(1, 2);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    EXPECT_EQ(s.decide(), Starts{});
    s.at(20).finish(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(30).finish(1);
    EXPECT_EQ(s.decide(), Starts{});
    s.at(40).close(1);
    EXPECT_EQ(s.decide(), (Starts{{1, 2}}));
    s.at(45).queue(2);
    s.at(50).finish(2);
    EXPECT_EQ(s.decide(), (Starts{{1, 2}}));
    // Closed while running: the next one waits for that iteration to end.
    s.at(55).close(2);
    EXPECT_EQ(s.decide(), Starts{});
    s.at(60).finish(2);
    EXPECT_EQ(s.decide(), (Starts{{0, 3}}));
    EXPECT_EQ(s.stats(2).state, SessionState::closed);
    EXPECT_EQ(s.stats(2).completed_ns, 60u);
}

TEST(Srtf, ShortJobPreemptsLongOneAtTheNextBoundaryAndFinishesFirst) {
    Script s(Policy::srtf);
    s.admit(1, 0, declared(100));
    s.queue(1, 100);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(5'000).admit(2, 0, declared(3));
    s.queue(2, 3);
    EXPECT_EQ(s.decide(), Starts{}); // no preemption inside an iteration
    s.at(10'000).finish(1);
    auto duration = [](SessionId id) -> TimeNs { return id == 1 ? 10'000 : 2'000; };
    EXPECT_EQ(run_back_to_back(s, duration, 5, false), (std::vector<SessionId>{2, 2, 2, 1, 1}));
    EXPECT_EQ(s.stats(2).iterations_done, 3u);
    EXPECT_EQ(s.stats(2).state, SessionState::waiting);
    EXPECT_EQ(s.stats(1).iterations_done, 3u);
}

TEST(Srtf, UndeclaredRunsAfterDeclaredInAdmissionOrder) {
    Script s(Policy::srtf);
    s.admit(1, 0);
    s.admit(2, 0);
    s.admit(3, 0, declared(2));
    s.queue(1, 2);
    s.queue(2, 2);
    s.queue(3, 2);
    auto duration = [](SessionId) -> TimeNs { return 10; };
    EXPECT_EQ(run_back_to_back(s, duration, 6, false), (std::vector<SessionId>{3, 3, 1, 1, 2, 2}));
}

TEST(Srtf, SessionPastItsDeclarationCountsAsUndeclared) {
    Script s(Policy::srtf);
    s.admit(1, 0);
    s.admit(2, 0, declared(1));
    s.queue(1, 2);
    s.queue(2, 3);
    auto duration = [](SessionId) -> TimeNs { return 10; };
    // 2 probes first; then both are unknown and 1 was admitted first.
    EXPECT_EQ(run_back_to_back(s, duration, 5, false), (std::vector<SessionId>{2, 1, 1, 2, 2}));
}

TEST(Srtf, MeasuredMeansUpdateRemainingTime) {
    Script s(Policy::srtf);
    s.admit(1, 0, declared(10));
    s.admit(2, 0, declared(10));
    s.queue(1, 10);
    s.queue(2, 10);
    int b_runs = 0;
    // Session 2 looks short at first (10 ns), then slows to 1000 ns.
    auto duration = [&](SessionId id) -> TimeNs {
        if (id == 1) return 100;
        return b_runs++ == 0 ? 10 : 1000;
    };
    // Both unmeasured (0): 1 by admission; 2 probes; 2 is shorter (9 x 10 < 9 x 100);
    // then 2's mean is 505 so 8 x 505 > 9 x 100 and 1 runs to its end.
    EXPECT_EQ(run_back_to_back(s, duration, 12, false),
              (std::vector<SessionId>{1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
    EXPECT_EQ(srtf_remaining_ns(s.stats(2)), 8.0 * 505);
    EXPECT_EQ(srtf_remaining_ns(s.stats(1)), std::numeric_limits<double>::infinity());
}

TEST(Pack, RoundRobinWithinALaneAndLanesInParallel) {
    Script s(Policy::pack);
    s.admit(1, 0);
    s.admit(2, 0);
    s.admit(3, 0);
    s.admit(4, 1);
    s.queue(1, 2);
    s.queue(2, 2);
    s.queue(3, 2);
    s.queue(4, 2);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}, {1, 4}}));
    s.at(10).finish(1);
    s.finish(4);
    EXPECT_EQ(s.decide(), (Starts{{0, 2}, {1, 4}}));
    s.at(20).finish(2);
    EXPECT_EQ(s.decide(), (Starts{{0, 3}}));
    s.at(25).finish(4);
    EXPECT_EQ(s.decide(), Starts{});
    s.at(30).finish(3);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(40).finish(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 2}}));
    // 1 ran out of work; queued again it joins the back, behind 3.
    s.at(45).queue(1);
    s.at(50).finish(2);
    EXPECT_EQ(s.decide(), (Starts{{0, 3}}));
    s.at(60).finish(3);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
}

TEST(Fair, LeastAttainedServiceOverWeight) {
    Script s(Policy::fair);
    s.admit(1, 0, with_weight(2));
    s.admit(2, 0, with_weight(1));
    s.queue(1);
    s.queue(2);
    auto duration = [](SessionId id) -> TimeNs { return id == 1 ? 3'000 : 5'000; };
    // Attained 1: 0, 1.5, 3, 4.5, 6 (us); 2: 0, 5, 10. Ties go to the older.
    EXPECT_EQ(run_back_to_back(s, duration, 6, true), (std::vector<SessionId>{1, 2, 1, 1, 1, 2}));
}

TEST(Fair, WeightsTwoToOneGiveTwiceTheServiceWithUnequalDurations) {
    Script s(Policy::fair);
    s.admit(1, 0, with_weight(2));
    s.admit(2, 0, with_weight(1));
    s.queue(1);
    s.queue(2);
    auto duration = [](SessionId id) -> TimeNs { return id == 1 ? 3'000 : 7'000; };
    run_back_to_back(s, duration, 5'000, true);
    double a = static_cast<double>(s.stats(1).run_ns);
    double b = static_cast<double>(s.stats(2).run_ns);
    EXPECT_NEAR(a / b, 2.0, 0.01);
    // Attained service never drifts apart by more than one iteration.
    EXPECT_LE(std::abs(a / 2 - b), 7'000.0);
}

TEST(Priority, HighArrivingWhileLowRunsGetsTheVeryNextIteration) {
    Script s(Policy::priority);
    s.admit(1, 0, with_priority(0));
    s.admit(2, 0, with_priority(0));
    s.queue(1, 3);
    s.queue(2, 3);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(5).admit(3, 0, with_priority(5));
    s.queue(3, 2);
    EXPECT_EQ(s.decide(), Starts{});
    s.at(10).finish(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 3}}));
    s.at(20).finish(3);
    EXPECT_EQ(s.decide(), (Starts{{0, 3}}));
    s.at(30).finish(3);
    // Equal priorities take turns: 2 has waited since t=0, 1 since t=10.
    auto duration = [](SessionId) -> TimeNs { return 10; };
    EXPECT_EQ(run_back_to_back(s, duration, 6, false), (std::vector<SessionId>{2, 1, 2, 1, 2}));
}

class EveryLanePolicy : public ::testing::TestWithParam<Policy> {};

TEST_P(EveryLanePolicy, LanesDecideIndependently) {
    Script s(GetParam());
    s.admit(1, 0, with_priority(0));
    s.admit(2, 1, with_priority(9));
    s.admit(3, 1, with_priority(0));
    s.queue(1, 2);
    s.queue(2, 2);
    s.queue(3, 2);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}, {1, 2}}));
    s.at(10).finish(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    EXPECT_EQ(s.sched.running_on(1), std::optional<SessionId>(2));
    EXPECT_EQ(s.sched.running_iterations(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Sched, EveryLanePolicy,
                         ::testing::Values(Policy::srtf, Policy::pack, Policy::fair,
                                           Policy::priority),
                         policy_param_name);

} // namespace
} // namespace salus::sched::test
