// salus-sim's inputs: the workload profiles (salus-workloads.csv), the job
// trace, and the command line's sizes and durations.
#pragma once

#include "sim.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace salus::sim {

struct Profile {
    uint64_t persistent_bytes = 0; // P, rounded up to the lane alignment
    uint64_t ephemeral_bytes = 0;  // T = peak - P, rounded up likewise
    std::optional<double> iter_s;  // blank in the CSV: unknown
};

using Profiles = std::map<std::string, Profile>;

// MiB as the profiles give them, to bytes rounded up to kLaneAlignment.
uint64_t mib_to_bytes(double mib);

// Columns by header name: workload, persistent_mb, peak_mb, iter_s (others
// ignored). False with *error ("FILE:LINE: why") on a malformed file.
bool parse_profiles(const std::string &text, const std::string &source, Profiles *out,
                    std::string *error);

// Columns by header name: job, workload, iterations, submit_s and, optionally,
// priority (blank: 0). A workload without iter_s takes default_iter_s, and is
// an error when there is none.
bool parse_trace(const std::string &text, const std::string &source, const Profiles &profiles,
                 std::optional<double> default_iter_s, std::vector<JobSpec> *out,
                 std::string *error);

// The whole file, or false with *error.
bool read_file(const std::string &path, std::string *out, std::string *error);

// Bytes with an optional binary suffix K, M, G or T, as salusd's sizes.
bool parse_size(const std::string &text, uint64_t *out);
// Non-negative seconds ("0.25", "3"): rounded to nanoseconds.
bool parse_seconds(const std::string &text, TimeNs *out);
bool parse_double(const std::string &text, double *out);
bool parse_u64(const std::string &text, uint64_t *out);

} // namespace salus::sim
