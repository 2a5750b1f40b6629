// Runs sessions' iterations on worker threads: one at a time per session, in
// submission order; different sessions in parallel. This is the seam where
// lanes and a scheduling policy will later decide what runs next.
#pragma once

#include "common/status.h"
#include "server/session.h"
#include "server/worker_pool.h"

#include <flatbuffers/flatbuffers.h>

#include <functional>

namespace salus::server {

struct IterationResult {
    SessionPtr session;
    uint64_t request_id = 0;
    Status status;                     // of the run; the reply is set when ok
    flatbuffers::DetachedBuffer reply; // a complete RunIterationReply body
    uint64_t run_ns = 0;
    uint32_t request_bytes = 0; // size of the RunIteration frame
};

class IterationRunner {
  public:
    // Called on the loop thread for every iteration that ran, after the
    // session is marked idle and before its next iteration is started.
    using DoneFn = std::function<void(IterationResult &result)>;

    IterationRunner(WorkerPool *pool, DoneFn done) : pool_(pool), done_(std::move(done)) {}

    // Loop thread: queues one iteration of the session.
    void enqueue(const SessionPtr &session, QueuedIteration iteration);
    // Loop thread: starts the session's next queued iteration if it is idle.
    void start_next(const SessionPtr &session);

  private:
    WorkerPool *pool_;
    DoneFn done_;
};

} // namespace salus::server
