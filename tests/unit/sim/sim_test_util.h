// Helpers for the salus-sim tests: jobs in seconds and MiB, a run that
// expects no error, and the checks every event log must pass.
#pragma once

#include "sim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace salus::sim::test {

constexpr TimeNs kSecond = 1'000'000'000;

inline TimeNs ns(double s) {
    return static_cast<TimeNs>(std::llround(s * 1e9));
}

inline JobSpec job(const std::string &name, uint64_t iterations, double submit_s, double iter_s,
                   int priority = 0, uint64_t p_mib = 100, uint64_t t_mib = 200) {
    JobSpec j;
    j.name = name;
    j.workload = "w";
    j.iterations = iterations;
    j.submit_ns = ns(submit_s);
    j.iteration_ns = ns(iter_s);
    j.priority = priority;
    j.persistent_bytes = p_mib << 20;
    j.ephemeral_bytes = t_mib << 20;
    return j;
}

inline SimResult run_checked(const std::vector<JobSpec> &jobs, SimOptions options) {
    options.check = true;
    SimResult r = simulate(jobs, options);
    EXPECT_EQ(r.error, "");
    return r;
}

// Each job's completion time in seconds, in input order.
inline std::vector<double> ends(const SimResult &r) {
    std::vector<double> out;
    for (const JobResult &j : r.jobs) out.push_back(static_cast<double>(j.end_ns) * 1e-9);
    return out;
}

// The log's own invariants, independent of the simulator's checks: one
// iteration per lane at a time, every job done or refused with all its
// iterations started and ended, and no session waiting for memory overtaken
// more than max_overtakes times. "" or the first problem.
inline std::string check_log(const std::vector<JobSpec> &jobs, const SimResult &r,
                             const SimOptions &options) {
    std::map<uint32_t, size_t> busy; // lane -> job running there
    std::vector<uint64_t> starts(jobs.size()), ends(jobs.size());
    std::vector<bool> refused(jobs.size());
    std::vector<uint32_t> overtaken(jobs.size());
    std::vector<size_t> queue; // jobs waiting for memory, in arrival order
    for (const LogEntry &e : r.log) {
        switch (e.kind) {
        case EventKind::start:
            if (busy.count(e.lane)) return "two iterations at once on a lane";
            busy[e.lane] = e.job;
            ++starts[e.job];
            break;
        case EventKind::end:
            if (!busy.count(e.lane) || busy[e.lane] != e.job) return "an end without its start";
            busy.erase(e.lane);
            ++ends[e.job];
            break;
        case EventKind::wait:
            queue.push_back(e.job);
            break;
        case EventKind::admit: {
            // It overtakes every session waiting ahead of it: all of them
            // when it did not wait itself.
            auto self = std::find(queue.begin(), queue.end(), e.job);
            for (auto w = queue.begin(); w != self; ++w) {
                if (++overtaken[*w] > options.max_overtakes) {
                    return "job " + jobs[*w].name + " overtaken more than max_overtakes times";
                }
            }
            if (self != queue.end()) queue.erase(self);
            break;
        }
        case EventKind::refuse:
            refused[e.job] = true;
            break;
        default:
            break;
        }
    }
    if (!busy.empty()) return "an iteration never ended";
    for (size_t j = 0; j < jobs.size(); ++j) {
        if (refused[j]) {
            if (jobs[j].persistent_bytes + jobs[j].ephemeral_bytes <= options.memory_bytes) {
                return "job " + jobs[j].name + " refused though it fits the pool";
            }
            continue;
        }
        if (overtaken[j] != r.jobs[j].overtaken) {
            return "job " + jobs[j].name + ": the log shows " + std::to_string(overtaken[j]) +
                   " overtakes, the result " + std::to_string(r.jobs[j].overtaken);
        }
        if (starts[j] != jobs[j].iterations || ends[j] != jobs[j].iterations ||
            r.jobs[j].iterations_done != jobs[j].iterations) {
            return "job " + jobs[j].name + " lost iterations";
        }
    }
    return {};
}

} // namespace salus::sim::test
