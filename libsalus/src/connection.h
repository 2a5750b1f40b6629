// The client side of one daemon connection: a Unix stream socket, a reader
// thread that dispatches replies by request id, and serialised writes.
//
// Shared (std::shared_ptr) by the client handle and every session and
// pending handle made from it, so handles may be freed after
// salus_disconnect without touching freed memory.
#pragma once

#include "frame.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace salus::client {

// One verified message from the daemon and the aligned bytes it lives in.
struct Reply {
    std::vector<uint64_t> storage; // uint64_t: 8-byte alignment for frame::verify
    const wire::Message *message = nullptr;
};

// Where the reader thread leaves the answer to one request.
struct Slot {
    bool done = false;            // guarded by Connection::mu_
    int code = 0;                 // non-zero: the connection failed first
    std::string error;            // its message
    std::unique_ptr<Reply> reply; // set when done and code == 0
};

class Connection {
  public:
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // Connects to path and exchanges Hello. On failure returns a code and
    // sets the thread's last error.
    static int open(const std::string &path, const std::string &client_name,
                    std::shared_ptr<Connection> *out);

    uint64_t next_id();
    uint32_t max_frame_bytes() const { return max_frame_bytes_; }

    // Sends a finished Message buffer whose id is `id`, registering *slot
    // to receive the reply.
    int send(uint64_t id, const uint8_t *buf, size_t size, std::shared_ptr<Slot> *slot);
    // Blocks until the slot is done, then returns its code (0 when a reply
    // arrived). With timeout_ms >= 0, gives up after that long.
    int wait(const Slot &slot, int timeout_ms = -1);
    bool ready(const Slot &slot);
    // Drops a request nobody will wait for: its reply is discarded.
    void forget(uint64_t id);

    // Turns the reply to a request into a code: 0 and *out when it has the
    // expected body type; the daemon's Error code; or SALUS_EPROTO.
    int check(const Reply &reply, wire::Body expected, const char *what);

    // Stops the reader and closes the socket; later calls fail.
    void shutdown();

    void set_last_error(const std::string &message) noexcept;
    std::string last_error() const;

  private:
    Connection() = default;
    int hello(const std::string &client_name);
    void reader_loop();
    bool read_full(uint8_t *p, size_t n);
    void fail_all(int code, const std::string &message);

    int fd_ = -1;
    std::thread reader_;
    std::mutex write_mu_; // one frame at a time on the socket
    // Set by hello() while the reader thread already runs.
    std::atomic<uint32_t> max_frame_bytes_{frame::kDefaultMaxFrameBytes};

    std::mutex mu_;
    std::condition_variable cv_;
    uint64_t next_id_ = 1;
    std::map<uint64_t, std::shared_ptr<Slot>> waiting_;
    bool closing_ = false; // shutdown() was called
    int dead_code_ = 0;    // non-zero once the connection is unusable
    std::string dead_error_;

    mutable std::mutex error_mu_;
    std::string last_error_;
};

} // namespace salus::client
