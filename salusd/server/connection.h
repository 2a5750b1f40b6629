// One client connection: reassembles frames from the byte stream into
// aligned buffers, verifies them, enforces the frame limit, the Hello and
// frame timeouts and the reply backlog ([limits]), and writes replies. What
// a frame means is the handler's business.
#pragma once

#include "server/access.h"
#include "server/replies.h"
#include "server/reply_channel.h"
#include "server/request_frame.h"
#include "server/resource_limits.h"

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace salus::server {

class Connection;

class ConnectionHandler {
  public:
    virtual ~ConnectionHandler() = default;
    // A verified frame; arrival_ns is when its last byte was read.
    virtual void on_frame(Connection &connection, RequestFramePtr frame, uint64_t arrival_ns) = 0;
    // The handle is closed; the handler may delete the connection now.
    virtual void on_closed(Connection &connection) = 0;
};

class Connection {
  public:
    // `limits` are the daemon's, read as they are now (a reload applies).
    Connection(uv_loop_t *loop, uint64_t id, uint32_t max_frame_bytes, const Limits *limits,
               ConnectionHandler *handler);
    Connection(const Connection &) = delete;
    Connection &operator=(const Connection &) = delete;

    // Accepts the pending connection of `listener` and starts reading. On
    // failure the connection closes itself (on_closed follows).
    void accept_from(uv_stream_t *listener);

    uint64_t id() const { return id_; }
    // Who the client is, as the kernel saw it connect: what every request
    // is authorized from (access.h).
    const PeerIdentity &peer() const { return peer_; }
    int peer_pid() const { return peer_.pid; }
    // The client's user id; kUnknownUid when the socket does not tell.
    uint32_t peer_uid() const { return peer_.uid; }
    // The socket's descriptor once accepted, else -1.
    int fd() const { return fd_; }
    static constexpr uint32_t kUnknownUid = PeerIdentity::kUnknown;
    // The frame limit this connection was opened with (told in HelloReply).
    uint32_t max_frame_bytes() const { return max_frame_bytes_; }
    // True once close() or fail() was called: nothing more is read or sent.
    bool closing() const { return state_ != State::Open; }
    // Why it closed, for the log: "closed by the client", an error...
    const std::string &close_reason() const { return close_reason_; }

    // Queues a reply; dropped when the connection is closing.
    void send(Reply reply);
    // Sends what a lane handed off: `reply` from byte `offset` of its frame
    // (length included), ending the lane's reservation of the channel.
    void send_rest(Reply reply, size_t offset);
    // For lanes to write iteration replies directly; null before accept.
    const ReplyChannelPtr &channel() const { return channel_; }
    void send_error(uint64_t request_id, int code, std::string_view message);
    // Sends an Error, then closes once it is written.
    void fail(uint64_t request_id, int code, std::string_view message);
    // Closes now; queued replies are discarded.
    void close(std::string reason);
    // Stops reading and closes once the queued replies are written.
    void close_when_flushed(std::string reason);

    // Sends an Error and closes once it is written, without a log line:
    // for refusals the caller logs at its own rate.
    void refuse(int code, std::string_view message);
    bool refused() const { return refused_; }

    // Flow control: reading pauses while the requests this connection has
    // queued plus its unsent replies exceed a budget, or while its unsent
    // replies plus those its queued requests will make (`reply_bytes` each,
    // at most) exceed [limits] reply-backlog, so that a client that floods
    // requests or never reads replies cannot grow the daemon. Its queued
    // requests still run and are answered: nothing acknowledged is dropped.
    void add_queued_request(uint32_t bytes, uint64_t reply_bytes);
    void remove_queued_request(uint32_t bytes, uint64_t reply_bytes);
    // Requests queued or running (iterations-per-connection).
    uint32_t queued_requests() const { return queued_requests_; }

    // Handshake and ownership state, kept here for the request handler.
    bool greeted = false;
    bool counted = false; // in the server's connections per uid
    std::string client_name;
    uint32_t tenant = 0; // Hello's: the tenant its sessions are charged to, 0 for none
    std::set<uint64_t> session_ids;
    uint32_t sessions_creating = 0; // CreateSessions not answered yet
    // Set once it closes: the workers skip the graphs it sent that they
    // have not begun to build (its sessions would be closed at once).
    std::shared_ptr<std::atomic<bool>> gone = std::make_shared<std::atomic<bool>>(false);

  private:
    enum class State { Open, Flushing, Closed }; // Flushing: close_when_flushed()

    static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf);
    static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
    void consume(const uint8_t *bytes, size_t n);
    bool begin_body(uint32_t length);
    // Makes room for more of body_ (doubling); false when out of memory.
    bool grow_body();
    void deliver_body();
    void write(Reply reply, size_t offset);
    static void on_write(uv_write_t *req, int status);
    static void on_shutdown(uv_shutdown_t *req, int status);
    void update_reading();
    // Reads again after a pause: first the bytes held back at the pause.
    static void on_resume(uv_timer_t *timer);
    // The Hello and frame deadlines ([limits] hello-timeout, frame-timeout).
    void frame_started();
    void arm_deadline(uint64_t deadline_ns);
    static void on_deadline(uv_timer_t *timer);
    void close_handle(uv_handle_t *handle);

    uv_stream_t *stream() { return reinterpret_cast<uv_stream_t *>(&pipe_); }

    uv_pipe_t pipe_;
    uv_timer_t deadline_timer_;
    uv_timer_t resume_timer_;
    unsigned open_handles_ = 0; // on_closed once all three are closed
    const Limits *limits_;
    uint64_t accepted_ns_ = 0;
    uint64_t frame_started_ns_ = 0;
    uint64_t reply_bytes_ = 0; // replies the queued requests will make, at most
    uv_shutdown_t shutdown_req_;
    const uint64_t id_;
    const uint32_t max_frame_bytes_;
    ConnectionHandler *handler_;
    ReplyChannelPtr channel_;
    State state_ = State::Open;
    bool reading_paused_ = false;
    uint64_t queued_bytes_ = 0;
    uint32_t queued_requests_ = 0;
    PeerIdentity peer_;
    int fd_ = -1;
    bool refused_ = false;
    std::string close_reason_;

    // Frame reassembly: the length, then a body of exactly that size.
    uint8_t header_[4];
    size_t header_filled_ = 0;
    // Read before reading paused and not consumed yet: they come first.
    std::vector<uint8_t> held_;
    RequestFramePtr body_;
    size_t body_filled_ = 0;
    // Small reads land here; large bodies are read into place directly.
    static constexpr size_t kScratchBytes = 64 * 1024;
    uint8_t scratch_[kScratchBytes];
};

} // namespace salus::server
