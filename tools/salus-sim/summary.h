// The figures of one simulation: job completion times, makespan, and memory
// and device utilization over time.
#pragma once

#include "sim.h"

#include <cstddef>
#include <vector>

namespace salus::sim {

struct Summary {
    size_t jobs = 0;
    size_t done = 0;
    size_t refused = 0;
    // Over the jobs that ran, in seconds. JCT: submission to last iteration's
    // end; queueing delay: submission to first iteration's start.
    double jct_mean_s = 0;
    double jct_p50_s = 0;
    double jct_p95_s = 0;
    double jct_p99_s = 0;
    double jct_max_s = 0;
    double queue_mean_s = 0;
    double queue_max_s = 0;
    double makespan_s = 0; // first submission to last end
    // Over the makespan, as fractions of the pool, time-weighted.
    double reserved_mean = 0; // held by lanes (persistent blocks, ephemeral regions)
    double reserved_peak = 0;
    double active_mean = 0; // admitted P + T of running iterations
    double active_peak = 0;
    double busy = 0;         // fraction of the makespan with an iteration running
    double running_mean = 0; // iterations running at once, time-weighted
    uint32_t lanes_peak = 0;
    uint64_t bytes_moved = 0;
};

// Nearest-rank percentile (0 < p <= 1) of values; 0 when there are none.
double percentile(std::vector<double> values, double p);

Summary summarize(const std::vector<JobSpec> &jobs, const SimResult &result,
                  const SimOptions &options);

} // namespace salus::sim
