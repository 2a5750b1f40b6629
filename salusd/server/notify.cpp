#include "server/notify.h"

#include "server/log.h"

#include <cstdint>
#include <cstdlib>
#include <ctime>

#ifdef SALUS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace salus::server {

namespace {

constexpr uint64_t kStatusPeriodMs = 1000;

bool notify_enabled() {
#ifdef SALUS_HAVE_SYSTEMD
    const char *socket = std::getenv("NOTIFY_SOCKET");
    return socket != nullptr && socket[0] != '\0';
#else
    return false;
#endif
}

void send(const std::string &message) {
#ifdef SALUS_HAVE_SYSTEMD
    if (!notify_enabled()) return;
    int rc = sd_notify(0, message.c_str());
    if (rc < 0) SALUS_LOG_WARNING("cannot notify the service manager: error %d", -rc);
#else
    (void)message;
#endif
}

} // namespace

void notify_ready() {
    send("READY=1");
}

void notify_stopping() {
    send("STOPPING=1");
}

void notify_reloading() {
    // MONOTONIC_USEC lets systemd 253+ (Type=notify-reload) match the reload
    // to its request; older ones ignore it.
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t usec =
        static_cast<uint64_t>(ts.tv_sec) * 1'000'000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
    send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(usec));
}

void notify_status(const std::string &line) {
    send("STATUS=" + line);
}

void Notifier::start(uv_loop_t *loop, SummaryFn summary) {
    if (!notify_enabled()) return;
    summary_ = std::move(summary);
    send_status_if_changed();
    uv_timer_init(loop, &status_timer_);
    status_timer_.data = this;
    uv_timer_start(&status_timer_, on_status_timer, kStatusPeriodMs, kStatusPeriodMs);
    uv_unref(reinterpret_cast<uv_handle_t *>(&status_timer_));
    status_running_ = true;
#ifdef SALUS_HAVE_SYSTEMD
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        uint64_t period_ms = usec / 2000;
        if (period_ms == 0) period_ms = 1;
        uv_timer_init(loop, &watchdog_timer_);
        watchdog_timer_.data = this;
        uv_timer_start(&watchdog_timer_, on_watchdog_timer, 0, period_ms);
        uv_unref(reinterpret_cast<uv_handle_t *>(&watchdog_timer_));
        watchdog_running_ = true;
        SALUS_LOG_INFO("watchdog enabled: pinging every %llu ms",
                       static_cast<unsigned long long>(period_ms));
    }
#endif
}

void Notifier::stop() {
    if (status_running_) {
        status_running_ = false;
        uv_close(reinterpret_cast<uv_handle_t *>(&status_timer_), nullptr);
    }
    if (watchdog_running_) {
        watchdog_running_ = false;
        uv_close(reinterpret_cast<uv_handle_t *>(&watchdog_timer_), nullptr);
    }
}

void Notifier::on_status_timer(uv_timer_t *timer) {
    static_cast<Notifier *>(timer->data)->send_status_if_changed();
}

void Notifier::on_watchdog_timer(uv_timer_t *) {
    send("WATCHDOG=1");
}

void Notifier::send_status_if_changed() {
    std::string line = summary_();
    if (line == last_status_) return;
    last_status_ = line;
    notify_status(line);
}

} // namespace salus::server
