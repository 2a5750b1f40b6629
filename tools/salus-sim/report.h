// salus-sim's output: the per-job rows, the summary, the timeline and the
// event log as CSV, and the readable table.
#pragma once

#include "sim.h"
#include "summary.h"

#include <ostream>
#include <string>
#include <vector>

namespace salus::sim {

using sched::seconds;

// job,workload,status,priority,iterations,submit_s,admitted_s,start_s,end_s,
// queue_s,wait_s,run_s,jct_s,overtaken (times blank for a refused job).
void write_jobs_csv(std::ostream &out, const std::vector<JobSpec> &jobs, const SimResult &result);
// metric,value: one row per figure of the summary.
void write_summary_csv(std::ostream &out, const Summary &summary);
// t_s,reserved_bytes,active_bytes,running,lanes,admitted,waiting.
void write_timeline_csv(std::ostream &out, const std::vector<Sample> &timeline);
// The event log, in salusd's format (sched/event_format.h).
void write_log_csv(std::ostream &out, const std::vector<JobSpec> &jobs,
                   const std::vector<LogEntry> &log);

// The readable report: the settings, a table of the jobs (when `jobs_table`),
// then the summary, whose only line with the word "average" gives the
// average JCT in seconds.
void print_report(std::ostream &out, const std::vector<JobSpec> &jobs, const SimResult &result,
                  const Summary &summary, const SimOptions &options, bool jobs_table);

} // namespace salus::sim
