// Sessions coming and going around running iterations, policy switches
// mid-run, moves between lanes, and misuse answered with an error.
#include "sched_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace salus::sched::test {
namespace {

TEST(Lifecycle, CloseWhileRunningLeavesWhenTheIterationFinishes) {
    Script s(Policy::pack);
    s.admit(1, 0);
    s.admit(2, 0);
    s.queue(1, 2);
    s.queue(2, 2);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(5).close(1);
    SessionStats st = s.stats(1);
    EXPECT_EQ(st.state, SessionState::closing);
    EXPECT_EQ(st.iterations_queued, 0u); // the rest is dropped
    EXPECT_EQ(s.sched.open_sessions(), 1u);
    EXPECT_EQ(s.decide(), Starts{}); // the lane is still busy
    EXPECT_EQ(s.sched.iteration_queued(1, 6).code(), SALUS_ENOSESSION);
    EXPECT_EQ(s.sched.session_closed(1, 6).code(), SALUS_ENOSESSION);

    s.at(10).finish(1);
    st = s.stats(1);
    EXPECT_EQ(st.state, SessionState::closed);
    EXPECT_EQ(st.completed_ns, 10u);
    EXPECT_EQ(st.iterations_done, 1u);
    EXPECT_EQ(st.run_ns, 10u);
    EXPECT_EQ(s.decide(), (Starts{{0, 2}}));
    s.at(20).finish(2);
    EXPECT_EQ(s.decide(), (Starts{{0, 2}})); // 1 never starts again
}

TEST(Lifecycle, ClosedReadySessionNeverStarts) {
    for (Policy policy : kAllPolicies) {
        Script s(policy);
        s.admit(1, 0);
        s.admit(2, 0);
        s.queue(1);
        s.queue(2);
        EXPECT_EQ(s.decide(), (Starts{{0, 1}})) << policy_name(policy);
        s.at(5).close(2);
        s.at(10).finish(1);
        EXPECT_EQ(s.decide(), Starts{}) << policy_name(policy);
        EXPECT_EQ(s.stats(2).iterations_done, 0u);
    }
}

// Admission makes a new lane id whenever it re-partitions: a lane's record
// must go with its last session, or the daemon grows with every session.
TEST(Lifecycle, LaneRecordsGoWithTheirLastSession) {
    for (Policy policy : kAllPolicies) {
        Script s(policy);
        for (SessionId id = 1; id <= 1000; ++id) {
            s.at(id * 10).admit(id, static_cast<LaneId>(id));
            s.queue(id);
            EXPECT_EQ(s.decide(), (Starts{{static_cast<LaneId>(id), id}})) << policy_name(policy);
            s.queue(id);
            s.at(id * 10 + 5).close(id); // while running: closing
            s.finish(id);
            EXPECT_EQ(s.sched.lanes(), 1u); // closed, not yet forgotten
            EXPECT_TRUE(s.sched.forget(id).ok());
            EXPECT_EQ(s.sched.lanes(), 0u);
        }
    }
}

TEST(Lifecycle, MovesDropTheLaneLeftEmpty) {
    Script s(Policy::pack);
    s.admit(1, 7);
    s.admit(2, 7);
    s.queue(1);
    EXPECT_TRUE(s.sched.session_moved(1, 8, 0).ok());
    EXPECT_EQ(s.sched.lanes(), 2u);
    EXPECT_TRUE(s.sched.session_moved(2, 8, 0).ok());
    EXPECT_EQ(s.sched.lanes(), 1u);
    EXPECT_TRUE(s.sched.session_moved(2, 8, 0).ok()); // to its own lane
    EXPECT_EQ(s.sched.lanes(), 1u);
    EXPECT_EQ(s.decide(), (Starts{{8, 1}}));
    EXPECT_FALSE(s.sched.running_on(7).has_value());
}

// A lane dropped while it waits in decide()'s candidates, its record reused
// at once by a new lane: the new one starts exactly once per decide().
TEST(Lifecycle, ReusedLaneRecordStartsOnce) {
    for (Policy policy : kAllPolicies) {
        Script s(policy);
        s.admit(1, 3);
        s.queue(1);
        s.close(1); // ready, so its lane is a candidate
        EXPECT_TRUE(s.sched.forget(1).ok());
        s.admit(2, 4);
        s.queue(2, 2);
        EXPECT_EQ(s.decide(), (Starts{{4, 2}})) << policy_name(policy);
        EXPECT_EQ(s.decide(), Starts{}) << policy_name(policy);
        s.at(10).finish(2);
        EXPECT_EQ(s.decide(), (Starts{{4, 2}})) << policy_name(policy);
    }
}

TEST(PolicySwitch, PackToPriorityAtTheNextBoundary) {
    Script s(Policy::pack);
    s.admit(1, 0, with_priority(0));
    s.admit(2, 0, with_priority(5));
    s.queue(1, 3);
    s.queue(2, 3);
    auto duration = [](SessionId) -> TimeNs { return 10; };
    EXPECT_EQ(run_back_to_back(s, duration, 2, false), (std::vector<SessionId>{1, 2}));
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(25).sched.set_policy(Policy::priority, 25);
    EXPECT_EQ(s.sched.policy(), Policy::priority);
    EXPECT_EQ(s.sched.policy_since_ns(), 25u);
    EXPECT_EQ(s.decide(), Starts{}); // 1's iteration carries on
    s.at(30).finish(1);
    EXPECT_EQ(run_back_to_back(s, duration, 5, false), (std::vector<SessionId>{2, 2, 1}));
}

TEST(PolicySwitch, ToFifoWaitsForEveryLaneThenRunsOnlyTheOldest) {
    Script s(Policy::pack);
    s.admit(1, 0);
    s.admit(2, 1);
    s.queue(1, 2);
    s.queue(2, 3);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}, {1, 2}}));
    s.sched.set_policy(Policy::fifo, 5);
    s.at(10).finish(2);
    EXPECT_EQ(s.decide(), Starts{}); // 1 still runs; 2 is not the oldest
    s.at(12).finish(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(20).finish(1);
    EXPECT_EQ(s.decide(), Starts{}); // 1 owns the device with nothing queued
    s.sched.set_policy(Policy::pack, 30);
    s.at(30);
    EXPECT_EQ(s.decide(), (Starts{{1, 2}}));
}

TEST(PolicySwitch, FromFifoToSrtfReordersTheWaitingSessions) {
    Script s(Policy::fifo);
    s.admit(1, 0);
    s.admit(2, 0, declared(5));
    s.queue(1, 2);
    s.queue(2, 2);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(10).finish(1);
    s.sched.set_policy(Policy::srtf, 10);
    EXPECT_EQ(s.decide(), (Starts{{0, 2}})); // declared beats undeclared
}

TEST(PolicySwitch, EveryPairKeepsRunningEveryQueuedIteration) {
    for (Policy from : kAllPolicies) {
        for (Policy to : kAllPolicies) {
            Script s(from);
            s.admit(1, 0, declared(3));
            s.admit(2, 0, with_weight(2));
            s.admit(3, 1, with_priority(2));
            s.queue(1, 3);
            s.queue(2, 3);
            s.queue(3, 3);
            Starts first = s.decide();
            ASSERT_FALSE(first.empty());
            s.sched.set_policy(to, 1);
            for (const Start &st : first) s.at(2).finish(st.session);
            // Close whatever runs dry so fifo's owner moves on.
            for (int step = 0; step < 100; ++step) {
                Starts next = s.decide();
                for (SessionId id : {1, 2, 3}) {
                    SessionStats stat = s.stats(id);
                    if (stat.state == SessionState::waiting) s.close(id);
                }
                for (const Start &st : next) s.at(s.now + 1).finish(st.session);
            }
            for (SessionId id : {1, 2, 3}) {
                EXPECT_EQ(s.stats(id).iterations_done, 3u)
                    << policy_name(from) << " -> " << policy_name(to) << " session " << id;
            }
        }
    }
}

TEST(Move, ReadySessionJoinsItsNewLane) {
    Script s(Policy::pack);
    s.admit(1, 0);
    s.admit(2, 0);
    s.queue(1);
    s.queue(2);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    EXPECT_EQ(s.sched.session_moved(1, 4, 1).code(), SALUS_EINVAL); // running
    EXPECT_TRUE(s.sched.session_moved(2, 4, 1).ok());
    EXPECT_EQ(s.stats(2).lane, 4u);
    EXPECT_EQ(s.decide(), (Starts{{4, 2}}));
}

TEST(Misuse, AnsweredWithAnErrorAndNoChange) {
    Scheduler sched(Policy::pack);
    EXPECT_TRUE(sched.session_admitted(1, 0, {}, 0).ok());
    EXPECT_EQ(sched.session_admitted(1, 0, {}, 0).code(), SALUS_EINVAL);
    for (double w : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
        SessionParams p;
        p.weight = w;
        EXPECT_EQ(sched.session_admitted(2, 0, p, 0).code(), SALUS_EINVAL) << w;
    }
    EXPECT_FALSE(sched.stats(2).has_value());
    EXPECT_EQ(sched.iteration_queued(9, 0).code(), SALUS_ENOSESSION);
    EXPECT_EQ(sched.iteration_finished(9, 0).code(), SALUS_ENOSESSION);
    EXPECT_EQ(sched.iteration_finished(1, 0).code(), SALUS_EINVAL); // not running
    EXPECT_EQ(sched.session_closed(9, 0).code(), SALUS_ENOSESSION);
    EXPECT_EQ(sched.session_moved(9, 1, 0).code(), SALUS_ENOSESSION);
    EXPECT_EQ(sched.forget(1).code(), SALUS_EINVAL); // still open
    EXPECT_EQ(sched.stats(1)->state, SessionState::waiting);
    EXPECT_EQ(sched.open_sessions(), 1u);
    EXPECT_FALSE(sched.running_on(0).has_value());
    EXPECT_FALSE(sched.running_on(42).has_value());
}

TEST(Misuse, ForgottenIdMayBeAdmittedAgain) {
    Scheduler sched(Policy::srtf);
    EXPECT_TRUE(sched.session_admitted(1, 0, declared(2), 0).ok());
    EXPECT_TRUE(sched.session_closed(1, 1).ok());
    EXPECT_EQ(sched.session_admitted(1, 0, {}, 2).code(), SALUS_EINVAL); // still remembered
    EXPECT_TRUE(sched.forget(1).ok());
    EXPECT_TRUE(sched.session_admitted(1, 2, {}, 3).ok());
    EXPECT_EQ(sched.stats(1)->lane, 2u);
    EXPECT_EQ(sched.stats(1)->iterations_done, 0u);
}

} // namespace
} // namespace salus::sched::test
