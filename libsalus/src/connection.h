// The client side of one daemon connection: a Unix stream socket, replies
// matched to requests by id, and serialised writes.
//
// There is no reader thread. A thread that waits for a reply and finds that
// nobody reads the socket becomes the reader (the leader): it reads frames
// and hands each to its slot until its own reply is in, then passes the
// role to another waiting thread. A synchronous round trip thus costs one
// wake-up, not two.
//
// Shared (std::shared_ptr) by the client handle and every session and
// pending handle made from it, so handles may be freed after
// salus_disconnect without touching freed memory.
#pragma once

#include "frame.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace salus::client {

// One verified message from the daemon and the aligned bytes it lives in.
struct Reply {
    std::vector<uint64_t> storage; // uint64_t: 8-byte alignment for frame::verify
    const wire::Message *message = nullptr;
};

// Where the reader leaves the answer to one request.
struct Slot {
    bool done = false;            // guarded by Connection::mu_
    int code = 0;                 // non-zero: the connection failed first
    std::string error;            // its message
    std::unique_ptr<Reply> reply; // set when done and code == 0
    // Wakes the threads waiting for this slot: when it is done, or to make
    // one of them the reader. Mutable: waiting does not change the answer.
    mutable std::condition_variable cv;
};

class Connection {
  public:
    ~Connection();
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // Connects to path and exchanges Hello. On failure returns a code and
    // sets the thread's last error.
    // tenant: Hello's, 0 for none.
    static int open(const std::string &path, const std::string &client_name, uint32_t tenant,
                    std::shared_ptr<Connection> *out);

    uint64_t next_id();
    uint32_t max_frame_bytes() const { return max_frame_bytes_; }

    // Sends a finished Message buffer whose id is `id`, registering *slot
    // to receive the reply.
    int send(uint64_t id, const uint8_t *buf, size_t size, std::shared_ptr<Slot> *slot);
    // Blocks until the slot is done, reading the socket meanwhile if nobody
    // else does, then returns its code (0 when a reply arrived). With
    // timeout_ms >= 0, gives up after that long.
    int wait(const Slot &slot, int timeout_ms = -1);
    // Blocks like wait() for at most timeout_ms (< 0: no limit); true when
    // the slot is done (or the connection dead), so that wait() returns at
    // once. Sets no error.
    bool poll(const Slot &slot, int timeout_ms);
    // Whether the slot is done, after reading what has already arrived when
    // nobody else reads.
    bool ready(const Slot &slot);
    // Drops a request nobody will wait for: its reply is discarded.
    void forget(uint64_t id);

    // Turns the reply to a request into a code: 0 and *out when it has the
    // expected body type; the daemon's Error code; or SALUS_EPROTO.
    int check(const Reply &reply, wire::Body expected, const char *what);

    // Wakes any reader, fails every request and closes the socket; later
    // calls fail.
    void shutdown();

    void set_last_error(const std::string &message) noexcept;
    std::string last_error() const;

  private:
    using Clock = std::chrono::steady_clock;
    enum class ReadMode { kBlock, kUntil, kNoWait };

    Connection();
    int hello(const std::string &client_name, uint32_t tenant);

    // The waiting of wait() and poll(), with mu_ held by `lock`: returns
    // when the slot is done, the connection dead or timeout_ms passed.
    void await_locked(std::unique_lock<std::mutex> &lock, const Slot &slot, int timeout_ms);

    // Leadership, taken and given back under mu_.
    bool try_lead_locked();
    void stop_leading_locked();
    void pass_lead_locked();
    // As the leader, without mu_: reads and dispatches frames until `until`
    // is done (never, when null), the socket has nothing more (kNoWait) or
    // the deadline passes (kUntil), or the connection fails.
    void pump(const Slot *until, ReadMode mode, Clock::time_point deadline);
    // The next frame from the bytes received so far: 1 with *out, 0 when
    // more bytes are needed, -1 with *error for a malformed stream.
    int take_frame(std::unique_ptr<Reply> *out, std::string *error);
    // Hands a frame to its slot; returns whether `until` is now done.
    bool dispatch(std::unique_ptr<Reply> reply, const Slot *until);
    // When the send buffer is full: waits until writable, reading meanwhile
    // so that a daemon blocked on its replies to us can go on.
    int await_writable(bool *leading);
    // The connection failed: every request, waiting or later, gets the
    // code. closed() is for end of stream, broken() for a stream that
    // cannot be read on.
    void closed(int err);
    void broken(int code, const std::string &message);
    void fail_all(int code, const std::string &message);
    void fail_all_locked(int code, const std::string &message);

    int fd_ = -1;
    std::mutex write_mu_; // one frame at a time on the socket
    // Raised by hello(); read by senders and the reader.
    std::atomic<uint32_t> max_frame_bytes_{frame::kDefaultMaxFrameBytes};

    std::mutex mu_;
    uint64_t next_id_ = 1;
    std::map<uint64_t, std::shared_ptr<Slot>> waiting_;
    bool leading_ = false;              // a thread reads the socket
    std::vector<const Slot *> idle_;    // slots of threads asleep in wait()
    std::condition_variable no_leader_; // for shutdown(): leading_ became false
    bool closing_ = false;              // shutdown() was called
    int dead_code_ = 0;                 // non-zero once the connection is unusable
    std::string dead_error_;

    // Received bytes not yet in a frame; touched only by the leader.
    std::unique_ptr<uint8_t[]> in_buf_;
    size_t in_pos_ = 0, in_end_ = 0;
    std::unique_ptr<Reply> in_reply_; // the frame being received
    size_t in_size_ = 0, in_got_ = 0;
    // Why the daemon is about to close the connection, from an Error event.
    std::string close_reason_;

    mutable std::mutex error_mu_;
    std::string last_error_;
};

// Sends the finished message `id` in fbb, waits, checks the reply type
// (`what` names the request in errors). The reply stays in *slot.
int exchange(Connection *conn, const flatbuffers::FlatBufferBuilder &fbb, uint64_t id,
             wire::Body reply_type, const char *what, std::shared_ptr<Slot> *slot);

// One request and its reply: a message of `type` whose body
// make_body(fbb) builds, then exchange().
template <typename MakeBody>
int request(Connection *conn, wire::Body type, MakeBody make_body, wire::Body reply_type,
            const char *what, std::shared_ptr<Slot> *slot) {
    flatbuffers::FlatBufferBuilder fbb(128);
    const uint64_t id = conn->next_id();
    const auto body = make_body(fbb);
    wire::FinishMessageBuffer(fbb, wire::CreateMessage(fbb, id, type, body.Union()));
    return exchange(conn, fbb, id, reply_type, what, slot);
}

} // namespace salus::client
