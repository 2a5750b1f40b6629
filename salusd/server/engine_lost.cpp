// A lost device (device/health.h: an error that poisons the whole device
// context) stops all scheduling. Once no lane runs or writes any more, the
// loop hands every queued iteration and every session still waiting for
// admission to the LostFn, which fails them and stops the daemon.
#include "server/engine.h"

#include "device/health.h"

namespace salus::server {

bool Engine::device_lost(std::string *message) const {
    std::string why;
    if (!salus::device_lost(&why)) return false;
    if (message) {
        *message = std::string(device_->type() == DeviceType::CUDA ? "the GPU context is lost: "
                                                                   : "the device is lost: ") +
                   why;
    }
    return true;
}

void Engine::check_lost() {
    if (lost_handled_ || !salus::device_lost(nullptr)) return;
    LostWork work;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        raise_run_state_locked(RunState::Lost);
        // A lane still running or writing wakes the loop when it is done.
        if (busy_lanes_ > 0) return;
        for (auto &[id, session] : sessions_) {
            while (!session->queue.empty()) {
                work.iterations.emplace_back(session, std::move(session->queue.front()));
                session->queue.pop_front();
            }
            if (!session->admitted) work.waiting.push_back(session);
        }
    }
    lost_handled_ = true;
    std::string message;
    device_lost(&message);
    on_lost_(message, work);
}

} // namespace salus::server
