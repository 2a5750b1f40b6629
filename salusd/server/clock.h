// CLOCK_MONOTONIC in nanoseconds, for iteration timings.
#pragma once

#include <cstdint>
#include <ctime>

namespace salus::server {

inline uint64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

} // namespace salus::server
