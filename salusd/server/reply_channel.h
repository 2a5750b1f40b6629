// Lets the lane thread that ran an iteration write the reply straight to the
// client's socket, saving a wake-up of the event loop on every iteration.
//
// The loop writes through libuv; lanes write with send(2). One mutex orders
// them: a lane writes only while libuv has nothing queued for the socket, and
// when the socket is full it hands the rest to the loop, which then owns the
// order again until that write completes.
#pragma once

#include "server/reply.h"

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>

namespace salus::server {

class ReplyChannel {
  public:
    explicit ReplyChannel(int fd) : fd_(fd) {}

    enum class Result {
        Written, // the whole frame is on the socket
        // `*written` bytes of the frame went out (maybe 0); the loop must send
        // the rest with Connection::send_rest(), which ends the reservation.
        HandOff,
        Closed, // the connection is gone: drop the reply
    };
    // Any thread but the loop: writes the frame (length + body) without blocking.
    Result try_write(const Reply &reply, size_t *written);

    // Loop thread, around every libuv write: while one is outstanding, lanes
    // hand their replies to the loop instead of writing.
    void loop_write_begin();
    void loop_write_end();
    // Loop thread, before the socket is closed: lanes drop replies from now on.
    void close();
    // Whether the loop stopped reading this client (flow control): lanes
    // wake the loop after each reply then, so it can resume.
    void set_reading_paused(bool paused) { reading_paused_.store(paused); }
    bool reading_paused() const { return reading_paused_.load(); }

  private:
    std::mutex mutex_;
    const int fd_;
    unsigned loop_writes_ = 0;
    bool closed_ = false;
    std::atomic<bool> reading_paused_{false};
};

using ReplyChannelPtr = std::shared_ptr<ReplyChannel>;

} // namespace salus::server
