// Per-session accounting, exact on scripted timelines: states, counts,
// queueing delay, run time, mean, timestamps, and the reporting helpers.
#include "sched/policy_keys.h"
#include "sched_test_util.h"

#include <gtest/gtest.h>

#include <vector>

namespace salus::sched::test {
namespace {

TEST(Accounting, ExactOnAScriptedTimeline) {
    Script s(Policy::pack);
    SessionParams params = declared(5);
    params.persistent_bytes = 1000;
    params.ephemeral_bytes = 200;
    s.at(100).admit(1, 3, params);
    SessionStats st = s.stats(1);
    EXPECT_EQ(st.state, SessionState::waiting);
    EXPECT_EQ(st.lane, 3u);
    EXPECT_EQ(st.admitted_ns, 100u);
    EXPECT_EQ(st.params.persistent_bytes, 1000u);
    EXPECT_EQ(st.params.ephemeral_bytes, 200u);
    EXPECT_EQ(st.params.declared_iterations, 5u);

    s.at(200).queue(1);
    s.at(250).queue(1);
    st = s.stats(1);
    EXPECT_EQ(st.state, SessionState::ready);
    EXPECT_EQ(st.iterations_queued, 2u);

    s.at(300);
    EXPECT_EQ(s.decide(), (Starts{{3, 1}}));
    st = s.stats(1);
    EXPECT_EQ(st.state, SessionState::running);
    EXPECT_EQ(st.iterations_queued, 1u);
    EXPECT_EQ(st.queueing_delay_ns, 100u);

    s.at(1300).finish(1);
    st = s.stats(1);
    EXPECT_EQ(st.state, SessionState::ready);
    EXPECT_EQ(st.iterations_done, 1u);
    EXPECT_EQ(st.run_ns, 1000u);
    EXPECT_EQ(st.mean_iteration_ns(), 1000u);

    EXPECT_EQ(s.decide(), (Starts{{3, 1}}));
    EXPECT_EQ(s.stats(1).queueing_delay_ns, 100u + 1050u);

    s.at(1800).finish(1);
    st = s.stats(1);
    EXPECT_EQ(st.state, SessionState::waiting);
    EXPECT_EQ(st.iterations_done, 2u);
    EXPECT_EQ(st.iterations_queued, 0u);
    EXPECT_EQ(st.run_ns, 1500u);
    EXPECT_EQ(st.mean_iteration_ns(), 750u);
    EXPECT_EQ(st.completed_ns, 0u);
    EXPECT_EQ(srtf_remaining_ns(st), 3.0 * 750);
    EXPECT_EQ(attained_service(st), 1500.0);

    s.at(2000).close(1);
    st = s.stats(1);
    EXPECT_EQ(st.state, SessionState::closed);
    EXPECT_EQ(st.completed_ns, 2000u);
    EXPECT_EQ(st.iterations_done, 2u);
    EXPECT_EQ(s.sched.open_sessions(), 0u);

    EXPECT_TRUE(s.sched.forget(1).ok());
    EXPECT_FALSE(s.sched.stats(1).has_value());
    EXPECT_EQ(s.sched.forget(1).code(), SALUS_ENOSESSION);
}

TEST(Accounting, QueueingDelayMatchesEachIterationToItsQueueTime) {
    Script s(Policy::fifo);
    s.admit(1, 0);
    s.at(0).queue(1);
    s.at(10).queue(1);
    s.at(20).queue(1);
    for (TimeNs t : {100, 200, 300}) {
        s.at(t);
        EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
        s.at(t + 50).finish(1);
    }
    SessionStats st = s.stats(1);
    EXPECT_EQ(st.queueing_delay_ns, 100u + 190u + 280u);
    EXPECT_EQ(st.run_ns, 150u);
    EXPECT_EQ(st.iterations_done, 3u);
}

TEST(Accounting, WeightScalesAttainedService) {
    Script s(Policy::fair);
    s.admit(1, 0, with_weight(4));
    s.queue(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(1000).finish(1);
    EXPECT_EQ(attained_service(s.stats(1)), 250.0);
}

TEST(Accounting, SnapshotListsKnownSessionsByIdIncludingClosed) {
    Script s(Policy::pack);
    s.admit(7, 0);
    s.admit(3, 1);
    s.admit(5, 0);
    s.close(5);
    std::vector<SessionStats> all;
    s.sched.snapshot(all);
    ASSERT_EQ(all.size(), 3u);
    EXPECT_EQ(all[0].id, 3u);
    EXPECT_EQ(all[1].id, 5u);
    EXPECT_EQ(all[1].state, SessionState::closed);
    EXPECT_EQ(all[2].id, 7u);
}

TEST(Names, PoliciesAndStatesRoundTrip) {
    for (Policy p : kAllPolicies) EXPECT_EQ(parse_policy(policy_name(p)), p);
    EXPECT_FALSE(parse_policy("lottery").has_value());
    EXPECT_STREQ(session_state_name(SessionState::queued), "queued");
    EXPECT_STREQ(session_state_name(SessionState::closing), "closing");
}

} // namespace
} // namespace salus::sched::test
