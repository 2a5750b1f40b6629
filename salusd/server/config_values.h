// Text forms of configuration values, shared by the command line and the
// config file: counts, byte sizes with binary suffixes, durations and
// booleans. Each parser accepts exactly what its formatter writes, and more.
#pragma once

#include <cstdint>
#include <string>

namespace salus::server {

// A decimal in [min, max].
bool parse_count(const std::string &text, uint64_t min, uint64_t max, uint64_t *out);

// A decimal with an optional sign in [min, max].
bool parse_integer(const std::string &text, int64_t min, int64_t max, int64_t *out);

// A decimal fraction ("1", "2.5") in [min, max].
bool parse_real(const std::string &text, double min, double max, double *out);
// Six decimals at most, without trailing zeros: 1.0 -> "1", 2.5 -> "2.5".
std::string format_real(double value);

// Bytes: a decimal with an optional binary suffix K, M, G or T (512M, 8G).
bool parse_size(const std::string &text, uint64_t *out);
// The shortest exact form: 268435456 -> "256M", 1000 -> "1000".
std::string format_size(uint64_t bytes);

// Milliseconds from a decimal with a unit: ms, s, m or h ("500ms", "30s");
// a bare number is seconds.
bool parse_duration_ms(const std::string &text, uint64_t *out);
// The largest exact unit: 30000 -> "30s", 1500 -> "1500ms".
std::string format_duration_ms(uint64_t ms);

// yes/no, true/false, on/off, 1/0.
bool parse_bool(const std::string &text, bool *out);

} // namespace salus::server
