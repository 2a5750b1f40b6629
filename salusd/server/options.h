// The configuration of salusd: what the config file and the command line set
// (config_keys.h lists every key), and how the values that depend on the
// machine are resolved at start.
#pragma once

#include "frame.h"
#include "lanes/lane_types.h"
#include "sched/types.h"
#include "server/resource_limits.h"
#include "server/access.h"

#include <cstdint>
#include <string>

namespace salus::server {

struct Options {
    // [server]
    std::string socket_path; // empty: the default, see default_socket_path()
    unsigned workers = 0;    // threads that prepare new sessions; 0: online CPUs
    uint32_t max_frame_bytes = frame::kDefaultMaxFrameBytes; // largest request accepted
    uint64_t drain_timeout_ms = 30'000; // how long SIGTERM waits for iterations
    bool verbose = false;               // debug lines: every request
    std::string event_log;              // scheduling events as CSV; empty: none
    // [device]
    std::string device = "auto";        // auto, cpu, cuda or cuda:N
    uint64_t pool_bytes = 0;            // claimed at start; 0: the device's default
    uint64_t pool_reserve = 1ull << 30; // left to others by the default pool
    int blas_threads = 1;               // threads per CPU kernel call
    // [scheduler]
    sched::Policy policy = sched::Policy::pack;
    lanes::AdmissionMode admission = lanes::AdmissionMode::Safe;
    uint32_t max_lanes = 0;      // lanes (parallel streams) at most; 0: online CPUs
    uint32_t max_overtakes = 4;  // how often a waiting session may be overtaken
    uint32_t hold_max_us = 5000; // longest a lane waits for the policy's favourite; 0: never
    // [limits]
    Limits limits;
    // [access]
    AccessRules access; // the admin group and the ceilings for everyone else
};

// Largest thread or lane count accepted.
constexpr unsigned kMaxThreads = 1024;

// The path salusd binds when none is configured, without creating anything:
// the first directory of $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=),
// else /run/salus for root, else $XDG_RUNTIME_DIR/salus. Empty with *error
// when there is none.
std::string default_socket_path(std::string *error);

// Fills in the values left to the machine: the socket path (creating its
// directory when it is a default one), workers and max_lanes (online CPUs).
// The pool size is left to the device. False with *error set.
bool resolve_options(Options *options, std::string *error);

} // namespace salus::server
