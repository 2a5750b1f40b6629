// A session: one client's graph made runnable, its queue of iterations and
// its counters. Owned by the session table and, while one of its iterations
// runs, by that iteration too, so a lane thread never touches freed memory.
#pragma once

#include "exec/executable.h"
#include "sched/types.h"
#include "server/reply_channel.h"
#include "server/request_frame.h"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace salus::server {

class Connection;

// What a queued request does on the session's lane. Variable reads and
// writes queue behind the iterations sent before them, so a client sees
// the values those iterations left and its writes reach the next ones.
enum class Work : uint8_t { Iteration, ReadVariables, WriteVariables };

// A request waiting for its turn on the session's lane. feeds point into
// request.
struct QueuedIteration {
    uint64_t request_id = 0;
    RequestFramePtr request;
    Work work = Work::Iteration;
    uint32_t graph = 0;            // Iteration: which of the session's graphs
    std::vector<Feed> feeds;       // Iteration: inputs; WriteVariables: the values
    std::vector<uint32_t> tensors; // ReadVariables: the tensors of the first graph
    uint64_t arrival_ns = 0;       // CLOCK_MONOTONIC, when the frame was complete
    uint64_t reply_bytes = 0;      // the most its reply may take
};

struct Session {
    Session(uint64_t session_id, std::string session_name, Connection *owner_connection,
            int owner_pid, uint32_t owner_uid, ReplyChannelPtr reply_channel,
            sched::SessionParams scheduling, std::unique_ptr<Executable> executable)
        : id(session_id), name(std::move(session_name)), owner(owner_connection),
          client_pid(owner_pid), client_uid(owner_uid), channel(std::move(reply_channel)),
          params(scheduling), exe(std::move(executable)) {}

    // Immutable: safe to read from any thread.
    const uint64_t id;
    const std::string name;

    // Loop thread only.
    Connection *owner; // nullptr once the session is closed
    const int client_pid;
    const uint32_t client_uid;
    const ReplyChannelPtr channel; // where lanes write its replies
    const sched::SessionParams params;
    uint32_t tenant = 0;        // charged to this tenant (its connection's); 0: none
    uint64_t charged_bytes = 0; // P + T, returned to the tenant when it is retired
    bool closing = false;       // CloseSession received: reply when idle
    uint64_t close_request_id = 0;
    uint64_t close_connection_id = 0; // who asked: the owner, or an administrator
    uint64_t create_request_id = 0;   // answered once admitted
    uint64_t iterations = 0;          // completed successfully
    uint64_t run_ns = 0;              // total execution time of those
    uint32_t in_flight = 0;           // requests queued or running, not yet answered

    // The Engine's, under its mutex. The lane thread running this session's
    // single in-flight iteration uses *exe, and first re-points its graphs
    // when its memory moved since they were bound (see bound_persistent).
    const std::unique_ptr<Executable> exe;
    // Graphs added later (AddGraph) over exe's persistent block: graph k > 0
    // is added[k - 1], named added_names[k - 1]. The loop appends under the
    // Engine's mutex; a lane looks its graph up under it.
    std::vector<std::unique_ptr<Executable>> added;
    std::vector<std::string> added_names;
    // Loop thread: names of AddGraphs being prepared, so that of two of one
    // name the first sent wins, however the workers finish.
    std::vector<std::string> adding_names;
    Executable *graph(uint32_t k) const { return k == 0 ? exe.get() : added[k - 1].get(); }
    size_t graph_count() const { return 1 + added.size(); }
    std::deque<QueuedIteration> queue; // FIFO, not yet started
    bool admitted = false;             // holds memory and a lane
    bool running = false;              // an iteration is on its lane
    bool writing = false;              // its lane is writing the last reply
    bool release_when_done = false;    // its client left while it ran
    bool close_requested = false;      // the loop waits for it to become idle
    uint64_t started = 0;              // iterations started: the next index - 1
    uint64_t running_request_id = 0;   // the request of the iteration on its lane
    // Where its persistent block is now (the loop sets it, under the
    // Engine's mutex), and the pool offsets its graphs point at: only the
    // thread that runs its work (or the loop before it is admitted) binds
    // them, so a layout change costs the loop nothing per idle session.
    uint64_t persistent_offset = 0;
    uint64_t bound_persistent = 0;
    uint64_t bound_ephemeral = 0;

    bool closed() const { return owner == nullptr; }
};

using SessionPtr = std::shared_ptr<Session>;
// Every open session of the daemon, by id (ordered, so listings are stable).
using SessionTable = std::map<uint64_t, SessionPtr>;

} // namespace salus::server
