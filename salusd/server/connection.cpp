#include "server/connection.h"

#include "frame.h"
#include "server/clock.h"
#include "server/config_values.h"
#include "server/error_name.h"
#include "server/log.h"

#include <salus/salus.h>

#include <algorithm>
#include <cstring>

namespace salus::server {

namespace {

// Below this many missing body bytes, reading into the scratch buffer (and
// maybe the next frames with them) beats a read(2) per frame.
constexpr size_t kDirectReadBytes = 16 * 1024;

// Flow-control budget: queued requests plus unsent replies may use this many
// frame limits' worth of memory, and at most this many requests may wait.
constexpr uint64_t kBacklogFrames = 2;
constexpr uint32_t kMaxQueuedRequests = 4096;

// Before Hello a client has not shown it speaks the protocol: its frame may
// not be larger than a Hello ever is.
constexpr uint32_t kMaxFrameBeforeHello = 64 * 1024;
// What a frame's header reserves; the rest grows as its bytes arrive.
constexpr uint32_t kInitialBodyBytes = 64 * 1024;

constexpr uint64_t kNsPerMs = 1'000'000;

// A reply being written: libuv needs both buffers until the callback.
struct WriteRequest {
    uv_write_t req;
    uint8_t header[frame::kHeaderBytes];
    Reply body;
};

} // namespace

Connection::Connection(uv_loop_t *loop, uint64_t id, uint32_t max_frame_bytes, const Limits *limits,
                       ConnectionHandler *handler)
    : limits_(limits), id_(id), max_frame_bytes_(max_frame_bytes), handler_(handler) {
    uv_pipe_init(loop, &pipe_, 0);
    uv_timer_init(loop, &deadline_timer_);
    uv_timer_init(loop, &resume_timer_);
    pipe_.data = this;
    deadline_timer_.data = this;
    resume_timer_.data = this;
    open_handles_ = 3;
}

void Connection::accept_from(uv_stream_t *listener) {
    int rc = uv_accept(listener, stream());
    if (rc < 0) {
        close(std::string("accept failed: ") + uv_strerror(rc));
        return;
    }
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<uv_handle_t *>(&pipe_), &fd) < 0) {
        close("cannot get the socket of the connection");
        return;
    }
    fd_ = fd;
    channel_ = std::make_shared<ReplyChannel>(fd);
    peer_ = read_peer_identity(fd);
    rc = uv_read_start(stream(), on_alloc, on_read);
    if (rc < 0) {
        close(std::string("cannot read: ") + uv_strerror(rc));
        return;
    }
    accepted_ns_ = monotonic_ns();
    if (limits_->hello_timeout_ms > 0) {
        arm_deadline(accepted_ns_ + limits_->hello_timeout_ms * kNsPerMs);
    }
}

void Connection::refuse(int code, std::string_view message) {
    if (state_ != State::Open) return;
    refused_ = true;
    send(error_reply(0, code, message));
    close_when_flushed(std::string(message));
}

void Connection::arm_deadline(uint64_t deadline_ns) {
    uint64_t now = monotonic_ns();
    uint64_t ms = deadline_ns > now ? (deadline_ns - now + kNsPerMs - 1) / kNsPerMs : 0;
    // An earlier deadline is armed: it re-arms for this one when it passes.
    if (uv_is_active(reinterpret_cast<uv_handle_t *>(&deadline_timer_)) &&
        uv_timer_get_due_in(&deadline_timer_) <= ms) {
        return;
    }
    uv_timer_start(&deadline_timer_, on_deadline, ms, 0);
}

void Connection::frame_started() {
    frame_started_ns_ = monotonic_ns();
    if (limits_->frame_timeout_ms > 0) {
        arm_deadline(frame_started_ns_ + limits_->frame_timeout_ms * kNsPerMs);
    }
}

void Connection::on_deadline(uv_timer_t *timer) {
    auto *self = static_cast<Connection *>(timer->data);
    if (self->state_ != State::Open) return;
    const Limits &limits = *self->limits_;
    uint64_t now = monotonic_ns();
    uint64_t next = UINT64_MAX;
    if (!self->greeted && limits.hello_timeout_ms > 0) {
        uint64_t due = self->accepted_ns_ + limits.hello_timeout_ms * kNsPerMs;
        if (now >= due) {
            std::string why = "no Hello within " + format_duration_ms(limits.hello_timeout_ms) +
                              " ([limits] hello-timeout)";
            SALUS_LOG_WARNING("connection %llu (pid %d, uid %u): %s; closing it",
                              static_cast<unsigned long long>(self->id_), self->peer_.pid,
                              self->peer_.uid, why.c_str());
            self->close(why);
            return;
        }
        next = due;
    }
    bool in_frame = self->body_ || self->header_filled_ > 0;
    // While the daemon itself does not read, the frame cannot progress: its
    // clock starts again.
    if (in_frame && self->reading_paused_) self->frame_started_ns_ = now;
    if (in_frame && limits.frame_timeout_ms > 0) {
        uint64_t due = self->frame_started_ns_ + limits.frame_timeout_ms * kNsPerMs;
        if (now >= due) {
            size_t have = self->body_ ? self->body_filled_ : self->header_filled_;
            size_t want = self->body_ ? self->body_->size() : frame::kHeaderBytes;
            std::string why =
                "a frame incomplete after " + format_duration_ms(limits.frame_timeout_ms) + " (" +
                std::to_string(have) + " of " + std::to_string(want) +
                (self->body_ ? " body bytes" : " length bytes") + ", [limits] frame-timeout)";
            SALUS_LOG_WARNING("connection %llu (pid %d, uid %u): %s; closing it",
                              static_cast<unsigned long long>(self->id_), self->peer_.pid,
                              self->peer_.uid, why.c_str());
            self->close(why);
            return;
        }
        next = std::min(next, due);
    }
    if (next != UINT64_MAX) self->arm_deadline(next);
}

void Connection::send(Reply reply) {
    if (state_ != State::Open) return;
    channel_->loop_write_begin();
    write(std::move(reply), 0);
}

void Connection::send_rest(Reply reply, size_t offset) {
    if (state_ != State::Open) {
        channel_->loop_write_end();
        return;
    }
    write(std::move(reply), offset);
}

// The channel counts this write as outstanding until on_write.
void Connection::write(Reply reply, size_t offset) {
    auto *w = new WriteRequest;
    w->body = std::move(reply);
    frame::write_length(w->header, static_cast<uint32_t>(w->body.size()));
    uv_buf_t bufs[2];
    unsigned n = 0;
    if (offset < sizeof w->header) {
        bufs[n++] = uv_buf_init(reinterpret_cast<char *>(w->header) + offset,
                                static_cast<unsigned>(sizeof w->header - offset));
        offset = sizeof w->header;
    }
    size_t body_offset = offset - sizeof w->header;
    bufs[n++] = uv_buf_init(reinterpret_cast<char *>(w->body.data()) + body_offset,
                            static_cast<unsigned>(w->body.size() - body_offset));
    w->req.data = w;
    int rc = uv_write(&w->req, stream(), bufs, n, on_write);
    if (rc < 0) {
        delete w;
        channel_->loop_write_end();
        close(std::string("write failed: ") + uv_strerror(rc));
    }
}

void Connection::on_write(uv_write_t *req, int status) {
    auto *w = static_cast<WriteRequest *>(req->data);
    auto *self = static_cast<Connection *>(req->handle->data);
    delete w;
    self->channel_->loop_write_end();
    if (status == 0) self->update_reading();
    // ECANCELED: the handle is closing and already knows why.
    if (status < 0 && status != UV_ECANCELED) {
        self->close(std::string("write failed: ") + uv_strerror(status));
    }
}

void Connection::send_error(uint64_t request_id, int code, std::string_view message) {
    SALUS_LOG_DEBUG("connection %llu: request %llu failed (%s): %.*s",
                    static_cast<unsigned long long>(id_),
                    static_cast<unsigned long long>(request_id), error_code_name(code),
                    static_cast<int>(message.size()), message.data());
    send(error_reply(request_id, code, message));
}

void Connection::fail(uint64_t request_id, int code, std::string_view message) {
    if (state_ != State::Open) return;
    SALUS_LOG_WARNING("connection %llu (pid %d): %.*s; closing it",
                      static_cast<unsigned long long>(id_), peer_.pid,
                      static_cast<int>(message.size()), message.data());
    send(error_reply(request_id, code, message));
    close_when_flushed(std::string(message));
}

void Connection::close_when_flushed(std::string reason) {
    if (state_ != State::Open) return; // closing already, or a write failed and closed it
    state_ = State::Flushing;
    close_reason_ = std::move(reason);
    uv_read_stop(stream());
    // The shutdown completes once the queued replies are written; then close.
    if (uv_shutdown(&shutdown_req_, stream(), on_shutdown) < 0) close(close_reason_);
}

void Connection::on_shutdown(uv_shutdown_t *req, int) {
    auto *self = static_cast<Connection *>(req->handle->data);
    self->close(self->close_reason_);
}

void Connection::close(std::string reason) {
    if (state_ == State::Closed) return;
    state_ = State::Closed;
    close_reason_ = std::move(reason);
    // Lanes stop writing before the descriptor goes away.
    if (channel_) channel_->close();
    // What a partial frame held returns now, not when the handles are closed.
    body_.reset();
    std::vector<uint8_t>().swap(held_);
    close_handle(reinterpret_cast<uv_handle_t *>(&deadline_timer_));
    close_handle(reinterpret_cast<uv_handle_t *>(&resume_timer_));
    close_handle(reinterpret_cast<uv_handle_t *>(&pipe_));
}

void Connection::close_handle(uv_handle_t *handle) {
    uv_close(handle, [](uv_handle_t *h) {
        auto *self = static_cast<Connection *>(h->data);
        if (--self->open_handles_ == 0) self->handler_->on_closed(*self); // may delete self
    });
}

void Connection::add_queued_request(uint32_t bytes, uint64_t reply_bytes) {
    queued_bytes_ += bytes;
    reply_bytes_ += reply_bytes;
    ++queued_requests_;
    update_reading();
}

void Connection::remove_queued_request(uint32_t bytes, uint64_t reply_bytes) {
    queued_bytes_ -= bytes;
    reply_bytes_ -= reply_bytes;
    --queued_requests_;
    update_reading();
}

void Connection::update_reading() {
    if (state_ != State::Open) return;
    uint64_t unsent = uv_stream_get_write_queue_size(stream());
    uint64_t backlog = queued_bytes_ + unsent;
    uint64_t budget = kBacklogFrames * max_frame_bytes_;
    uint64_t replies = reply_bytes_ + unsent;
    uint64_t reply_budget = limits_->reply_backlog_bytes;
    bool over =
        backlog > budget || replies > reply_budget || queued_requests_ >= kMaxQueuedRequests;
    if (reading_paused_) {
        // Resume at half the budget, not just under it, so that a steady
        // flood does not toggle reading on every reply.
        over = backlog > budget / 2 || replies > reply_budget / 2 ||
               queued_requests_ >= kMaxQueuedRequests / 2;
    }
    if (over == reading_paused_) return;
    reading_paused_ = over;
    channel_->set_reading_paused(over);
    SALUS_LOG_DEBUG("connection %llu: reading %s (%u requests queued, %llu bytes backlog, %llu "
                    "bytes of replies)",
                    static_cast<unsigned long long>(id_), over ? "paused" : "resumed",
                    queued_requests_, static_cast<unsigned long long>(backlog),
                    static_cast<unsigned long long>(replies));
    if (over) {
        uv_read_stop(stream());
        uv_timer_stop(&resume_timer_);
        return;
    }
    // Resuming may happen deep inside the handling of another request (a
    // finished iteration is accounted there): the held bytes are consumed
    // from the loop's next turn instead, so requests never nest.
    uv_timer_start(&resume_timer_, on_resume, 0, 0);
}

void Connection::on_resume(uv_timer_t *timer) {
    auto *self = static_cast<Connection *>(timer->data);
    if (self->state_ != State::Open || self->reading_paused_) return;
    if (!self->held_.empty()) {
        std::vector<uint8_t> held = std::move(self->held_);
        self->held_.clear();
        self->consume(held.data(), held.size());
        // Paused again: the rest is held once more.
        if (self->state_ != State::Open || self->reading_paused_) return;
    }
    int rc = uv_read_start(self->stream(), on_alloc, on_read);
    if (rc < 0) self->close(std::string("cannot read: ") + uv_strerror(rc));
}

bool Connection::grow_body() {
    // Doubling: the copies realloc may make add up to less than the frame.
    uint64_t want = std::max<uint64_t>(2ull * body_->capacity(), body_filled_ + kDirectReadBytes);
    return body_->grow(static_cast<uint32_t>(std::min<uint64_t>(want, body_->size())));
}

void Connection::on_alloc(uv_handle_t *handle, size_t, uv_buf_t *buf) {
    auto *self = static_cast<Connection *>(handle->data);
    RequestFrame *body = self->body_.get();
    if (body && body->size() - self->body_filled_ >= kDirectReadBytes &&
        (self->body_filled_ < body->capacity() || self->grow_body())) {
        // Straight into the body: large feeds are never copied on the loop.
        buf->base = reinterpret_cast<char *>(body->data() + self->body_filled_);
        buf->len = body->capacity() - self->body_filled_;
    } else {
        buf->base = reinterpret_cast<char *>(self->scratch_);
        buf->len = sizeof self->scratch_;
    }
}

void Connection::on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
    auto *self = static_cast<Connection *>(stream->data);
    if (self->state_ != State::Open) return;
    if (nread == UV_EOF) {
        if (self->body_ || self->header_filled_ > 0) {
            size_t have = self->body_ ? self->body_filled_ : self->header_filled_;
            size_t want = self->body_ ? self->body_->size() : frame::kHeaderBytes;
            self->close("closed by the client in the middle of a frame (" + std::to_string(have) +
                        " of " + std::to_string(want) +
                        (self->body_ ? " body bytes)" : " length bytes)"));
        } else {
            self->close("closed by the client");
        }
        return;
    }
    if (nread < 0) {
        self->close(std::string("read failed: ") + uv_strerror(static_cast<int>(nread)));
        return;
    }
    if (nread == 0) return; // EAGAIN
    size_t n = static_cast<size_t>(nread);
    if (buf->base == reinterpret_cast<char *>(self->scratch_)) {
        self->consume(self->scratch_, n);
    } else {
        self->body_filled_ += n;
        if (self->body_filled_ == self->body_->size()) self->deliver_body();
    }
}

void Connection::consume(const uint8_t *bytes, size_t n) {
    // A request may pause reading: what follows it waits in held_.
    while (n > 0 && state_ == State::Open && !reading_paused_) {
        if (!body_) {
            if (header_filled_ == 0) frame_started();
            size_t take = std::min(frame::kHeaderBytes - header_filled_, n);
            std::memcpy(header_ + header_filled_, bytes, take);
            header_filled_ += take;
            bytes += take;
            n -= take;
            if (header_filled_ < frame::kHeaderBytes) return;
            header_filled_ = 0;
            if (!begin_body(frame::read_length(header_))) return;
        } else {
            if (body_filled_ == body_->capacity() && !grow_body()) {
                fail(0, SALUS_ENOMEM,
                     "out of memory for a frame of " + std::to_string(body_->size()) + " bytes");
                return;
            }
            size_t take = std::min<size_t>(body_->capacity() - body_filled_, n);
            std::memcpy(body_->data() + body_filled_, bytes, take);
            body_filled_ += take;
            bytes += take;
            n -= take;
            if (body_filled_ == body_->size()) deliver_body();
        }
    }
    if (n > 0 && state_ == State::Open) held_.assign(bytes, bytes + n);
}

bool Connection::begin_body(uint32_t length) {
    if (length == 0) {
        fail(0, SALUS_EPROTO, "malformed frame: length 0");
        return false;
    }
    if (length > max_frame_bytes_) {
        fail(0, SALUS_ETOOBIG,
             "frame of " + std::to_string(length) + " bytes exceeds the limit of " +
                 std::to_string(max_frame_bytes_) + " bytes");
        return false;
    }
    if (!greeted && length > kMaxFrameBeforeHello) {
        fail(0, SALUS_ETOOBIG,
             "a first frame of " + std::to_string(length) + " bytes: before Hello, frames are " +
                 std::to_string(kMaxFrameBeforeHello) + " bytes at most");
        return false;
    }
    body_ = RequestFrame::allocate(length, kInitialBodyBytes);
    if (!body_) {
        fail(0, SALUS_ENOMEM, "out of memory for a frame of " + std::to_string(length) + " bytes");
        return false;
    }
    body_filled_ = 0;
    return true;
}

void Connection::deliver_body() {
    RequestFramePtr frame = std::move(body_);
    body_filled_ = 0;
    const wire::Message *message = frame::verify(frame->data(), frame->size());
    if (!message) {
        fail(0, SALUS_EPROTO,
             "malformed frame of " + std::to_string(frame->size()) +
                 " bytes: not a valid salus.wire.Message");
        return;
    }
    frame->set_message(message);
    handler_->on_frame(*this, std::move(frame), monotonic_ns());
}

} // namespace salus::server
