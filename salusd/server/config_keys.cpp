#include "server/config_keys.h"

#include "device/device.h"
#include "server/config_values.h"

#include <sys/un.h>

namespace salus::server {

namespace {

using Parse = decltype(ConfigKey::parse);
using Format = decltype(ConfigKey::format);

// Largest request frame: at least a Hello, below the 2 GiB flatbuffers address.
constexpr uint64_t kMinFrameBytes = 1024;
constexpr uint64_t kMaxFrameBytes = (1ull << 31) - 1;
constexpr uint64_t kMaxDrainMs = 24ull * 3'600'000;

// The value kinds. Each returns {parse, format} for one member of Options.

template <typename T>
std::pair<Parse, Format> count(T Options::*member, uint64_t min, uint64_t max, bool auto_zero) {
    Parse parse = [=](const std::string &text, Options *o, std::string *error) {
        uint64_t v = 0;
        if (auto_zero && text == "auto") {
            o->*member = 0;
            return true;
        }
        if (!parse_count(text, min, max, &v)) {
            *error = "expected " + std::string(auto_zero ? "auto or " : "") + "a number from " +
                     std::to_string(min) + " to " + std::to_string(max);
            return false;
        }
        o->*member = static_cast<T>(v);
        return true;
    };
    Format format = [=](const Options &o) {
        if (auto_zero && o.*member == 0) return std::string("auto");
        return std::to_string(o.*member);
    };
    return {std::move(parse), std::move(format)};
}

template <typename T>
std::pair<Parse, Format> size(T Options::*member, uint64_t min, uint64_t max, bool auto_zero) {
    Parse parse = [=](const std::string &text, Options *o, std::string *error) {
        uint64_t v = 0;
        if (auto_zero && text == "auto") {
            o->*member = 0;
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
        o->*member = static_cast<T>(v);
        return true;
    };
    Format format = [=](const Options &o) {
        if (auto_zero && o.*member == 0) return std::string("auto");
        return format_size(o.*member);
    };
    return {std::move(parse), std::move(format)};
}

std::pair<Parse, Format> duration(uint64_t Options::*member, uint64_t max_ms) {
    Parse parse = [=](const std::string &text, Options *o, std::string *error) {
        uint64_t ms = 0;
        if (!parse_duration_ms(text, &ms) || ms > max_ms) {
            *error = "expected a duration such as 30s, 500ms or 2m, at most " +
                     format_duration_ms(max_ms);
            return false;
        }
        o->*member = ms;
        return true;
    };
    return {std::move(parse), [=](const Options &o) { return format_duration_ms(o.*member); }};
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
        key("device", "blas-threads", 0, "N", "threads per CPU kernel (OpenBLAS, oneDNN)", "1",
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
