// Each policy's order within a lane, as a key: the ready session with the
// smallest key starts next. Keys depend only on fields that change while the
// session is out of the ready heap (running), so a key is computed when the
// session enters the heap and stays valid until it leaves.
#pragma once

#include "sched/ready_heap.h"
#include "sched/session_record.h"
#include "sched/types.h"

namespace salus::sched {

// srtf's estimate of a session's remaining time, in nanoseconds:
//   (declared_iterations - iterations_done) x mean iteration time.
// +infinity when unknown: the session declared nothing, or has already run
// all it declared (its declaration no longer tells anything).
// 0 when it declared a total but has no finished iteration yet, so it runs
// one iteration at the next boundary and gets measured.
double srtf_remaining_ns(const SessionStats &stats);

// fair's measure: run time divided by weight.
double attained_service(const SessionStats &stats);

ReadyKey ready_key(Policy policy, const SessionRecord &session);
// The key the session would have with round-robin position `ready_seq`.
ReadyKey ready_key(Policy policy, const SessionRecord &session, uint64_t ready_seq);

} // namespace salus::sched
