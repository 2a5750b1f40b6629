#include "summary.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace salus::sim {

double percentile(std::vector<double> values, double p) {
    if (values.empty()) return 0;
    std::sort(values.begin(), values.end());
    const auto rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
    return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

Summary summarize(const std::vector<JobSpec> &jobs, const SimResult &result,
                  const SimOptions &options) {
    Summary s;
    s.jobs = jobs.size();
    s.bytes_moved = result.bytes_moved;
    std::vector<double> jct;
    std::vector<double> queue;
    TimeNs first = std::numeric_limits<TimeNs>::max();
    TimeNs last = 0;
    for (size_t j = 0; j < jobs.size(); ++j) {
        const JobResult &r = result.jobs[j];
        first = std::min(first, jobs[j].submit_ns);
        if (r.status == JobStatus::refused) {
            ++s.refused;
            continue;
        }
        ++s.done;
        last = std::max(last, r.end_ns);
        jct.push_back(static_cast<double>(r.end_ns - jobs[j].submit_ns) * 1e-9);
        queue.push_back(static_cast<double>(r.first_start_ns - jobs[j].submit_ns) * 1e-9);
    }
    if (jct.empty()) return s;
    for (double v : jct) s.jct_mean_s += v / static_cast<double>(jct.size());
    for (double v : queue) s.queue_mean_s += v / static_cast<double>(queue.size());
    s.queue_max_s = *std::max_element(queue.begin(), queue.end());
    s.jct_p50_s = percentile(jct, 0.50);
    s.jct_p95_s = percentile(jct, 0.95);
    s.jct_p99_s = percentile(jct, 0.99);
    s.jct_max_s = percentile(jct, 1.0);
    s.makespan_s = static_cast<double>(last - first) * 1e-9;

    // Each sample holds until the next one.
    const double pool = static_cast<double>(options.memory_bytes);
    const double span = static_cast<double>(last - first);
    const std::vector<Sample> &tl = result.timeline;
    for (size_t i = 0; i < tl.size(); ++i) {
        const Sample &x = tl[i];
        s.reserved_peak = std::max(s.reserved_peak, static_cast<double>(x.reserved_bytes) / pool);
        s.active_peak = std::max(s.active_peak, static_cast<double>(x.active_bytes) / pool);
        s.lanes_peak = std::max(s.lanes_peak, x.lanes);
        const TimeNs from = std::max(x.t, first);
        const TimeNs to = std::min(i + 1 < tl.size() ? tl[i + 1].t : last, last);
        if (span <= 0 || to <= from) continue;
        const double w = static_cast<double>(to - from) / span;
        s.reserved_mean += w * static_cast<double>(x.reserved_bytes) / pool;
        s.active_mean += w * static_cast<double>(x.active_bytes) / pool;
        s.running_mean += w * x.running;
        if (x.running > 0) s.busy += w;
    }
    return s;
}

} // namespace salus::sim
