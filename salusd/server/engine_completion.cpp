// The completion path: the loop hears of every finished iteration after
// its lane wrote the reply, for accounting and closing.
#include "server/engine.h"

namespace salus::server {

bool Engine::loop_needed_locked(const IterationDone &done) const {
    // Reports pile up without a wake only while a client keeps the loop busy.
    constexpr size_t kMaxUnreported = 64;
    const Session &s = *done.session;
    return s.release_when_done || s.close_requested || layout_pause_ == LayoutPause::Quiesced ||
           run_state_ == RunState::Lost || done_queue_.size() >= kMaxUnreported ||
           s.channel->reading_paused();
}

void Engine::mark_closing(const SessionPtr &session) {
    std::lock_guard<std::mutex> lock(mutex_);
    session->close_requested = true;
}

void Engine::collect_reports() {
    std::vector<IterationDone> batch;
    bool quiesced;
    bool nothing;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        quiesced = layout_pause_ == LayoutPause::Quiesced;
        nothing = done_queue_.empty() && !quiesced;
        batch.swap(done_queue_);
    }
    if (nothing) {
        check_lost();
        return;
    }
    for (IterationDone &done : batch) {
        bool release;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            release = done.session->release_when_done && !done.session->running;
            if (release) done.session->release_when_done = false;
        }
        done_(done);
        if (release) release_memory(done.session);
    }
    if (quiesced) apply_pending();
    check_lost();
}

} // namespace salus::server
