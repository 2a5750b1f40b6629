#include "report.h"

#include <algorithm>
#include <cstdio>

namespace salus::sim {

namespace {

std::string fixed(double v, int decimals) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string percent(double fraction) {
    return fixed(100 * fraction, 1) + "%";
}

std::string binary_size(uint64_t bytes) {
    if (bytes >= (1ull << 30)) return fixed(static_cast<double>(bytes) / (1ull << 30), 1) + " GiB";
    return fixed(static_cast<double>(bytes) / (1 << 20), 1) + " MiB";
}

const char *client_name(ClientModel c) {
    return c == ClientModel::sync ? "sync" : "pipelined";
}

} // namespace

void write_jobs_csv(std::ostream &out, const std::vector<JobSpec> &jobs, const SimResult &result) {
    out << "job,workload,status,priority,iterations,submit_s,admitted_s,start_s,end_s,queue_s,"
           "wait_s,run_s,jct_s,overtaken\n";
    for (size_t j = 0; j < jobs.size(); ++j) {
        const JobSpec &job = jobs[j];
        const JobResult &r = result.jobs[j];
        out << job.name << ',' << job.workload << ','
            << (r.status == JobStatus::done ? "done" : "refused") << ',' << job.priority << ','
            << r.iterations_done << ',' << seconds(job.submit_ns) << ',';
        if (r.status == JobStatus::refused) {
            out << ",,,,,,," << r.overtaken << '\n';
            continue;
        }
        out << seconds(r.admitted_ns) << ',' << seconds(r.first_start_ns) << ','
            << seconds(r.end_ns) << ',' << seconds(r.first_start_ns - job.submit_ns) << ','
            << seconds(r.wait_ns) << ',' << seconds(r.run_ns) << ','
            << seconds(r.end_ns - job.submit_ns) << ',' << r.overtaken << '\n';
    }
}

void write_summary_csv(std::ostream &out, const Summary &s) {
    out << "metric,value\n"
        << "jobs," << s.jobs << "\n"
        << "done," << s.done << "\n"
        << "refused," << s.refused << "\n"
        << "jct_mean_s," << fixed(s.jct_mean_s, 6) << "\n"
        << "jct_p50_s," << fixed(s.jct_p50_s, 6) << "\n"
        << "jct_p95_s," << fixed(s.jct_p95_s, 6) << "\n"
        << "jct_p99_s," << fixed(s.jct_p99_s, 6) << "\n"
        << "jct_max_s," << fixed(s.jct_max_s, 6) << "\n"
        << "queue_mean_s," << fixed(s.queue_mean_s, 6) << "\n"
        << "queue_max_s," << fixed(s.queue_max_s, 6) << "\n"
        << "makespan_s," << fixed(s.makespan_s, 6) << "\n"
        << "memory_reserved_mean," << fixed(s.reserved_mean, 6) << "\n"
        << "memory_reserved_peak," << fixed(s.reserved_peak, 6) << "\n"
        << "memory_active_mean," << fixed(s.active_mean, 6) << "\n"
        << "memory_active_peak," << fixed(s.active_peak, 6) << "\n"
        << "device_busy," << fixed(s.busy, 6) << "\n"
        << "running_mean," << fixed(s.running_mean, 6) << "\n"
        << "lanes_peak," << s.lanes_peak << "\n"
        << "bytes_moved," << s.bytes_moved << "\n";
}

void write_timeline_csv(std::ostream &out, const std::vector<Sample> &timeline) {
    out << "t_s,reserved_bytes,active_bytes,running,lanes,admitted,waiting\n";
    for (const Sample &x : timeline) {
        out << seconds(x.t) << ',' << x.reserved_bytes << ',' << x.active_bytes << ',' << x.running
            << ',' << x.lanes << ',' << x.admitted << ',' << x.waiting << '\n';
    }
}

void write_log_csv(std::ostream &out, const std::vector<JobSpec> &jobs,
                   const std::vector<LogEntry> &log) {
    out << sched::kEventLogHeader;
    std::string line;
    for (const LogEntry &e : log) {
        const bool global = e.kind == EventKind::pause || e.kind == EventKind::resume;
        std::string detail;
        if (e.kind == EventKind::job_switch) {
            detail = jobs[e.value].name;
        } else if (e.kind == EventKind::hold) {
            detail = seconds(e.value);
        } else if (e.kind == EventKind::unhold) {
            detail = sched::hold_end_name(static_cast<sched::HoldEnd>(e.value));
        }
        line.clear();
        sched::append_event_line(line, e.t, e.kind, global ? "" : jobs[e.job].name, e.lane, detail);
        out << line;
    }
}

void print_report(std::ostream &out, const std::vector<JobSpec> &jobs, const SimResult &result,
                  const Summary &s, const SimOptions &options, bool jobs_table) {
    out << "policy " << sched::policy_name(options.policy) << ", admission "
        << lanes::admission_mode_name(options.admission) << ", memory "
        << binary_size(options.memory_bytes) << ", lanes "
        << (options.lanes ? std::to_string(options.lanes) : std::string("unlimited"))
        << (options.rebalance ? "" : " (no rebalancing)") << ", client "
        << client_name(options.client);
    if (options.client == ClientModel::sync)
        out << " (think " << seconds(options.think_ns) << " s)";
    out << "\n\n";
    if (jobs_table) {
        size_t name_w = 3, workload_w = 8;
        for (const JobSpec &job : jobs) {
            name_w = std::max(name_w, job.name.size());
            workload_w = std::max(workload_w, job.workload.size());
        }
        char line[512];
        std::snprintf(line, sizeof line, "%-*s  %-*s  %-7s  %6s  %12s  %12s  %12s  %12s\n",
                      static_cast<int>(name_w), "JOB", static_cast<int>(workload_w), "WORKLOAD",
                      "STATUS", "ITERS", "SUBMIT_S", "QUEUE_S", "END_S", "JCT_S");
        out << line;
        for (size_t j = 0; j < jobs.size(); ++j) {
            const JobSpec &job = jobs[j];
            const JobResult &r = result.jobs[j];
            const bool done = r.status == JobStatus::done;
            std::snprintf(line, sizeof line, "%-*s  %-*s  %-7s  %6llu  %12s  %12s  %12s  %12s\n",
                          static_cast<int>(name_w), job.name.c_str(), static_cast<int>(workload_w),
                          job.workload.c_str(), done ? "done" : "refused",
                          static_cast<unsigned long long>(r.iterations_done),
                          seconds(job.submit_ns).c_str(),
                          done ? seconds(r.first_start_ns - job.submit_ns).c_str() : "-",
                          done ? seconds(r.end_ns).c_str() : "-",
                          done ? seconds(r.end_ns - job.submit_ns).c_str() : "-");
            out << line;
        }
        out << "\n";
    }
    if (s.refused > 0) {
        for (size_t j = 0; j < jobs.size(); ++j) {
            if (result.jobs[j].status != JobStatus::refused) continue;
            out << "refused " << jobs[j].name << ": " << result.jobs[j].reason << "\n";
        }
        out << "\n";
    }
    out << "jobs:             " << s.jobs << " (" << s.done << " done, " << s.refused
        << " refused)\n"
        << "average JCT:      " << fixed(s.jct_mean_s, 6) << " s\n"
        << "JCT p50/p95/p99:  " << fixed(s.jct_p50_s, 6) << " / " << fixed(s.jct_p95_s, 6) << " / "
        << fixed(s.jct_p99_s, 6) << " s\n"
        << "JCT max:          " << fixed(s.jct_max_s, 6) << " s\n"
        << "queueing delay:   mean " << fixed(s.queue_mean_s, 6) << " s, max "
        << fixed(s.queue_max_s, 6) << " s\n"
        << "makespan:         " << fixed(s.makespan_s, 6) << " s\n"
        << "memory reserved:  mean " << percent(s.reserved_mean) << ", peak "
        << percent(s.reserved_peak) << " of the pool\n"
        << "memory in use:    mean " << percent(s.active_mean) << ", peak "
        << percent(s.active_peak) << " of the pool\n"
        << "device busy:      " << percent(s.busy) << " of the makespan, "
        << "a mean of " << fixed(s.running_mean, 2) << " iterations at once, " << s.lanes_peak
        << " lanes at most\n"
        << "memory moved:     " << binary_size(s.bytes_moved) << " (copies cost no time)\n";
}

} // namespace salus::sim
