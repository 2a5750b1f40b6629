// Stopping the engine: halting scheduling, waiting for running iterations,
// stopping and joining the lane threads.
#include "server/engine.h"

#include "server/clock.h"

namespace salus::server {

void Engine::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        raise_run_state_locked(RunState::Halted);
        // Lanes post to the async handle only while it is open, under the mutex.
        async_open_ = false;
        for (auto &[id, lane] : lanes_) {
            lane->stop = true;
            lane->wake.notify_one();
        }
    }
    if (!uv_is_closing(reinterpret_cast<uv_handle_t *>(&async_)) && pool_) {
        uv_close(reinterpret_cast<uv_handle_t *>(&async_), nullptr);
        uv_close(reinterpret_cast<uv_handle_t *>(&prepare_), nullptr);
    }
}

void Engine::join() {
    std::vector<std::thread> threads;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        raise_run_state_locked(RunState::Halted);
        for (auto &[id, lane] : lanes_) {
            lane->stop = true;
            lane->wake.notify_one();
            if (lane->thread.joinable()) threads.push_back(std::move(lane->thread));
        }
    }
    for (std::thread &t : threads) t.join();
    std::lock_guard<std::mutex> lock(mutex_);
    // Results nobody will send; sessions are freed with them.
    done_queue_.clear();
    lanes_.clear();
}

void Engine::set_wake_after_replies(bool on) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_after_replies_ = on;
}

std::vector<Engine::Halted> Engine::halt() {
    std::vector<Halted> halted;
    std::lock_guard<std::mutex> lock(mutex_);
    raise_run_state_locked(RunState::Halted);
    uint64_t now = monotonic_ns();
    // An iteration given to a lane that has not started it yet is taken back.
    for (auto &[id, lane] : lanes_) {
        if (!lane->assigned) continue;
        SessionPtr session = std::move(lane->assigned);
        lane->assigned = nullptr;
        lane->has_work.store(false, std::memory_order_relaxed);
        session->running = false;
        --busy_lanes_;
        (void)scheduler_.iteration_finished(session->id, now);
        halted.push_back({session, lane->next.request_id, false});
        lane->next = QueuedIteration();
    }
    for (auto &[id, session] : sessions_) {
        if (session->running && session->running_request_id != 0) {
            halted.push_back({session, session->running_request_id, true});
        }
        for (const QueuedIteration &iteration : session->queue) {
            halted.push_back({session, iteration.request_id, false});
        }
        session->queue.clear();
    }
    return halted;
}

bool Engine::wait_idle(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return idle_.wait_for(lock, timeout, [&] { return scheduler_.running_iterations() == 0; });
}

} // namespace salus::server
