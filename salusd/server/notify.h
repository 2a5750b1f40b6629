// The systemd service manager protocol: readiness, status lines, watchdog
// pings and stopping notices. Every call is a no-op when salusd was built
// without libsystemd or runs without NOTIFY_SOCKET.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

namespace salus::server {

// READY=1: call only once the listener accepts connections.
void notify_ready();
// STOPPING=1: the shutdown has started.
void notify_stopping();
// RELOADING=1 with MONOTONIC_USEC: a reload has started; notify_ready() ends it.
void notify_reloading();
// STATUS=<line>.
void notify_status(const std::string &line);

// A pair of loop timers: one sends STATUS= whenever the summary changes
// (checked every second), the other WATCHDOG=1 at half the interval the
// manager asked for. start() is a no-op without a notify socket. The timers
// are unreferenced, so they never keep the loop running on their own; after
// the loop ends, stop() closes them and one more uv_run() finishes that.
class Notifier {
  public:
    using SummaryFn = std::function<std::string()>;

    // Sends the first STATUS= at once.
    void start(uv_loop_t *loop, SummaryFn summary);
    // Closes the timers (run the loop once more to complete it).
    void stop();

  private:
    static void on_status_timer(uv_timer_t *timer);
    static void on_watchdog_timer(uv_timer_t *timer);
    void send_status_if_changed();

    SummaryFn summary_;
    std::string last_status_;
    uv_timer_t status_timer_;
    uv_timer_t watchdog_timer_;
    bool status_running_ = false;
    bool watchdog_running_ = false;
};

} // namespace salus::server
