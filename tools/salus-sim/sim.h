// salus-sim's core: a discrete-event simulation of salusd that drives the
// daemon's own scheduler core (sched/scheduler.h) and memory admission
// (lanes/admission.h) exactly as the engine does, with simulated time in
// place of the clock and a table of iteration times in place of the device.
//
// What is modelled, as in salusd's engine: a job opens a session (admission:
// it gets a lane, waits for memory, or is refused), queues iterations, and
// closes when its last one ends, which releases its memory and may admit
// waiting sessions. A LayoutChange that pauses lanes or moves memory stops all
// scheduling until every running iteration has ended, then applies; the
// copies themselves take no time. Lanes run in parallel without slowing each
// other: an iteration always takes its workload's iter_s.
#pragma once

#include "lanes/lane_types.h"
#include "sched/event_format.h"
#include "sched/types.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace salus::sim {

using sched::TimeNs;

enum class ClientModel {
    pipelined, // the next iteration is queued as soon as the previous one starts
    sync,      // the next iteration is queued `think` after the previous one ends
};

// One job of the trace, with its workload's profile resolved.
struct JobSpec {
    std::string name;
    std::string workload;
    uint64_t iterations = 1; // >= 1; also its declared total (srtf)
    TimeNs submit_ns = 0;
    int priority = 0;
    uint64_t persistent_bytes = 0; // multiples of lanes::kLaneAlignment
    uint64_t ephemeral_bytes = 0;
    TimeNs iteration_ns = 1; // >= 1
};

struct SimOptions {
    sched::Policy policy = sched::Policy::pack;
    uint32_t lanes = 0;                  // at most this many lanes; 0: no limit
    uint64_t memory_bytes = 16ull << 30; // the pool: a P100's 16 GiB
    lanes::AdmissionMode admission = lanes::AdmissionMode::Safe;
    uint32_t max_overtakes = 4; // as salusd's default
    bool rebalance = true;      // a lane left empty takes a session of a crowded one
    ClientModel client = ClientModel::pipelined;
    TimeNs think_ns = 0;            // sync clients: from an iteration's end to the next request
    TimeNs hold_max_ns = 5'000'000; // the scheduler's hold cap, salusd's default 5 ms
    double jitter = 0;              // iteration time x (1 + jitter x U(-1, 1)); 0 <= jitter < 1
    uint64_t seed = 1;              // draws the jitter; nothing else is random
    bool check = false;             // verify the invariants after every event (costs time)
};

enum class JobStatus {
    done,    // ran all its iterations
    refused, // can never fit in the pool
};

struct JobResult {
    JobStatus status = JobStatus::done;
    std::string reason;     // why it was refused
    TimeNs admitted_ns = 0; // memory granted
    TimeNs first_start_ns = 0;
    TimeNs end_ns = 0; // its last iteration ended
    uint64_t iterations_done = 0;
    TimeNs run_ns = 0;      // sum of its iterations' durations
    TimeNs wait_ns = 0;     // time it had an iteration ready but not running
    uint32_t overtaken = 0; // sessions admitted ahead of it while it waited for memory
};

// The event log's kinds and format are salusd's (sched/event_format.h).
using sched::EventKind;

struct LogEntry {
    TimeNs t = 0;
    EventKind kind = EventKind::submit;
    size_t job = 0;    // index into the jobs; 0 for pause and resume
    uint32_t lane = 0; // for the kinds with a lane (sched::event_has_lane)
    // switch: the job the lane ran last (an index); hold: its length in ns;
    // unhold: a sched::HoldEnd.
    uint64_t value = 0;
};

// The state after every instant at which something changed, as applied: a
// pending LayoutChange counts once the pause ends, as in the daemon.
struct Sample {
    TimeNs t = 0;
    uint64_t reserved_bytes = 0; // sessions' persistent blocks and lanes' ephemeral regions
    uint64_t active_bytes = 0;   // sessions' P + the T of running iterations
    uint32_t running = 0;        // iterations running (busy lanes)
    uint32_t lanes = 0;
    uint32_t admitted = 0;
    uint32_t waiting = 0; // sessions waiting for memory
};

struct SimResult {
    std::vector<JobResult> jobs; // in the order of the input
    std::vector<LogEntry> log;
    std::vector<Sample> timeline;
    uint64_t bytes_moved = 0; // by re-partitioning
    std::string error;        // "" unless an invariant broke (with check) or a call failed
};

// Runs the jobs to completion. Deterministic for given jobs and options.
SimResult simulate(const std::vector<JobSpec> &jobs, const SimOptions &options);

} // namespace salus::sim
