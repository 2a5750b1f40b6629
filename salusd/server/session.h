// A session: one client's graph made runnable, its queue of iterations and
// its counters. Owned by the session table and, while one of its iterations
// runs, by that iteration too, so a worker never touches freed memory.
#pragma once

#include "exec/executable.h"
#include "server/request_frame.h"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace salus::server {

class Connection;

// A RunIteration waiting for its turn. feeds point into request.
struct QueuedIteration {
    uint64_t request_id = 0;
    RequestFramePtr request;
    std::vector<Feed> feeds;
    uint64_t arrival_ns = 0; // CLOCK_MONOTONIC, when the frame was complete
};

struct Session {
    Session(uint64_t session_id, std::string session_name, Connection *owner_connection,
            int owner_pid, std::unique_ptr<Executable> executable)
        : id(session_id), name(std::move(session_name)), owner(owner_connection),
          client_pid(owner_pid), exe(std::move(executable)) {}

    // Immutable: safe to read from the worker running an iteration.
    const uint64_t id;
    const std::string name;

    // Everything below belongs to the loop thread, except that the worker
    // running this session's single in-flight iteration uses *exe.
    Connection *owner; // nullptr once the session is closed
    const int client_pid;
    const std::unique_ptr<Executable> exe;

    std::deque<QueuedIteration> queue; // FIFO, not yet started
    bool running = false;              // an iteration is on a worker
    bool closing = false;              // CloseSession received: reply when idle
    uint64_t close_request_id = 0;
    uint64_t iterations = 0; // completed successfully
    uint64_t run_ns = 0;     // total execution time of those

    bool closed() const { return owner == nullptr; }
    bool idle() const { return !running && queue.empty(); }
    uint32_t pending() const { return static_cast<uint32_t>(queue.size()) + (running ? 1u : 0u); }
};

using SessionPtr = std::shared_ptr<Session>;
// Every open session of the daemon, by id (ordered, so listings are stable).
using SessionTable = std::map<uint64_t, SessionPtr>;

} // namespace salus::server
