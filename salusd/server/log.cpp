#include "server/log.h"

#include "server/names.h"

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <string>
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
    char body[1024];
    va_list args;
    va_start(args, fmt);
    int m = std::vsnprintf(body, sizeof body, fmt, args);
    va_end(args);
    size_t len = m > 0 ? std::min(static_cast<size_t>(m), sizeof body - 1) : 0;
    // Names come from clients: a newline in one must not forge a log line,
    // nor an escape sequence reach the terminal of whoever reads the log.
    std::string line = "<" + std::to_string(static_cast<int>(level)) + ">" +
                       printable(std::string_view(body, len)) + "\n";
    // One write(2), so lines from worker threads never interleave.
    ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

} // namespace salus::server
