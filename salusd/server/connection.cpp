#include "server/connection.h"

#include "frame.h"
#include "server/clock.h"
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

// A reply being written: libuv needs both buffers until the callback.
struct WriteRequest {
    uv_write_t req;
    uint8_t header[frame::kHeaderBytes];
    Reply body;
};

} // namespace

Connection::Connection(uv_loop_t *loop, uint64_t id, uint32_t max_frame_bytes,
                       ConnectionHandler *handler)
    : id_(id), max_frame_bytes_(max_frame_bytes), handler_(handler) {
    uv_pipe_init(loop, &pipe_, 0);
    pipe_.data = this;
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
    channel_ = std::make_shared<ReplyChannel>(fd);
    peer_ = read_peer_identity(fd);
    rc = uv_read_start(stream(), on_alloc, on_read);
    if (rc < 0) close(std::string("cannot read: ") + uv_strerror(rc));
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
    state_ = State::Draining;
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
    body_.reset();
    uv_close(reinterpret_cast<uv_handle_t *>(&pipe_), [](uv_handle_t *handle) {
        auto *self = static_cast<Connection *>(handle->data);
        self->handler_->on_closed(*self); // may delete self
    });
}

void Connection::add_queued_request(uint32_t bytes) {
    queued_bytes_ += bytes;
    ++queued_requests_;
    update_reading();
}

void Connection::remove_queued_request(uint32_t bytes) {
    queued_bytes_ -= bytes;
    --queued_requests_;
    update_reading();
}

void Connection::update_reading() {
    if (state_ != State::Open) return;
    uint64_t backlog = queued_bytes_ + uv_stream_get_write_queue_size(stream());
    uint64_t budget = kBacklogFrames * max_frame_bytes_;
    bool over = backlog > budget || queued_requests_ >= kMaxQueuedRequests;
    if (reading_paused_) {
        // Resume at half the budget, not just under it, so that a steady
        // flood does not toggle reading on every reply.
        over = backlog > budget / 2 || queued_requests_ >= kMaxQueuedRequests / 2;
    }
    if (over == reading_paused_) return;
    reading_paused_ = over;
    channel_->set_reading_paused(over);
    SALUS_LOG_DEBUG("connection %llu: reading %s (%u requests queued, %llu bytes backlog)",
                    static_cast<unsigned long long>(id_), over ? "paused" : "resumed",
                    queued_requests_, static_cast<unsigned long long>(backlog));
    int rc = over ? uv_read_stop(stream()) : uv_read_start(stream(), on_alloc, on_read);
    if (rc < 0) close(std::string("cannot read: ") + uv_strerror(rc));
}

void Connection::on_alloc(uv_handle_t *handle, size_t, uv_buf_t *buf) {
    auto *self = static_cast<Connection *>(handle->data);
    if (self->body_ && self->body_->size() - self->body_filled_ >= kDirectReadBytes) {
        // Straight into the body: large feeds are never copied on the loop.
        buf->base = reinterpret_cast<char *>(self->body_->data() + self->body_filled_);
        buf->len = self->body_->size() - self->body_filled_;
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
    while (n > 0 && state_ == State::Open) {
        if (!body_) {
            size_t take = std::min(frame::kHeaderBytes - header_filled_, n);
            std::memcpy(header_ + header_filled_, bytes, take);
            header_filled_ += take;
            bytes += take;
            n -= take;
            if (header_filled_ < frame::kHeaderBytes) return;
            header_filled_ = 0;
            if (!begin_body(frame::read_length(header_))) return;
        } else {
            size_t take = std::min(body_->size() - body_filled_, n);
            std::memcpy(body_->data() + body_filled_, bytes, take);
            body_filled_ += take;
            bytes += take;
            n -= take;
            if (body_filled_ == body_->size()) deliver_body();
        }
    }
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
    body_ = RequestFrame::allocate(length);
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
