// salusd's event log (--event-log FILE): one CSV line per scheduling event,
// in the format salus-sim writes too (sched/event_format.h).
//
// Recording never waits for the disk: record() copies a small fixed-size
// entry into a bounded queue under a mutex of its own (taken for a few
// stores, never while formatting or writing), and a writer thread formats
// and writes the queue out in batches. When the queue is full, events are
// counted and dropped; the writer reports the count as a `dropped` line, and
// close() logs the total. The engine holds a null pointer when the flag is
// off, so recording costs one branch and nothing is formatted.
#pragma once

#include "sched/event_format.h"

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace salus::server {

class EventLog {
  public:
    // Creates (or truncates) the file and writes the header; starts the
    // writer. Null with *error saying why.
    static std::unique_ptr<EventLog> open(const std::string &path, std::string *error);
    // Writes out what is queued, stops the writer and closes the file.
    ~EventLog();
    EventLog(const EventLog &) = delete;
    EventLog &operator=(const EventLog &) = delete;

    // Any thread. `session` fills the job column (0: none); `value` the
    // detail: switch, the session the lane ran before; hold, its length in
    // ns; unhold, a sched::HoldEnd. `text` (kept up to kTextBytes) is the
    // detail of the other kinds.
    void record(sched::TimeNs t, sched::EventKind kind, uint64_t session, sched::LaneId lane = 0,
                uint64_t value = 0, std::string_view text = {});

    static constexpr size_t kTextBytes = 40;
    // Entries queued at most between two writes.
    static constexpr size_t kCapacity = 1 << 16;

  private:
    struct Entry {
        sched::TimeNs t;
        uint64_t session;
        uint64_t value;
        sched::LaneId lane;
        sched::EventKind kind;
        uint8_t text_len;
        char text[kTextBytes];
    };

    EventLog(int fd, std::string path);
    void writer_main();
    // Formats and writes `batch`; false once the file cannot be written.
    bool write_batch(const std::vector<Entry> &batch, uint64_t dropped);

    const int fd_;
    const std::string path_;
    std::mutex mutex_; // the fields below
    std::condition_variable wake_;
    std::vector<Entry> queue_;
    uint64_t dropped_ = 0;       // since the last batch
    uint64_t dropped_total_ = 0; // since open
    bool stop_ = false;
    std::thread writer_;
};

} // namespace salus::server
