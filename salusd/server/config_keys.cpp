#include "server/config_keys.h"

#include "device/device.h"
#include "server/config_values.h"

#include <sys/un.h>

#include <type_traits>
#include <utility>

namespace salus::server {

namespace {

using Parse = decltype(ConfigKey::parse);
using Format = decltype(ConfigKey::format);

// Largest request frame: at least a Hello, below the 2 GiB flatbuffers address.
constexpr uint64_t kMinFrameBytes = 1024;
constexpr uint64_t kMaxFrameBytes = (1ull << 31) - 1;
constexpr uint64_t kMaxDrainMs = 24ull * 3'600'000;

// A member of Options, or of its [limits] (limit(&Limits::x)).
template <typename T>
T &field(Options &o, T Options::*member) {
    return o.*member;
}
template <typename T>
const T &field(const Options &o, T Options::*member) {
    return o.*member;
}
template <typename T>
struct LimitField {
    T Limits::*member;
};
template <typename T>
LimitField<T> limit(T Limits::*member) {
    return {member};
}
template <typename T>
T &field(Options &o, LimitField<T> f) {
    return o.limits.*f.member;
}
template <typename T>
const T &field(const Options &o, LimitField<T> f) {
    return o.limits.*f.member;
}

// The value kinds. Each returns {parse, format} for one field().

template <typename M>
std::pair<Parse, Format> count(M member, uint64_t min, uint64_t max, bool auto_zero) {
    using T = std::remove_reference_t<decltype(field(std::declval<Options &>(), member))>;
    Parse parse = [=](const std::string &text, Options *o, std::string *error) {
        uint64_t v = 0;
        if (auto_zero && text == "auto") {
            field(*o, member) = 0;
            return true;
        }
        if (!parse_count(text, min, max, &v)) {
            *error = "expected " + std::string(auto_zero ? "auto or " : "") + "a number from " +
                     std::to_string(min) + " to " + std::to_string(max);
            return false;
        }
        field(*o, member) = static_cast<T>(v);
        return true;
    };
    Format format = [=](const Options &o) {
        if (auto_zero && field(o, member) == 0) return std::string("auto");
        return std::to_string(field(o, member));
    };
    return {std::move(parse), std::move(format)};
}

template <typename M>
std::pair<Parse, Format> size(M member, uint64_t min, uint64_t max, bool auto_zero) {
    using T = std::remove_reference_t<decltype(field(std::declval<Options &>(), member))>;
    Parse parse = [=](const std::string &text, Options *o, std::string *error) {
        uint64_t v = 0;
        if (auto_zero && text == "auto") {
            field(*o, member) = 0;
            return true;
        }
        if (!parse_size(text, &v) || v < min || v > max) {
            std::string range = max == UINT64_MAX
                                    ? "bytes"
                                    : "bytes from " + format_size(min) + " to " + format_size(max);
            *error = "expected " + std::string(auto_zero ? "auto or " : "") + range +
                     ", with an optional K, M, G or T suffix";
            return false;
        }
        field(*o, member) = static_cast<T>(v);
        return true;
    };
    Format format = [=](const Options &o) {
        if (auto_zero && field(o, member) == 0) return std::string("auto");
        return format_size(field(o, member));
    };
    return {std::move(parse), std::move(format)};
}

template <typename M>
std::pair<Parse, Format> duration(M member, uint64_t max_ms) {
    Parse parse = [=](const std::string &text, Options *o, std::string *error) {
        uint64_t ms = 0;
        if (!parse_duration_ms(text, &ms) || ms > max_ms) {
            *error = "expected a duration such as 30s, 500ms or 2m, at most " +
                     format_duration_ms(max_ms);
            return false;
        }
        field(*o, member) = ms;
        return true;
    };
    return {std::move(parse),
            [=](const Options &o) { return format_duration_ms(field(o, member)); }};
}

std::pair<Parse, Format> boolean(bool Options::*member) {
    Parse parse = [=](const std::string &text, Options *o, std::string *error) {
        if (!parse_bool(text, &(o->*member))) {
            *error = "expected yes or no";
            return false;
        }
        return true;
    };
    return {std::move(parse),
            [=](const Options &o) { return std::string(o.*member ? "yes" : "no"); }};
}

std::pair<Parse, Format> socket_path() {
    Parse parse = [](const std::string &text, Options *o, std::string *error) {
        // libuv silently truncates longer paths to fit sun_path.
        if (text.empty() || text.size() >= sizeof(sockaddr_un::sun_path)) {
            *error = "expected a path of 1 to " +
                     std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes";
            return false;
        }
        o->socket_path = text;
        return true;
    };
    Format format = [](const Options &o) {
        std::string ignored;
        return o.socket_path.empty() ? default_socket_path(&ignored) : o.socket_path;
    };
    return {std::move(parse), std::move(format)};
}

// A file, or "none" (an empty member).
std::pair<Parse, Format> optional_path(std::string Options::*member) {
    Parse parse = [=](const std::string &text, Options *o, std::string *error) {
        if (text.empty()) {
            *error = "expected a path, or none";
            return false;
        }
        o->*member = text == "none" ? std::string() : text;
        return true;
    };
    return {std::move(parse), [=](const Options &o) {
                return (o.*member).empty() ? std::string("none") : o.*member;
            }};
}

std::pair<Parse, Format> device_spec() {
    Parse parse = [](const std::string &text, Options *o, std::string *error) {
        if (!is_device_spec(text)) {
            *error = "expected auto, cpu, cuda or cuda:N";
            return false;
        }
        o->device = text;
        return true;
    };
    return {std::move(parse), [](const Options &o) { return o.device; }};
}

std::pair<Parse, Format> policy() {
    Parse parse = [](const std::string &text, Options *o, std::string *error) {
        std::optional<sched::Policy> p = sched::parse_policy(text);
        if (!p) {
            *error = "expected fifo, srtf, pack, fair or priority";
            return false;
        }
        o->policy = *p;
        return true;
    };
    return {std::move(parse),
            [](const Options &o) { return std::string(sched::policy_name(o.policy)); }};
}

std::pair<Parse, Format> admission() {
    Parse parse = [](const std::string &text, Options *o, std::string *error) {
        if (text == "safe") {
            o->admission = lanes::AdmissionMode::Safe;
        } else if (text == "static") {
            o->admission = lanes::AdmissionMode::Static;
        } else {
            *error = "expected safe or static";
            return false;
        }
        return true;
    };
    return {std::move(parse),
            [](const Options &o) { return std::string(lanes::admission_mode_name(o.admission)); }};
}

std::pair<Parse, Format> admin_group() {
    Parse parse = [](const std::string &text, Options *o, std::string *error) {
        // POSIX's portable characters, as useradd and groupadd accept them.
        bool valid =
            !text.empty() && text.size() <= 32 && text[0] != '-' &&
            text.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == std::string::npos;
        if (!valid) {
            *error = "expected a group name of 1 to 32 letters, digits, '.', '_' or '-'";
            return false;
        }
        o->access.admin_group = text;
        return true;
    };
    return {std::move(parse), [](const Options &o) { return o.access.admin_group; }};
}

std::pair<Parse, Format> max_priority() {
    Parse parse = [](const std::string &text, Options *o, std::string *error) {
        int64_t v = 0;
        if (!parse_integer(text, INT32_MIN, INT32_MAX, &v)) {
            *error = "expected a whole number, e.g. 0 or 10";
            return false;
        }
        o->access.max_priority = static_cast<int32_t>(v);
        return true;
    };
    return {std::move(parse),
            [](const Options &o) { return std::to_string(o.access.max_priority); }};
}

std::pair<Parse, Format> max_weight() {
    Parse parse = [](const std::string &text, Options *o, std::string *error) {
        if (!parse_real(text, 0.0, 1e9, &o->access.max_weight)) {
            *error = "expected a number from 0 to 1000000000, e.g. 1 or 2.5";
            return false;
        }
        return true;
    };
    return {std::move(parse), [](const Options &o) { return format_real(o.access.max_weight); }};
}

ConfigKey key(const char *section, const char *name, char short_flag, const char *metavar,
              const char *help, const char *sample, bool reloadable,
              std::pair<Parse, Format> value) {
    return {section,
            name,
            short_flag,
            metavar,
            help,
            sample,
            reloadable,
            std::move(value.first),
            std::move(value.second)};
}

constexpr bool kReload = true;
constexpr bool kRestart = false;

std::vector<ConfigKey> make_keys() {
    using O = Options;
    return {
        key("server", "socket", 0, "PATH",
            "listen on PATH unless systemd passes a socket; a user's default is "
            "$XDG_RUNTIME_DIR/salus/salusd.sock",
            "/run/salus/salusd.sock", kRestart, socket_path()),
        key("server", "workers", 0, "N",
            "threads that validate and plan new sessions (auto: "
            "online CPUs)",
            "auto", kRestart, count(&O::workers, 1, kMaxThreads, true)),
        key("server", "max-frame-bytes", 0, "N[KMG]",
            "largest request accepted; a reload applies to connections opened after it", "256M",
            kReload, size(&O::max_frame_bytes, kMinFrameBytes, kMaxFrameBytes, false)),
        key("server", "drain-timeout", 0, "DURATION",
            "how long SIGTERM lets running and queued iterations finish", "30s", kReload,
            duration(&O::drain_timeout_ms, kMaxDrainMs)),
        key("server", "verbose", 'v', nullptr, "log every request (debug level)", "no", kReload,
            boolean(&O::verbose)),
        key("server", "event-log", 0, "FILE",
            "write every scheduling event to FILE as CSV (see EVENT LOG in salusd(8)); none: "
            "no log",
            "none", kRestart, optional_path(&O::event_log)),

        key("device", "device", 0, "SPEC",
            "auto, cpu, cuda or cuda:N (auto: the first CUDA device if there is one, else "
            "the CPU)",
            "auto", kRestart, device_spec()),
        key("device", "pool-bytes", 0, "N[KMG]",
            "device memory pool claimed at start (auto: CUDA, the free memory minus "
            "pool-reserve; CPU, half the physical memory)",
            "auto", kRestart, size(&O::pool_bytes, 1, UINT64_MAX, true)),
        key("device", "pool-reserve", 0, "N[KMG]",
            "device memory the automatic pool leaves to others", "1G", kRestart,
            size(&O::pool_reserve, 0, UINT64_MAX, false)),
        key("device", "blas-threads", 0, "N", "threads per CPU kernel (oneDNN)", "1",
            kRestart, count(&O::blas_threads, 1, kMaxThreads, false)),

        key("scheduler", "policy", 0, "NAME", "fifo, srtf, pack, fair or priority", "pack", kReload,
            policy()),
        key("scheduler", "admission", 0, "MODE",
            "safe: sum(P) + max(T) <= lane; static: sum(P + T)", "safe", kRestart, admission()),
        key("scheduler", "max-lanes", 0, "N",
            "lanes running in parallel at most (auto: online CPUs)", "auto", kRestart,
            count(&O::max_lanes, 1, kMaxThreads, true)),
        key("scheduler", "max-overtakes", 0, "N",
            "later sessions admitted ahead of a waiting one at most", "4", kReload,
            count(&O::max_overtakes, 0, 1u << 20, false)),
        key("scheduler", "hold-max-us", 0, "N",
            "longest a lane waits, after an iteration of the session the policy prefers, for "
            "that session's next one (srtf, fair, priority; 0: never)",
            "5000", kReload, count(&O::hold_max_us, 0, 1'000'000, false)),

        // Reloads apply at once: to open connections and sessions too.
        key("limits", "reply-backlog", 0, "N[KMG]",
            "replies a connection has not read plus those its queued iterations will make; "
            "over it the daemon reads no more of its requests",
            "64M", kReload,
            size(limit(&Limits::reply_backlog_bytes), kMinFrameBytes, UINT64_MAX, false)),
        key("limits", "hello-timeout", 0, "DURATION",
            "a connection that sends no Hello within it is closed", "10s", kReload,
            duration(limit(&Limits::hello_timeout_ms), kMaxDrainMs)),
        key("limits", "frame-timeout", 0, "DURATION",
            "a request frame not complete within it of its first byte closes its connection", "30s",
            kReload, duration(limit(&Limits::frame_timeout_ms), kMaxDrainMs)),
        key("limits", "connections-per-uid", 0, "N",
            "open connections of one uid at most (root: no limit)", "256", kReload,
            count(limit(&Limits::connections_per_uid), 1, UINT32_MAX, false)),
        key("limits", "fd-reserve", 0, "N",
            "file descriptors kept for root's connections when the others use up the rest", "64",
            kReload, count(limit(&Limits::fd_reserve), 0, 1u << 20, false)),
        key("limits", "sessions-per-uid", 0, "N", "open sessions of one uid at most", "256",
            kReload, count(limit(&Limits::sessions_per_uid), 1, UINT32_MAX, false)),
        key("limits", "sessions-per-connection", 0, "N", "open sessions of one connection at most",
            "64", kReload, count(limit(&Limits::sessions_per_connection), 1, UINT32_MAX, false)),
        key("limits", "iterations-per-session", 0, "N",
            "requests of one session queued or running at most (iterations, variable reads "
            "and writes)",
            "1024", kReload, count(limit(&Limits::iterations_per_session), 1, UINT32_MAX, false)),
        key("limits", "iterations-per-connection", 0, "N",
            "requests of one connection's sessions queued or running at most", "4096", kReload,
            count(limit(&Limits::iterations_per_connection), 1, UINT32_MAX, false)),
        key("limits", "graph-tensors", 0, "N", "tensors of a graph at most", "1048576", kReload,
            count(limit(&Limits::graph_tensors), 1, UINT32_MAX, false)),
        key("limits", "graph-nodes", 0, "N", "nodes of a graph at most", "1048576", kReload,
            count(limit(&Limits::graph_nodes), 1, UINT32_MAX, false)),
        key("limits", "graph-attr-bytes", 0, "N[KMG]",
            "bytes of attribute values in a graph at most", "64M", kReload,
            size(limit(&Limits::graph_attr_bytes), 0, UINT64_MAX, false)),
        key("access", "admin-group", 0, "GROUP",
            "members may drain, change the policy, see every session and exceed the ceilings "
            "below (as may root and the daemon's own user)",
            "salus-admin", kReload, admin_group()),
        key("access", "max-priority", 0, "N",
            "highest session priority others may ask; above it needs an administrator", "0",
            kReload, max_priority()),
        key("access", "max-weight", 0, "X",
            "highest fair-share weight others may ask; above it needs an administrator", "1",
            kReload, max_weight()),
    };
}

} // namespace

const std::vector<ConfigKey> &config_keys() {
    static const std::vector<ConfigKey> keys = make_keys();
    return keys;
}

const ConfigKey *find_config_key(std::string_view section, std::string_view name) {
    for (const ConfigKey &k : config_keys()) {
        if (section == k.section && name == k.name) return &k;
    }
    return nullptr;
}

bool is_config_section(std::string_view section) {
    for (const ConfigKey &k : config_keys()) {
        if (section == k.section) return true;
    }
    return false;
}

} // namespace salus::server
