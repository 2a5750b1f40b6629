#include "server/log.h"

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <unistd.h>

namespace salus::server {

namespace {
std::atomic<bool> g_verbose{false};
} // namespace

void set_verbose_logging(bool on) {
    g_verbose.store(on, std::memory_order_relaxed);
}

bool verbose_logging() {
    return g_verbose.load(std::memory_order_relaxed);
}

void log_line(LogLevel level, const char *fmt, ...) {
    // Formatted whole, then written with one write(2), so lines from worker
    // threads never interleave.
    char line[1024];
    int n = std::snprintf(line, sizeof line, "<%d>", static_cast<int>(level));
    va_list args;
    va_start(args, fmt);
    int m = std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n) - 1, fmt, args);
    va_end(args);
    size_t len = static_cast<size_t>(n);
    if (m > 0) len += std::min(static_cast<size_t>(m), sizeof line - len - 2);
    // Names come from clients: a newline in one must not forge a log line.
    for (size_t i = static_cast<size_t>(n); i < len; ++i) {
        unsigned char ch = static_cast<unsigned char>(line[i]);
        if (ch < 0x20 || ch == 0x7f) line[i] = '?';
    }
    line[len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}

} // namespace salus::server
