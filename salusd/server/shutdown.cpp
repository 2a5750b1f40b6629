// Stopping the server (SIGTERM, SIGINT): the drain, then closing everything.
#include "server/server.h"

#include "server/clock.h"
#include "server/config_values.h"
#include "server/log.h"
#include "server/notify.h"
#include "server/replies.h"

#include <vector>

namespace salus::server {

namespace {

// How long clients get to read their last replies before their connections
// are closed anyway.
constexpr uint64_t kCloseGraceMs = 2000;

constexpr uint64_t kNsPerMs = 1'000'000;

} // namespace

void Server::stop(const char *reason) {
    if (stopping_) {
        if (!drained_) {
            SALUS_LOG_INFO("received %s again: ending the drain now", reason);
            end_drain(true);
        }
        return;
    }
    stopping_ = true;
    const uint64_t timeout_ms = options_.drain_timeout_ms;
    const std::string timeout = format_duration_ms(timeout_ms);
    SALUS_LOG_INFO("received %s: shutting down; queued and running iterations may finish "
                   "within %s",
                   reason, timeout.c_str());
    notify_stopping();
    listener_.close();
    dispatcher_.begin_shutdown();
    engine_.set_wake_after_replies(true);

    uint64_t deadline_ns = monotonic_ns() + timeout_ms * kNsPerMs;
    for (auto &[id, connection] : connections_) {
        connection->send(shutting_down_event(reason, timeout_ms * kNsPerMs, deadline_ns));
    }
    uv_timer_init(loop_, &drain_timer_);
    drain_timer_.data = this;
    uv_timer_start(
        &drain_timer_,
        [](uv_timer_t *timer) {
            auto *self = static_cast<Server *>(timer->data);
            SALUS_LOG_WARNING("drain timeout of %s passed",
                              format_duration_ms(self->options_.drain_timeout_ms).c_str());
            self->end_drain(true);
        },
        timeout_ms, 0);
    // Every loop iteration that handled something may have ended the drain.
    uv_check_init(loop_, &drain_check_);
    drain_check_.data = this;
    uv_check_start(&drain_check_,
                   [](uv_check_t *check) { static_cast<Server *>(check->data)->check_drained(); });
    check_drained();
}

void Server::check_drained() {
    if (!drained_ && !dispatcher_.has_work()) end_drain(false);
}

void Server::end_drain(bool timed_out) {
    drained_ = true;
    uv_close(reinterpret_cast<uv_handle_t *>(&drain_timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t *>(&drain_check_), nullptr);
    if (timed_out) {
        dispatcher_.abandon_work("the daemon is shutting down and its drain timeout of " +
                                 format_duration_ms(options_.drain_timeout_ms) + " has passed");
    } else {
        SALUS_LOG_INFO("drain complete: every queued iteration has finished");
    }
    close_all("the daemon is shutting down");
}

void Server::close_all(const std::string &reason) {
    close_handles();
    if (connections_.empty()) return;
    // Replies still queued go out first; a client that does not read them
    // within the grace period is cut off.
    std::vector<Connection *> open;
    for (auto &[id, connection] : connections_) open.push_back(connection.get());
    for (Connection *c : open) c->close_when_flushed(reason);
    uv_timer_init(loop_, &close_timer_);
    close_timer_.data = this;
    close_timer_open_ = true;
    uv_timer_start(
        &close_timer_,
        [](uv_timer_t *timer) {
            auto *self = static_cast<Server *>(timer->data);
            std::vector<Connection *> left;
            for (auto &[id, connection] : self->connections_) left.push_back(connection.get());
            for (Connection *c : left)
                c->close("the daemon shut down before the client read "
                         "its last replies");
        },
        kCloseGraceMs, 0);
}

void Server::on_device_lost(const std::string &message, LostWork &work) {
    SALUS_LOG_ERROR("%s; failing %zu queued iteration(s) and %zu waiting session(s), then "
                    "stopping",
                    message.c_str(), work.iterations.size(), work.waiting.size());
    dispatcher_.fail_lost(message, work);
    exit_status_ = kExitDeviceLost;
    if (stopping_ && drained_) return; // closing already
    if (stopping_) {
        // A drain was under way: nothing it waits for can finish now.
        uv_close(reinterpret_cast<uv_handle_t *>(&drain_timer_), nullptr);
        uv_close(reinterpret_cast<uv_handle_t *>(&drain_check_), nullptr);
    } else {
        notify_stopping();
    }
    stopping_ = true;
    drained_ = true;
    close_all("the daemon is stopping: its device is lost");
}

void Server::on_connections_gone() {
    if (!close_timer_open_) return;
    close_timer_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t *>(&close_timer_), nullptr);
}

} // namespace salus::server
