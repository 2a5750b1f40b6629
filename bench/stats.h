// Percentiles of a benchmark's samples.
#pragma once

#include <algorithm>
#include <numeric>
#include <vector>

namespace salus::bench {

struct Summary {
    double p50, p99, mean;
};

inline Summary summarize(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
        return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
    };
    return {at(0.50), at(0.99),
            std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size())};
}

} // namespace salus::bench
