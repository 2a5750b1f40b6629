// Command-line options of salusd.
#pragma once

#include "lanes/lane_types.h"
#include "sched/types.h"

#include <cstdint>
#include <string>

namespace salus::server {

struct Options {
    std::string socket_path;     // empty until resolved: see resolve_socket_path()
    uint32_t max_frame_bytes;    // largest request frame accepted
    unsigned workers;            // threads that prepare new sessions
    int blas_threads;            // OpenBLAS threads per kernel call
    std::string device = "auto"; // auto, cpu, cuda or cuda:N
    uint64_t pool_bytes = 0;     // the device memory pool claimed at start; 0: the
                                 // device's default (see Device::default_pool_bytes)
    uint64_t pool_reserve;       // device memory left to others by the default pool
    uint32_t max_lanes;          // lanes (parallel streams) at most
    uint32_t max_overtakes;      // admission: how often a waiting session may be overtaken
    lanes::AdmissionMode admission = lanes::AdmissionMode::Safe;
    sched::Policy policy = sched::Policy::pack;
    bool verbose = false;
};

// Parses argv into *out. Returns -1 to go on, or the exit code when the
// process should stop: 0 after --help or --version, 2 after a bad flag (the
// message is already printed).
int parse_options(int argc, char **argv, Options *out);

// Fills in the default socket path when --socket was not given, creating its
// directory: $XDG_RUNTIME_DIR/salus (0700) for a user, /run/salus for root.
// Returns false with *error set when that is impossible.
bool resolve_socket_path(Options *options, std::string *error);

} // namespace salus::server
