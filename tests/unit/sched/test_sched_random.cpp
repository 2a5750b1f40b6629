// Randomized consistency: many random events under each policy (and with
// random policy switches), checked against a plain model after every
// decision: one iteration per lane, only sessions with queued work start,
// closed sessions never start, idle lanes with ready work get it, and every
// queued iteration eventually runs.
#include "sched/ready_heap.h"
#include "sched_test_util.h"

#include <gtest/gtest.h>

#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace salus::sched::test {
namespace {

struct ModelSession {
    LaneId lane = 0;
    uint64_t admission = 0;
    uint64_t queued = 0;
    uint64_t done = 0;
    bool running = false;
    bool closed = false; // closing or closed: must never start again
};

class Model {
  public:
    // hold_max > 0: holds on, so a lane may idle with ready work while held.
    Model(Policy policy, uint32_t seed, TimeNs hold_max = 0)
        : sched_(policy), policy_(policy), rng_(seed) {
        sched_.set_hold_max(hold_max);
    }

    void run(int events, bool switch_policies) {
        for (int i = 0; i < events && !::testing::Test::HasFailure(); ++i) {
            step(switch_policies);
            if (rng_() % 3 != 0) decide(); // sometimes several events per decision
        }
        drain();
    }

  private:
    uint32_t pick(size_t n) { return static_cast<uint32_t>(rng_() % n); }

    std::vector<SessionId> matching(bool want_running) {
        std::vector<SessionId> ids;
        for (auto &[id, m] : sessions_) {
            if (!m.closed && m.running == want_running) ids.push_back(id);
        }
        return ids;
    }
    std::vector<SessionId> open_ids() {
        std::vector<SessionId> ids;
        for (auto &[id, m] : sessions_) {
            if (!m.closed) ids.push_back(id);
        }
        return ids;
    }

    void step(bool switch_policies) {
        now_ += 1 + pick(1000);
        uint32_t roll = pick(100);
        std::vector<SessionId> open = open_ids();
        if (roll < 10 || open.empty()) {
            admit();
        } else if (roll < 55) {
            SessionId id = open[pick(open.size())];
            ASSERT_TRUE(sched_.iteration_queued(id, now_).ok());
            ++sessions_[id].queued;
        } else if (roll < 85) {
            finish_one();
        } else if (roll < 90) {
            SessionId id = open[pick(open.size())];
            ASSERT_TRUE(sched_.session_closed(id, now_).ok());
            sessions_[id].closed = true;
            sessions_[id].queued = 0;
        } else if (roll < 95) {
            std::vector<SessionId> idle = matching(false);
            if (idle.empty()) return;
            SessionId id = idle[pick(idle.size())];
            LaneId lane = pick(lanes_);
            ASSERT_TRUE(sched_.session_moved(id, lane, now_).ok());
            sessions_[id].lane = lane;
        } else if (switch_policies) {
            policy_ = kAllPolicies[pick(std::size(kAllPolicies))];
            sched_.set_policy(policy_, now_);
        }
    }

    void admit() {
        SessionId id = next_id_++;
        SessionParams p;
        p.declared_iterations = pick(3) == 0 ? 0 : 1 + pick(20);
        p.priority = static_cast<int>(pick(4));
        p.weight = 0.5 + pick(4);
        LaneId lane = pick(lanes_);
        ASSERT_TRUE(sched_.session_admitted(id, lane, p, now_).ok());
        sessions_[id] = ModelSession{lane, id, 0, 0, false, false};
    }

    // Finishes the iteration running on a random busy lane, if any.
    bool finish_one() {
        if (lane_running_.empty()) return false;
        auto it = std::next(lane_running_.begin(), pick(lane_running_.size()));
        SessionId id = it->second;
        lane_running_.erase(it);
        EXPECT_TRUE(sched_.iteration_finished(id, now_).ok());
        ModelSession &m = sessions_[id];
        m.running = false;
        ++m.done;
        return true;
    }

    void decide() {
        out_.clear();
        size_t running_before = lane_running_.size();
        sched_.decide(now_, out_);
        if (policy_ == Policy::fifo) {
            ASSERT_LE(out_.size(), 1u);
            if (!out_.empty()) {
                EXPECT_EQ(running_before, 0u) << "fifo shares the device";
            }
        }
        for (const Start &start : out_) {
            auto it = sessions_.find(start.session);
            ASSERT_NE(it, sessions_.end());
            ModelSession &m = it->second;
            EXPECT_FALSE(m.closed) << "closed session " << start.session << " started";
            EXPECT_GT(m.queued, 0u) << "session " << start.session << " started with nothing";
            EXPECT_FALSE(m.running) << "session " << start.session << " started twice";
            EXPECT_EQ(m.lane, start.lane);
            EXPECT_EQ(lane_running_.count(start.lane), 0u) << "two on lane " << start.lane;
            lane_running_[start.lane] = start.session;
            m.running = true;
            --m.queued;
        }
        check_work_conserving();
    }

    // After a decision no lane the policy may use sits idle with ready work.
    void check_work_conserving() {
        if (policy_ == Policy::fifo) {
            if (!lane_running_.empty()) return;
            for (auto &[id, m] : sessions_) {
                if (m.closed) continue;
                EXPECT_EQ(m.queued, 0u) << "fifo owner " << id << " left waiting";
                return; // the oldest open session is the only one that counts
            }
            return;
        }
        for (auto &[id, m] : sessions_) {
            if (!m.closed && m.queued > 0 && !lane_running_.count(m.lane) && !held(m.lane)) {
                ADD_FAILURE() << policy_name(policy_) << ": lane " << m.lane << " idle while " << id
                              << " is ready";
                return;
            }
        }
    }

    // Whether a hold keeps the lane now, for an open session that waits,
    // no longer than hold-max.
    bool held(LaneId lane) {
        auto hold = sched_.hold(lane);
        if (!hold || hold->until <= now_) return false;
        ++held_checks_;
        EXPECT_LE(hold->until, now_ + sched_.hold_max());
        auto it = sessions_.find(hold->session);
        EXPECT_TRUE(it != sessions_.end() && !it->second.closed && !it->second.running &&
                    it->second.queued == 0)
            << "lane " << lane << " held for session " << hold->session;
        return true;
    }

    // Clients stop adding work, finish it, and close once they run dry.
    void drain() {
        for (int guard = 0; guard < 1'000'000 && !::testing::Test::HasFailure(); ++guard) {
            now_ += 1 + pick(1000);
            decide();
            if (finish_one()) continue;
            bool closed_one = false;
            for (auto &[id, m] : sessions_) {
                if (!m.closed && m.queued == 0) {
                    ASSERT_TRUE(sched_.session_closed(id, now_).ok());
                    m.closed = true;
                    closed_one = true;
                    break;
                }
            }
            if (!closed_one) break;
        }
        for (auto &[id, m] : sessions_) {
            EXPECT_EQ(m.queued, 0u) << "session " << id << " never ran all it queued";
            auto st = sched_.stats(id);
            ASSERT_TRUE(st.has_value());
            EXPECT_EQ(st->iterations_done, m.done);
            EXPECT_EQ(st->state, SessionState::closed);
        }
        EXPECT_EQ(sched_.open_sessions(), 0u);
        EXPECT_EQ(sched_.running_iterations(), 0u);
    }

  public:
    int held_checks_ = 0; // times a hold excused an idle lane

  private:
    Scheduler sched_;
    Policy policy_;
    std::mt19937 rng_;
    uint32_t lanes_ = 1 + static_cast<uint32_t>(rng_() % 5);
    TimeNs now_ = 0;
    SessionId next_id_ = 1;
    std::map<SessionId, ModelSession> sessions_;
    std::map<LaneId, SessionId> lane_running_;
    std::vector<Start> out_;
};

class RandomEvents : public ::testing::TestWithParam<Policy> {};

TEST_P(RandomEvents, ConsistentWithTheModel) {
    for (uint32_t seed = 1; seed <= 8 && !HasFailure(); ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        Model(GetParam(), seed).run(4'000, false);
    }
}

INSTANTIATE_TEST_SUITE_P(Sched, RandomEvents, ::testing::ValuesIn(kAllPolicies), policy_param_name);

// Holds need measured gaps shorter than hold-max; events come 1 to 1'000 apart.
TEST_P(RandomEvents, ConsistentWithTheModelWithHolds) {
    for (uint32_t seed = 1; seed <= 8 && !HasFailure(); ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        Model model(GetParam(), seed, 100'000);
        model.run(4'000, false);
        if (GetParam() != Policy::fifo && GetParam() != Policy::pack) {
            EXPECT_GT(model.held_checks_, 0);
        }
    }
}

TEST(RandomEventsWithSwitches, ConsistentWithTheModel) {
    for (uint32_t seed = 100; seed < 110 && !HasFailure(); ++seed) {
        SCOPED_TRACE("seed " + std::to_string(seed));
        Model(Policy::pack, seed).run(4'000, true);
    }
}

// The per-lane heap against an ordered set: pushes, pops and erasures from
// the middle in random order, with many equal primaries.
TEST(ReadyHeapRandom, MatchesAnOrderedSet) {
    std::mt19937 rng(7);
    constexpr uint32_t kSlots = 300;
    ReadyHeap heap;
    ReadyHeap::Positions pos(kSlots, kNotInHeap);
    std::set<std::pair<std::pair<double, uint64_t>, uint32_t>> model;
    std::vector<ReadyKey> key_of(kSlots);
    uint64_t seq = 0;
    for (int i = 0; i < 50'000; ++i) {
        uint32_t slot = rng() % kSlots;
        uint32_t roll = rng() % 3;
        if (pos[slot] == kNotInHeap) {
            key_of[slot] = {static_cast<double>(rng() % 10), seq++};
            heap.push(slot, key_of[slot], pos);
            model.insert({{key_of[slot].primary, key_of[slot].secondary}, slot});
        } else if (roll == 0) {
            heap.erase(slot, pos);
            model.erase({{key_of[slot].primary, key_of[slot].secondary}, slot});
        } else if (!model.empty()) {
            ASSERT_EQ(heap.pop(pos), model.begin()->second);
            model.erase(model.begin());
        }
        ASSERT_EQ(heap.size(), model.size());
        if (!model.empty()) {
            ASSERT_EQ(heap.top(), model.begin()->second);
        }
    }
    for (size_t i = 0; i < heap.size(); ++i) EXPECT_EQ(pos[heap.slot_at(i)], i);
}

} // namespace
} // namespace salus::sched::test
