// One line per event on stderr, prefixed with its sd-daemon priority ("<6>")
// so that journald files each line at its level. Control characters and
// bytes that are not UTF-8 are escaped (names.h's printable()), so every
// line is one event. Safe from any thread.
#pragma once

namespace salus::server {

enum class LogLevel { Error = 3, Warning = 4, Info = 6, Debug = 7 };

// Debug lines are dropped unless verbose logging is on (-v).
void set_verbose_logging(bool on);
bool verbose_logging();

void log_line(LogLevel level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define SALUS_LOG_ERROR(...)                                                                       \
    ::salus::server::log_line(::salus::server::LogLevel::Error, __VA_ARGS__)
#define SALUS_LOG_WARNING(...)                                                                     \
    ::salus::server::log_line(::salus::server::LogLevel::Warning, __VA_ARGS__)
#define SALUS_LOG_INFO(...) ::salus::server::log_line(::salus::server::LogLevel::Info, __VA_ARGS__)
// Skips formatting the arguments entirely when verbose logging is off.
#define SALUS_LOG_DEBUG(...)                                                                       \
    do {                                                                                           \
        if (::salus::server::verbose_logging())                                                    \
            ::salus::server::log_line(::salus::server::LogLevel::Debug, __VA_ARGS__);              \
    } while (0)

} // namespace salus::server
