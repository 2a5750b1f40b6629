// Job-switch latencies, for salusctl status: how many switches there were
// and the percentiles of the recent ones. Not thread-safe: the engine records
// and reads under its mutex.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace salus::server {

struct SwitchPercentiles {
    uint64_t p50_ns = 0;
    uint64_t p99_ns = 0;
};

class SwitchLatencies {
  public:
    // Recent job switches kept for the percentiles.
    static constexpr size_t kSamples = 1 << 16;

    explicit SwitchLatencies(size_t capacity = kSamples) : ring_(capacity, 0) {}

    // Allocates nothing: a lane records on the job-switch path.
    void record(uint64_t ns) {
        ring_[next_] = ns;
        next_ = (next_ + 1) % ring_.size();
        ++count_;
    }
    uint64_t count() const { return count_; }
    // The last capacity samples at most, in no particular order: copied
    // under the lock, sorted outside it by percentiles().
    std::vector<uint64_t> recent() const {
        const size_t n = std::min<uint64_t>(count_, ring_.size());
        return std::vector<uint64_t>(ring_.begin(), ring_.begin() + static_cast<long>(n));
    }

    // Of samples (recent()'s); zeros when there are none.
    static SwitchPercentiles percentiles(std::vector<uint64_t> samples) {
        SwitchPercentiles p;
        if (samples.empty()) return p;
        std::sort(samples.begin(), samples.end());
        p.p50_ns = samples[(samples.size() - 1) / 2];
        p.p99_ns = samples[(samples.size() - 1) * 99 / 100];
        return p;
    }

  private:
    std::vector<uint64_t> ring_;
    size_t next_ = 0;
    uint64_t count_ = 0;
};

} // namespace salus::server
