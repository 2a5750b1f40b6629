// Holds: a lane waits briefly for the session the policy prefers when that
// session's client is synchronous (queues its next iteration only after the
// reply). Scripted sequences, and a small event loop of synchronous clients
// on one lane driven by decide()'s wake-up times.
#include "sched_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <vector>

namespace salus::sched::test {
namespace {

constexpr TimeNs kHoldMax = 2'000;
constexpr TimeNs kNever = std::numeric_limits<TimeNs>::max();

struct Client {
    SessionId id = 0;
    SessionParams params;
    TimeNs iteration_ns = 1'000; // run time of one iteration
    TimeNs gap_ns = 50;          // from the end of an iteration to the next request
    uint64_t iterations = 0;     // to run; 0: until the loop stops
    uint64_t done = 0;
    TimeNs next_request = kNever;
    TimeNs finished_at = 0; // when its last iteration ended
};

// Synchronous clients on lane 0: each queues one iteration, waits for it to
// end, and queues the next gap_ns later. Events at equal times: iteration
// ends, then requests, then one decide().
class SyncLane {
  public:
    SyncLane(Policy policy, TimeNs hold_max) : sched_(policy) { sched_.set_hold_max(hold_max); }

    void add(Client c) {
        c.next_request = now_;
        EXPECT_TRUE(sched_.session_admitted(c.id, 0, c.params, now_).ok());
        clients_[c.id] = c;
    }

    // Runs until `until` or until every client with a count is done.
    void run(TimeNs until) {
        while (now_ < until) {
            TimeNs next = std::min(running_end_, wake_.value_or(kNever));
            for (auto &[id, c] : clients_) next = std::min(next, c.next_request);
            if (next == kNever) break;
            now_ = next;
            if (running_end_ == now_) finish();
            for (auto &[id, c] : clients_) {
                if (c.next_request != now_) continue;
                c.next_request = kNever;
                EXPECT_TRUE(sched_.iteration_queued(id, now_).ok());
            }
            decide();
        }
    }

    const Client &client(SessionId id) { return clients_.at(id); }
    const std::vector<SessionId> &order() const { return order_; }
    TimeNs now() const { return now_; }

  private:
    void finish() {
        Client &c = clients_.at(running_);
        EXPECT_TRUE(sched_.iteration_finished(c.id, now_).ok());
        ++c.done;
        c.finished_at = now_;
        if (c.iterations == 0 || c.done < c.iterations) {
            c.next_request = now_ + c.gap_ns;
        } else {
            EXPECT_TRUE(sched_.session_closed(c.id, now_).ok());
        }
        running_end_ = kNever;
    }

    void decide() {
        Starts out;
        wake_ = sched_.decide(now_, out);
        if (wake_) {
            EXPECT_GT(*wake_, now_);
        }
        ASSERT_LE(out.size(), 1u);
        if (out.empty()) return;
        running_ = out[0].session;
        running_end_ = now_ + clients_.at(running_).iteration_ns;
        order_.push_back(running_);
    }

    Scheduler sched_;
    std::map<SessionId, Client> clients_;
    TimeNs now_ = 0;
    SessionId running_ = 0;
    TimeNs running_end_ = kNever;
    std::optional<TimeNs> wake_;
    std::vector<SessionId> order_;
};

Client sync_client(SessionId id, SessionParams params, TimeNs gap_ns = 50) {
    Client c;
    c.id = id;
    c.params = params;
    c.gap_ns = gap_ns;
    return c;
}

// The share of the lane's iterations that went to `id`.
double share(const SyncLane &lane, SessionId id) {
    const std::vector<SessionId> &order = lane.order();
    return static_cast<double>(std::count(order.begin(), order.end(), id)) /
           static_cast<double>(order.size());
}

TEST(Holds, SynchronousPriorityClientsGetTheLaneAsDocumented) {
    SyncLane lane(Policy::priority, kHoldMax);
    lane.add(sync_client(1, with_priority(10)));
    lane.add(sync_client(2, with_priority(5)));
    lane.add(sync_client(3, with_priority(0)));
    lane.run(1'000'000);
    // Until a gap is measured the others slip in; then only the top one runs.
    EXPECT_GT(share(lane, 1), 0.99);
    const std::vector<SessionId> &order = lane.order();
    EXPECT_TRUE(std::all_of(order.begin() + 10, order.end(), [](SessionId id) { return id == 1; }));
}

TEST(Holds, WithoutThemSynchronousPriorityClientsShareTheLane) {
    // The behaviour holds fix: the top session gets every other iteration.
    SyncLane lane(Policy::priority, 0);
    lane.add(sync_client(1, with_priority(10)));
    lane.add(sync_client(2, with_priority(5)));
    lane.add(sync_client(3, with_priority(0)));
    lane.run(1'000'000);
    EXPECT_NEAR(share(lane, 1), 0.5, 0.01);
    EXPECT_NEAR(share(lane, 2), 0.5, 0.01);
}

TEST(Holds, SynchronousSrtfClientsFinishInTheIdealOrder) {
    SyncLane lane(Policy::srtf, kHoldMax);
    Client longer = sync_client(1, declared(600));
    longer.iterations = 600;
    Client shorter = sync_client(2, declared(300));
    shorter.iterations = 300;
    lane.add(longer);
    lane.add(shorter);
    lane.run(kNever - 1);
    EXPECT_EQ(lane.client(1).done, 600u);
    EXPECT_EQ(lane.client(2).done, 300u);
    // The short one ran alone but for the first few iterations (the long one
    // ran its first to be measured, and slipped in before gaps were known).
    EXPECT_LT(lane.client(2).finished_at, 310 * 1'050);
    EXPECT_LT(lane.client(2).finished_at, lane.client(1).finished_at);
}

TEST(Holds, WithoutThemSynchronousSrtfClientsAlternate) {
    SyncLane lane(Policy::srtf, 0);
    Client longer = sync_client(1, declared(600));
    longer.iterations = 600;
    Client shorter = sync_client(2, declared(300));
    shorter.iterations = 300;
    lane.add(longer);
    lane.add(shorter);
    lane.run(kNever - 1);
    EXPECT_GT(lane.client(2).finished_at, 590 * 1'000);
}

TEST(Holds, EqualPrioritiesStayRoundRobin) {
    SyncLane lane(Policy::priority, kHoldMax);
    lane.add(sync_client(1, with_priority(3)));
    lane.add(sync_client(2, with_priority(3)));
    lane.run(1'000'000);
    EXPECT_NEAR(share(lane, 1), 0.5, 0.01);
}

TEST(Holds, PackAndFifoNeverHold) {
    for (Policy policy : {Policy::pack, Policy::fifo}) {
        SyncLane lane(policy, kHoldMax);
        lane.add(sync_client(1, with_priority(10)));
        lane.add(sync_client(2, with_priority(0)));
        lane.run(100'000);
        // pack alternates; fifo gives the lane to the first session only.
        EXPECT_NEAR(share(lane, 1), policy == Policy::pack ? 0.5 : 1.0, 0.02)
            << policy_name(policy);
    }
}

TEST(Holds, FairHoldsForTheSessionBehindItsShare) {
    SyncLane lane(Policy::fair, kHoldMax);
    lane.add(sync_client(1, with_weight(3)));
    lane.add(sync_client(2, with_weight(1)));
    lane.run(4'000'000);
    EXPECT_NEAR(share(lane, 1), 0.75, 0.02);
}

TEST(Holds, SlowClientsAreNotHeldFor) {
    // Its gap is longer than the longest hold: waiting would mostly be wasted.
    SyncLane lane(Policy::priority, kHoldMax);
    lane.add(sync_client(1, with_priority(10), kHoldMax + 100));
    lane.add(sync_client(2, with_priority(0)));
    lane.run(1'000'000);
    EXPECT_LT(share(lane, 1), 0.5);
}

// Session 1 (priority 10) and 2 (priority 0) on lane 0; 1 has come back
// twice after 100 ns (smoothed gap 100, mean deviation 38), so a hold for
// it lasts 2 x 100 + 4 x 38 = 352 ns.
Script measured_pair(TimeNs hold_max = kHoldMax) {
    Script s(Policy::priority);
    s.sched.set_hold_max(hold_max);
    s.admit(1, 0, with_priority(10));
    s.admit(2, 0, with_priority(0));
    TimeNs t = 0;
    for (int i = 0; i < 3; ++i) {
        s.at(t).queue(1);
        EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
        s.at(t + 1'000).finish(1);
        t += 1'100;
    }
    EXPECT_EQ(s.decide(), Starts{});
    return s;
}

TEST(Holds, HoldExpiresAndTheNextReadySessionRuns) {
    Script s = measured_pair();
    // 1 finished at 3'200 with nothing queued: its lane is held until 3'552.
    auto hold = s.sched.hold(0);
    ASSERT_TRUE(hold.has_value());
    EXPECT_EQ(hold->session, 1u);
    EXPECT_EQ(hold->until, 3'552u);
    s.at(3'250).queue(2);
    Starts out;
    EXPECT_EQ(s.sched.decide(s.now, out), std::optional<TimeNs>(3'552));
    EXPECT_EQ(out, Starts{});
    s.at(3'551);
    EXPECT_EQ(s.sched.decide(s.now, out), std::optional<TimeNs>(3'552));
    EXPECT_EQ(out, Starts{});
    s.at(3'552);
    EXPECT_EQ(s.sched.decide(s.now, out), std::nullopt);
    EXPECT_EQ(out, (Starts{{0, 2}}));
    EXPECT_FALSE(s.sched.hold(0).has_value());
}

TEST(Holds, TheHeldSessionStartsAsSoonAsItQueues) {
    Script s = measured_pair();
    s.at(3'250).queue(2);
    EXPECT_EQ(s.decide(), Starts{});
    s.at(3'300).queue(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    EXPECT_EQ(s.stats(1).queueing_delay_ns, 0u);
}

TEST(Holds, NothingWaitingCostsNothing) {
    Script s = measured_pair();
    // Nobody else is ready: no wake-up is asked for, and a newcomer of the
    // preferred session's own starts at once.
    Starts out;
    EXPECT_EQ(s.sched.decide(s.now, out), std::nullopt);
    s.at(3'400).queue(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
}

TEST(Holds, NoHoldWhenTheSessionIsNotTheFavourite) {
    Script s = measured_pair();
    s.at(3'250).queue(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.admit(3, 0, with_priority(20));
    s.queue(3);
    s.at(4'250).finish(1);
    EXPECT_FALSE(s.sched.hold(0).has_value());
    EXPECT_EQ(s.decide(), (Starts{{0, 3}}));
}

TEST(Holds, APreferredSessionEndsTheHold) {
    Script s = measured_pair();
    s.at(3'250).queue(2);
    EXPECT_EQ(s.decide(), Starts{});
    s.admit(3, 0, with_priority(20));
    s.at(3'260).queue(3);
    EXPECT_EQ(s.decide(), (Starts{{0, 3}}));
}

TEST(Holds, NoHoldBeforeAGapIsMeasured) {
    Script s(Policy::priority);
    s.sched.set_hold_max(kHoldMax);
    s.admit(1, 0, with_priority(10));
    s.admit(2, 0, with_priority(0));
    s.queue(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.at(1'000).finish(1);
    EXPECT_FALSE(s.sched.hold(0).has_value());
    s.queue(2);
    EXPECT_EQ(s.decide(), (Starts{{0, 2}}));
    // Its first gap (1'000 to 2'100) sizes the next hold: 2 x 1'100 + 4 x 550.
    s.at(2'000).finish(2);
    s.at(2'100).queue(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.queue(2);
    s.at(3'100).finish(1);
    ASSERT_TRUE(s.sched.hold(0).has_value());
    EXPECT_EQ(s.sched.hold(0)->until, 3'100u + 2'000u); // capped at hold-max
}

TEST(Holds, CloseMovePolicyAndHoldMaxZeroEndAHold) {
    {
        Script s = measured_pair();
        s.at(3'250).queue(2);
        EXPECT_EQ(s.decide(), Starts{});
        s.close(1);
        EXPECT_EQ(s.decide(), (Starts{{0, 2}}));
    }
    {
        Script s = measured_pair();
        s.at(3'250).queue(2);
        EXPECT_EQ(s.decide(), Starts{});
        EXPECT_TRUE(s.sched.session_moved(1, 1, s.now).ok());
        EXPECT_EQ(s.decide(), (Starts{{0, 2}}));
    }
    {
        Script s = measured_pair();
        s.at(3'250).queue(2);
        EXPECT_EQ(s.decide(), Starts{});
        s.sched.set_policy(Policy::pack, s.now);
        EXPECT_EQ(s.decide(), (Starts{{0, 2}}));
    }
    {
        Script s = measured_pair();
        s.at(3'250).queue(2);
        EXPECT_EQ(s.decide(), Starts{});
        s.sched.set_hold_max(0);
        EXPECT_EQ(s.decide(), (Starts{{0, 2}}));
    }
}

TEST(Holds, HoldIsCappedByHoldMax) {
    Script s = measured_pair(250);
    auto hold = s.sched.hold(0);
    ASSERT_TRUE(hold.has_value());
    EXPECT_EQ(hold->until, 3'200u + 250u);
}

TEST(Holds, APauseDoesNotStopHolds) {
    Script s = measured_pair();
    // A 10 ms pause (an evaluation, a checkpoint) counts as 2 x hold-max:
    // the smoothed gap stays below hold-max instead of ruling out holds for
    // the next fifty iterations.
    TimeNs t = 3'200 + 10'000'000;
    int held = 0;
    for (int i = 0; i < 20; ++i) {
        s.at(t).queue(1);
        EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
        s.at(t + 1'000).finish(1);
        held += s.sched.hold(0).has_value();
        t += 1'100;
    }
    EXPECT_EQ(held, 20);
}

} // namespace
} // namespace salus::sched::test

namespace salus::sched::test {
namespace {

// Holds counted by how they end, and the time lanes spent held.
TEST(HoldStats, CountEachEndAndTheTimeHeld) {
    Script s = measured_pair();
    // Held at 2'100 until 1 came back at 2'200, held again since 3'200.
    EXPECT_EQ(s.sched.hold_stats().granted, 2u);
    EXPECT_EQ(s.sched.hold_stats().returned, 1u);
    EXPECT_EQ(s.sched.hold_stats().held_ns, 100u);
    s.at(3'250).queue(2);
    EXPECT_EQ(s.decide(), Starts{});
    s.at(3'552);
    EXPECT_EQ(s.decide(), (Starts{{0, 2}}));
    const HoldStats &h = s.sched.hold_stats();
    EXPECT_EQ(h.granted, 2u);
    EXPECT_EQ(h.expired, 1u);
    EXPECT_EQ(h.early, 0u);
    EXPECT_EQ(h.held_ns, 100u + 352u);
}

TEST(HoldStats, APreferredSessionEndsAHoldEarly) {
    Script s = measured_pair();
    s.admit(3, 0, with_priority(20));
    s.at(3'260).queue(3);
    EXPECT_EQ(s.decide(), (Starts{{0, 3}}));
    EXPECT_EQ(s.sched.hold_stats().early, 1u);
    EXPECT_EQ(s.sched.hold_stats().held_ns, 100u + 60u);
}

// What the event log hears from the core.
struct Recorder : Observer {
    std::vector<std::string> events;
    void switched(LaneId lane, SessionId from, SessionId to, TimeNs now) override {
        events.push_back("switch lane " + std::to_string(lane) + " " + std::to_string(from) + "->" +
                         std::to_string(to) + " at " + std::to_string(now));
    }
    void held(LaneId lane, SessionId session, TimeNs until, TimeNs now) override {
        events.push_back("hold lane " + std::to_string(lane) + " for " + std::to_string(session) +
                         " " + std::to_string(now) + ".." + std::to_string(until));
    }
    void hold_ended(LaneId lane, SessionId session, HoldEnd why, TimeNs now) override {
        events.push_back("unhold lane " + std::to_string(lane) + " for " + std::to_string(session) +
                         " " + hold_end_name(why) + " at " + std::to_string(now));
    }
};

TEST(Observer, HearsSwitchesAndHoldsInOrder) {
    Script s = measured_pair();
    Recorder r;
    s.sched.set_observer(&r);
    s.at(3'300).queue(1); // back within the hold
    EXPECT_EQ(s.decide(), (Starts{{0, 1}}));
    s.queue(2);
    s.at(4'300).finish(1); // 2 waits: 1 is preferred and held for
    EXPECT_EQ(s.decide(), Starts{});
    s.at(4'616);
    EXPECT_EQ(s.decide(), (Starts{{0, 2}}));
    s.at(5'616).finish(2);
    s.sched.set_observer(nullptr);
    s.queue(1);
    EXPECT_EQ(s.decide(), (Starts{{0, 1}})); // unheard
    EXPECT_EQ(r.events, (std::vector<std::string>{
                            "unhold lane 0 for 1 returned at 3300",
                            "hold lane 0 for 1 4300..4616",
                            "unhold lane 0 for 1 expired at 4616",
                            "switch lane 0 1->2 at 4616",
                        }));
}

} // namespace
} // namespace salus::sched::test
