#include "server/event_log.h"

#include "server/log.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace salus::server {

namespace {

// How long queued events wait for the writer at most: lines show up about
// this late, and the writer wakes this often while the daemon is idle.
constexpr auto kFlushInterval = std::chrono::milliseconds(100);

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

} // namespace

std::unique_ptr<EventLog> EventLog::open(const std::string &path, std::string *error) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *error = "cannot open the event log " + path + ": " + strerror(errno);
        return nullptr;
    }
    if (!write_all(fd, sched::kEventLogHeader)) {
        *error = "cannot write the event log " + path + ": " + strerror(errno);
        ::close(fd);
        return nullptr;
    }
    return std::unique_ptr<EventLog>(new EventLog(fd, path));
}

EventLog::EventLog(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    queue_.reserve(kCapacity);
    writer_ = std::thread(&EventLog::writer_main, this);
}

EventLog::~EventLog() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    wake_.notify_one();
    writer_.join();
    if (dropped_total_ > 0) {
        SALUS_LOG_WARNING("event log %s: %llu event(s) dropped (the writer fell behind)",
                          path_.c_str(), static_cast<unsigned long long>(dropped_total_));
    }
    ::close(fd_);
}

void EventLog::record(sched::TimeNs t, sched::EventKind kind, uint64_t session, sched::LaneId lane,
                      uint64_t value, std::string_view text) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (queue_.size() >= kCapacity) {
        ++dropped_;
        return;
    }
    Entry &e = queue_.emplace_back();
    e.t = t;
    e.session = session;
    e.value = value;
    e.lane = lane;
    e.kind = kind;
    e.text_len = static_cast<uint8_t>(std::min(text.size(), kTextBytes));
    if (e.text_len) std::memcpy(e.text, text.data(), e.text_len); // data() may be null
    // The writer polls; wake it early only when the queue fills up.
    const bool half_full = queue_.size() == kCapacity / 2;
    lock.unlock();
    if (half_full) wake_.notify_one();
}

void EventLog::writer_main() {
    std::vector<Entry> batch;
    batch.reserve(kCapacity);
    bool writable = true;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        wake_.wait_for(lock, kFlushInterval,
                       [&] { return stop_ || queue_.size() >= kCapacity / 2; });
        batch.swap(queue_);
        const uint64_t dropped = dropped_;
        dropped_total_ += dropped_;
        dropped_ = 0;
        const bool stop = stop_;
        lock.unlock();
        if (writable && (!batch.empty() || dropped > 0)) {
            writable = write_batch(batch, dropped);
            if (!writable) {
                SALUS_LOG_ERROR("event log %s: %s; no more events are written", path_.c_str(),
                                strerror(errno));
            }
        }
        batch.clear();
        lock.lock();
        if (stop && queue_.empty()) return;
    }
}

bool EventLog::write_batch(const std::vector<Entry> &batch, uint64_t dropped) {
    std::string out;
    out.reserve(batch.size() * 48 + 64);
    std::string job, detail;
    for (const Entry &e : batch) {
        job = e.session ? std::to_string(e.session) : std::string();
        switch (e.kind) {
        case sched::EventKind::job_switch:
            detail = std::to_string(e.value);
            break;
        case sched::EventKind::hold:
            detail = sched::seconds(e.value);
            break;
        case sched::EventKind::unhold:
            detail = sched::hold_end_name(static_cast<sched::HoldEnd>(e.value));
            break;
        default:
            detail.assign(e.text, e.text_len);
            break;
        }
        sched::append_event_line(out, e.t, e.kind, job, e.lane, detail);
    }
    // Events lost before this batch's last ones: said after them, at the
    // time of the last event written.
    if (dropped > 0) {
        sched::append_event_line(out, batch.empty() ? 0 : batch.back().t, sched::EventKind::dropped,
                                 "", 0, std::to_string(dropped));
    }
    return write_all(fd_, out);
}

} // namespace salus::server
