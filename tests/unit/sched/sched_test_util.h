// A scripted driver for the scheduler core: events at an explicit clock,
// each one expected to succeed, and the starts of every decide() collected.
#pragma once

#include "sched/scheduler.h"

#include <gtest/gtest.h>

#include <functional>
#include <ostream>
#include <string>
#include <vector>

namespace salus::sched {

inline std::ostream &operator<<(std::ostream &os, const Start &s) {
    return os << "(lane " << s.lane << ", session " << s.session << ")";
}

} // namespace salus::sched

namespace salus::sched::test {

using Starts = std::vector<Start>;

// Names parameterized tests after their policy: Sched/RandomEvents.Foo/srtf.
inline std::string policy_param_name(const ::testing::TestParamInfo<Policy> &param) {
    return policy_name(param.param);
}

inline SessionParams declared(uint64_t iterations) {
    SessionParams p;
    p.declared_iterations = iterations;
    return p;
}

inline SessionParams with_priority(int priority) {
    SessionParams p;
    p.priority = priority;
    return p;
}

inline SessionParams with_weight(double weight) {
    SessionParams p;
    p.weight = weight;
    return p;
}

struct Script {
    explicit Script(Policy policy) : sched(policy) {}

    Script &at(TimeNs t) {
        now = t;
        return *this;
    }
    void admit(SessionId id, LaneId lane, const SessionParams &params = {}) {
        Status st = sched.session_admitted(id, lane, params, now);
        EXPECT_TRUE(st.ok()) << st.message();
    }
    void queue(SessionId id, int iterations = 1) {
        for (int i = 0; i < iterations; ++i) {
            Status st = sched.iteration_queued(id, now);
            EXPECT_TRUE(st.ok()) << st.message();
        }
    }
    void finish(SessionId id) {
        Status st = sched.iteration_finished(id, now);
        EXPECT_TRUE(st.ok()) << st.message();
    }
    void close(SessionId id) {
        Status st = sched.session_closed(id, now);
        EXPECT_TRUE(st.ok()) << st.message();
    }
    Starts decide() {
        Starts out;
        sched.decide(now, out);
        return out;
    }
    SessionStats stats(SessionId id) const {
        auto s = sched.stats(id);
        EXPECT_TRUE(s.has_value()) << "no session " << id;
        return s.value_or(SessionStats{});
    }

    Scheduler sched;
    TimeNs now = 0;
};

// Runs iterations back to back on a single busy lane: starts what decide()
// picks, advances the clock by duration(session), finishes it, and (when
// `requeue`) queues one more for it, like a client that always has work.
// Returns the sessions in start order; stops after `count` starts or when
// nothing starts.
inline std::vector<SessionId> run_back_to_back(Script &s,
                                               const std::function<TimeNs(SessionId)> &duration,
                                               size_t count, bool requeue) {
    std::vector<SessionId> order;
    while (order.size() < count) {
        Starts starts = s.decide();
        if (starts.empty()) break;
        EXPECT_EQ(starts.size(), 1u);
        SessionId id = starts[0].session;
        order.push_back(id);
        s.at(s.now + duration(id)).finish(id);
        if (requeue) s.queue(id);
    }
    return order;
}

} // namespace salus::sched::test
