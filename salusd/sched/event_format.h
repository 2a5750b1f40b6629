// The event log's vocabulary and line format, one for salusd (--event-log)
// and salus-sim (--log), so that one script reads both. CSV, one event a
// line, under the header kEventLogHeader:
//
//   t_s     seconds with six decimals: salus-sim's simulated time, salusd's
//           CLOCK_MONOTONIC (the clock of salus_session_info's admitted_ns)
//   event   one of event_kind_name()'s names
//   job     salus-sim: the job's name; salusd: the session id
//   lane    the lane, for the kinds event_has_lane() names; else empty
//   detail  per kind (see EventKind); never a comma or a line break
//
// Lines come in the order the events were recorded; in salusd, events of
// different lanes recorded on different threads may go back in t_s by a few
// microseconds from one line to the next.
#pragma once

#include "sched/types.h"

#include <string>
#include <string_view>

namespace salus::sched {

enum class EventKind {
    submit,     // a session is asked for; detail: its name (salusd)
    wait,       // it waits for memory
    refuse,     // it can never be admitted; detail: why, as an error name (salusd)
    admit,      // memory granted on `lane`
    join,       // the scheduler has it, on `lane`
    move,       // re-partitioning or rebalancing moved it to `lane`
    request,    // its client queued an iteration
    start,      // an iteration starts on `lane`; detail: the work when not an iteration
    end,        // that iteration ends on `lane`; detail: "failed" when it failed
    job_switch, // "switch": `lane` starts another session than its last iteration's;
                // detail: that one's job
    hold,       // `lane` is held for the session; detail: the hold's length in seconds
    unhold,     // the hold ends; detail: returned, expired or early (HoldEnd)
    close,      // the session closed, its memory released
    pause,      // scheduling stops until every running iteration has ended
    resume,     // the pending layout changes applied, scheduling resumes
    dropped,    // salusd lost events (its queue was full); detail: how many
};

inline constexpr std::string_view kEventLogHeader = "t_s,event,job,lane,detail\n";

const char *event_kind_name(EventKind kind);
// Whether the kind's lane column is filled.
bool event_has_lane(EventKind kind);

// Nanoseconds as seconds with six decimals.
std::string seconds(TimeNs ns);

// Appends one line (with its newline). `lane` is written only for the kinds
// with one; commas and line breaks in `job` and `detail` become '_'.
void append_event_line(std::string &out, TimeNs t, EventKind kind, std::string_view job,
                       LaneId lane, std::string_view detail);

} // namespace salus::sched
