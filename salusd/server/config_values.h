// Text forms of configuration values, shared by the command line and the
// config file: counts, byte sizes with binary suffixes, durations and
// booleans. Each parser accepts exactly what its formatter writes, and more.
#pragma once

#include <cstdint>
#include <string>

namespace salus::server {

// A decimal in [min, max].
bool parse_count(const std::string &text, uint64_t min, uint64_t max, uint64_t *out);

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
