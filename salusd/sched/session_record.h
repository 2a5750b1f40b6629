// What the core keeps per session: the reported accounting plus the
// bookkeeping that places the session in its lane and in admission order.
// Internal to the scheduler core.
#pragma once

#include "sched/timestamp_ring.h"
#include "sched/types.h"

#include <cstdint>
#include <limits>

namespace salus::sched {

constexpr uint32_t kNoSlot = std::numeric_limits<uint32_t>::max();

struct SessionRecord {
    SessionStats stats;
    uint32_t lane_index = 0;
    // Queue times of the iterations not started yet, oldest first.
    TimestampRing queued_at;
    TimeNs started_ns = 0;      // start of the running iteration
    uint64_t admission_seq = 0; // order of session_admitted calls
    uint64_t ready_seq = 0;     // order of entering the ready heap: round-robin position
    // Open sessions in admission order (fifo's queue), as slots.
    uint32_t prev_admitted = kNoSlot;
    uint32_t next_admitted = kNoSlot;
    // The gap between an iteration that left nothing queued and the
    // session's next request (a synchronous client's turnaround): when the
    // open one began, and the smoothed gap and its mean deviation, from
    // `gap_samples` samples. Sizes the hold (see Scheduler).
    TimeNs gap_since = 0;
    bool gap_open = false;
    int64_t gap_mean_ns = 0;
    int64_t gap_dev_ns = 0;
    uint32_t gap_samples = 0;
    bool in_use = false; // false: a free slot
};

} // namespace salus::sched
