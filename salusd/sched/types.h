// The vocabulary of the scheduler core: ids, timestamps, policies, session
// parameters and states, the per-session accounting it reports, and the
// decisions it hands back. Plain data, shared by the daemon and salus-sim.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace salus::sched {

using SessionId = uint64_t;
using LaneId = uint32_t;
// Nanoseconds on the caller's clock (CLOCK_MONOTONIC in the daemon, simulated
// time in salus-sim). The core never reads a clock; it only subtracts these.
using TimeNs = uint64_t;

enum class Policy {
    fifo,     // the earliest-admitted session owns the device until it closes
    srtf,     // shortest remaining time first, per lane
    pack,     // round-robin within each lane, lanes in parallel
    fair,     // least attained service (run time / weight) first, per lane
    priority, // higher priority first, round-robin among equals, per lane
};

inline constexpr Policy kAllPolicies[] = {Policy::fifo, Policy::srtf, Policy::pack, Policy::fair,
                                          Policy::priority};

const char *policy_name(Policy policy);
// The policy named `name` ("fifo", "srtf", ...), or nothing if none is.
std::optional<Policy> parse_policy(std::string_view name);

struct SessionParams {
    uint64_t declared_iterations = 0; // 0: the client declared no total
    int priority = 0;                 // higher runs first under Policy::priority
    double weight = 1.0;              // share under Policy::fair; must be > 0
    // Reported only: the memory planner's P and T for this session.
    uint64_t persistent_bytes = 0;
    uint64_t ephemeral_bytes = 0;
};

enum class SessionState {
    queued,  // waiting for admission: set by admission, never by the core
    ready,   // admitted, has queued iterations, waits for its lane
    waiting, // admitted, nothing queued and nothing running
    running, // one of its iterations runs on its lane
    closing, // closed while an iteration ran: leaves when that one finishes
    closed,  // gone from scheduling; its accounting stays until forgotten
};

const char *session_state_name(SessionState state);

// Everything the core knows about one session, copied out for reporting.
struct SessionStats {
    SessionId id = 0;
    LaneId lane = 0;
    SessionState state = SessionState::waiting;
    SessionParams params;
    uint64_t iterations_done = 0;   // finished iterations
    uint64_t iterations_queued = 0; // queued, not started yet
    // Sum over started iterations of (start - the time it was queued).
    TimeNs queueing_delay_ns = 0;
    TimeNs run_ns = 0; // sum of finished iterations' durations
    TimeNs admitted_ns = 0;
    TimeNs completed_ns = 0; // when it left scheduling; 0 while open

    // Mean duration of finished iterations; 0 before the first one.
    TimeNs mean_iteration_ns() const { return iterations_done ? run_ns / iterations_done : 0; }
};

// How a hold (see Scheduler) ended.
enum class HoldEnd {
    returned, // the session queued its next iteration in time: it runs next
    expired,  // it did not come back before the hold's end: the lane idled for nothing
    early,    // released before its end: a session the policy prefers became ready,
              // the session closed or moved, or the policy or hold_max changed
};

const char *hold_end_name(HoldEnd why);

// Holds since the scheduler began, over all lanes.
struct HoldStats {
    uint64_t granted = 0;
    uint64_t returned = 0;
    uint64_t expired = 0;
    uint64_t early = 0;
    TimeNs held_ns = 0; // time lanes spent held, over the holds that ended
};

// One decision: start the next queued iteration of `session` on `lane`.
struct Start {
    LaneId lane = 0;
    SessionId session = 0;

    bool operator==(const Start &other) const {
        return lane == other.lane && session == other.session;
    }
};

} // namespace salus::sched
