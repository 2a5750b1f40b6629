#include "server/config_values.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iterator>

namespace salus::server {

namespace {

// The leading decimal of text and where it ends; false when there is none
// or it overflows.
bool leading_decimal(const std::string &text, uint64_t *value, size_t *end) {
    if (text.empty() || text[0] < '0' || text[0] > '9') return false;
    errno = 0;
    char *stop = nullptr;
    unsigned long long v = std::strtoull(text.c_str(), &stop, 10);
    if (errno != 0) return false;
    *value = v;
    *end = static_cast<size_t>(stop - text.c_str());
    return true;
}

struct Unit {
    const char *suffix;
    uint64_t factor;
};

// Applies the unit named by `suffix` (one of `units`) to value.
bool scale(uint64_t value, const std::string &suffix, const Unit *units, size_t n, uint64_t *out) {
    for (size_t i = 0; i < n; ++i) {
        if (suffix != units[i].suffix) continue;
        if (value > UINT64_MAX / units[i].factor) return false;
        *out = value * units[i].factor;
        return true;
    }
    return false;
}

const Unit kSizeUnits[] = {
    {"", 1}, {"K", 1ull << 10}, {"M", 1ull << 20}, {"G", 1ull << 30}, {"T", 1ull << 40}};
const Unit kDurationUnits[] = {{"ms", 1}, {"s", 1000}, {"", 1000}, {"m", 60'000}, {"h", 3'600'000}};

} // namespace

bool parse_count(const std::string &text, uint64_t min, uint64_t max, uint64_t *out) {
    uint64_t value = 0;
    size_t end = 0;
    if (!leading_decimal(text, &value, &end) || end != text.size()) return false;
    if (value < min || value > max) return false;
    *out = value;
    return true;
}

bool parse_integer(const std::string &text, int64_t min, int64_t max, int64_t *out) {
    bool negative = !text.empty() && text[0] == '-';
    uint64_t magnitude = 0;
    size_t end = 0;
    std::string digits = text.substr(negative || (!text.empty() && text[0] == '+') ? 1 : 0);
    if (!leading_decimal(digits, &magnitude, &end) || end != digits.size()) return false;
    if (magnitude > static_cast<uint64_t>(INT64_MAX)) return false;
    int64_t value = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
    if (value < min || value > max) return false;
    *out = value;
    return true;
}

bool parse_real(const std::string &text, double min, double max, double *out) {
    // Digits and one point only: no exponents, hex, inf or nan.
    if (text.empty() || text.find_first_not_of("0123456789.") != std::string::npos ||
        text.find('.') != text.rfind('.') || text == ".") {
        return false;
    }
    double value = std::strtod(text.c_str(), nullptr);
    if (!(value >= min && value <= max)) return false;
    *out = value;
    return true;
}

std::string format_real(double value) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.6f", value);
    std::string text = buf;
    text.erase(text.find_last_not_of('0') + 1);
    if (text.back() == '.') text.pop_back();
    return text;
}

bool parse_size(const std::string &text, uint64_t *out) {
    uint64_t value = 0;
    size_t end = 0;
    if (!leading_decimal(text, &value, &end)) return false;
    return scale(value, text.substr(end), kSizeUnits, std::size(kSizeUnits), out);
}

std::string format_size(uint64_t bytes) {
    for (size_t i = std::size(kSizeUnits); i-- > 1;) {
        uint64_t f = kSizeUnits[i].factor;
        if (bytes != 0 && bytes % f == 0) return std::to_string(bytes / f) + kSizeUnits[i].suffix;
    }
    return std::to_string(bytes);
}

bool parse_duration_ms(const std::string &text, uint64_t *out) {
    uint64_t value = 0;
    size_t end = 0;
    if (!leading_decimal(text, &value, &end)) return false;
    return scale(value, text.substr(end), kDurationUnits, std::size(kDurationUnits), out);
}

std::string format_duration_ms(uint64_t ms) {
    if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
    if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

bool parse_bool(const std::string &text, bool *out) {
    static const char *const kTrue[] = {"yes", "true", "on", "1"};
    static const char *const kFalse[] = {"no", "false", "off", "0"};
    for (const char *t : kTrue) {
        if (text == t) {
            *out = true;
            return true;
        }
    }
    for (const char *f : kFalse) {
        if (text == f) {
            *out = false;
            return true;
        }
    }
    return false;
}

} // namespace salus::server
