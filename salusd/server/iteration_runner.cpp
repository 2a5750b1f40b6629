#include "server/iteration_runner.h"

#include "server/clock.h"
#include "server/replies.h"

#include <new>

namespace salus::server {

namespace {

// Shared by the work and the completion closures of one iteration.
struct Job {
    QueuedIteration iteration;
    uint64_t index = 0; // 1-based, within the session
    IterationResult result;
};

void run_on_worker(Job &job) {
    Session &session = *job.result.session;
    uint64_t start = monotonic_ns();
    try {
        Status status = session.exe->run(job.iteration.feeds.data(), job.iteration.feeds.size());
        uint64_t end = monotonic_ns();
        job.result.run_ns = end - start;
        if (status.ok()) {
            job.result.reply =
                iteration_reply(job.iteration.request_id, session.id, job.index, *session.exe,
                                start - job.iteration.arrival_ns, job.result.run_ns);
        }
        job.result.status = std::move(status);
    } catch (const std::bad_alloc &) {
        job.result.status = Status(SALUS_ENOMEM, "out of host memory running the iteration");
    } catch (const std::exception &e) {
        job.result.status = Status(SALUS_EINTERNAL, std::string("iteration failed: ") + e.what());
    }
    // The feeds are consumed: free the request now rather than on the loop.
    job.iteration.feeds.clear();
    job.iteration.request.reset();
}

} // namespace

void IterationRunner::enqueue(const SessionPtr &session, QueuedIteration iteration) {
    session->queue.push_back(std::move(iteration));
    start_next(session);
}

void IterationRunner::start_next(const SessionPtr &session) {
    if (session->running || session->closed() || session->queue.empty()) return;
    auto job = std::make_shared<Job>();
    job->iteration = std::move(session->queue.front());
    session->queue.pop_front();
    // Iterations of a session never overlap, so the next index is known now.
    job->index = session->iterations + 1;
    job->result.session = session;
    job->result.request_id = job->iteration.request_id;
    job->result.request_bytes = job->iteration.request->size();
    session->running = true;
    pool_->post([job] { run_on_worker(*job); },
                [this, job] {
                    SessionPtr s = job->result.session;
                    s->running = false;
                    done_(job->result);
                    start_next(s);
                });
}

} // namespace salus::server
