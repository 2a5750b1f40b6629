// Socket, reader thread and request/reply matching of a daemon connection.
#include "connection.h"

#include "error.h"

#include <salus/salus.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace salus::client {

namespace {

// A daemon that accepts but never answers (wrong program on the socket)
// must not hang salus_connect forever.
constexpr int kHelloTimeoutMs = 30000;
// Replies carry outputs, which the daemon's frame limit does not bound.
constexpr uint32_t kMinReplyLimit = 1u << 30;
// flatbuffers cannot verify buffers of 2 GiB or more.
constexpr uint32_t kMaxReplyLimit = (1u << 31) - 1;

std::string errno_text(int err) {
    return std::strerror(err);
}

} // namespace

Connection::~Connection() {
    shutdown();
}

int Connection::open(const std::string &path, const std::string &client_name,
                     std::shared_ptr<Connection> *out) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.empty()) return fail(SALUS_EINVAL, "the socket path is empty");
    if (path.size() >= sizeof(addr.sun_path)) {
        return fail(SALUS_EINVAL, "socket path too long (" + std::to_string(path.size()) +
                                      " bytes, at most " +
                                      std::to_string(sizeof(addr.sun_path) - 1) + "): " + path);
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);

    std::shared_ptr<Connection> conn(new Connection());
    conn->fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (conn->fd_ < 0) return fail(SALUS_ECONNECT, "socket: " + errno_text(errno));
    if (::connect(conn->fd_, reinterpret_cast<const sockaddr *>(&addr), sizeof(addr)) != 0) {
        return fail(SALUS_ECONNECT, "cannot connect to " + path + ": " + errno_text(errno));
    }
    conn->reader_ = std::thread([c = conn.get()] { c->reader_loop(); });
    int rc = conn->hello(client_name);
    if (rc != SALUS_OK) return rc;
    *out = std::move(conn);
    return SALUS_OK;
}

int Connection::hello(const std::string &client_name) {
    flatbuffers::FlatBufferBuilder fbb(256);
    uint64_t id = next_id();
    auto body = wire::CreateHello(fbb, SALUS_PROTOCOL_VERSION, 0, fbb.CreateString(client_name));
    wire::FinishMessageBuffer(fbb, wire::CreateMessage(fbb, id, wire::Body::Hello, body.Union()));
    std::shared_ptr<Slot> slot;
    int rc = send(id, fbb.GetBufferPointer(), fbb.GetSize(), &slot);
    if (rc != SALUS_OK) return rc;
    rc = wait(*slot, kHelloTimeoutMs);
    if (rc != SALUS_OK) {
        forget(id);
        return rc;
    }
    rc = check(*slot->reply, wire::Body::HelloReply, "hello");
    if (rc != SALUS_OK) return rc;
    const auto *reply = slot->reply->message->body_as_HelloReply();
    if (reply->protocol_version() != SALUS_PROTOCOL_VERSION) {
        return fail(SALUS_EVERSION, "the daemon speaks protocol version " +
                                        std::to_string(reply->protocol_version()) +
                                        ", this library version " +
                                        std::to_string(SALUS_PROTOCOL_VERSION));
    }
    if (reply->max_frame_bytes() > 0) max_frame_bytes_ = reply->max_frame_bytes();
    return SALUS_OK;
}

uint64_t Connection::next_id() {
    std::lock_guard<std::mutex> lock(mu_);
    return next_id_++;
}

int Connection::send(uint64_t id, const uint8_t *buf, size_t size, std::shared_ptr<Slot> *slot) {
    uint32_t limit = max_frame_bytes_;
    if (size > limit) {
        return fail(this, SALUS_ETOOBIG,
                    "a request of " + std::to_string(size) +
                        " bytes is over the daemon's frame limit of " + std::to_string(limit) +
                        " bytes");
    }
    auto s = std::make_shared<Slot>();
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (dead_code_ != 0) return fail(this, dead_code_, dead_error_);
        // Registered before the write so that the reply cannot overtake it.
        waiting_[id] = s;
    }

    uint8_t header[frame::kHeaderBytes];
    frame::write_length(header, static_cast<uint32_t>(size));
    iovec iov[2] = {{header, sizeof(header)}, {const_cast<uint8_t *>(buf), size}};
    int err = 0;
    {
        std::lock_guard<std::mutex> lock(write_mu_);
        if (fd_ < 0) err = EBADF;
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = 2;
        while (err == 0 && msg.msg_iovlen > 0) {
            ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno != EINTR) err = errno;
                continue;
            }
            // Skip what was written; a partial write leaves a suffix.
            auto left = static_cast<size_t>(n);
            while (msg.msg_iovlen > 0 && left >= msg.msg_iov[0].iov_len) {
                left -= msg.msg_iov[0].iov_len;
                ++msg.msg_iov;
                --msg.msg_iovlen;
            }
            if (msg.msg_iovlen > 0) {
                msg.msg_iov[0].iov_base = static_cast<uint8_t *>(msg.msg_iov[0].iov_base) + left;
                msg.msg_iov[0].iov_len -= left;
            }
        }
    }
    if (err != 0) {
        // A frame cut in the middle leaves the stream unusable.
        fail_all(SALUS_ECONNECT, err == EPIPE || err == ECONNRESET
                                     ? "the daemon closed the connection"
                                     : "cannot write to the daemon: " + errno_text(err));
        if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
        return fail(this, s->code != 0 ? s->code : SALUS_ECONNECT, s->error);
    }
    *slot = std::move(s);
    return SALUS_OK;
}

int Connection::wait(const Slot &slot, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    if (timeout_ms < 0) {
        cv_.wait(lock, [&] { return slot.done; });
    } else if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [&] { return slot.done; })) {
        lock.unlock();
        return fail(this, SALUS_ECONNECT,
                    "the daemon did not answer within " + std::to_string(timeout_ms) + " ms");
    }
    if (slot.code != 0) {
        std::string error = slot.error;
        lock.unlock();
        return fail(this, slot.code, error);
    }
    return SALUS_OK;
}

bool Connection::ready(const Slot &slot) {
    std::lock_guard<std::mutex> lock(mu_);
    return slot.done;
}

void Connection::forget(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_.erase(id);
}

int Connection::check(const Reply &reply, wire::Body expected, const char *what) {
    wire::Body type = reply.message->body_type();
    if (type == wire::Body::Error) {
        const auto *e = reply.message->body_as_Error();
        int code = e->code();
        std::string message = e->message() ? e->message()->str() : "";
        if (code >= 0) {
            return fail(this, SALUS_EPROTO,
                        std::string(what) + ": the daemon sent an error with code " +
                            std::to_string(code) + ": " + message);
        }
        return fail(this, code, message.empty() ? salus_strerror(code) : message);
    }
    if (type != expected) {
        return fail(this, SALUS_EPROTO,
                    std::string(what) + ": expected a " + wire::EnumNameBody(expected) +
                        " reply, got " + wire::EnumNameBody(type));
    }
    return SALUS_OK;
}

bool Connection::read_full(uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t got = ::recv(fd_, p, n, 0);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        p += got;
        n -= static_cast<size_t>(got);
    }
    return true;
}

void Connection::fail_all(int code, const std::string &message) {
    std::lock_guard<std::mutex> lock(mu_);
    if (dead_code_ == 0) {
        dead_code_ = code;
        dead_error_ = message;
    }
    for (auto &entry : waiting_) {
        entry.second->done = true;
        entry.second->code = dead_code_;
        entry.second->error = dead_error_;
    }
    waiting_.clear();
    cv_.notify_all();
}

void Connection::reader_loop() {
    // Why the daemon is about to close the connection, from an Error event.
    std::string close_reason;
    auto closed = [&](int err) {
        bool by_us;
        {
            std::lock_guard<std::mutex> lock(mu_);
            by_us = closing_;
        }
        // A peer that dies with unread data resets the connection: for the
        // user that is the daemon going away too.
        std::string message = by_us ? "the connection was closed by salus_disconnect"
                              : err == 0 || err == ECONNRESET
                                  ? "the daemon closed the connection"
                                  : "connection to the daemon failed: " + errno_text(err);
        if (!by_us && !close_reason.empty()) message += ": " + close_reason;
        fail_all(SALUS_ECONNECT, message);
    };
    auto broken = [&](int code, const std::string &message) {
        fail_all(code, message);
        ::shutdown(fd_, SHUT_RDWR);
    };
    try {
        for (;;) {
            const uint32_t limit =
                std::min(std::max(max_frame_bytes_.load(), kMinReplyLimit), kMaxReplyLimit);
            uint8_t header[frame::kHeaderBytes];
            errno = 0;
            if (!read_full(header, sizeof(header))) return closed(errno);
            uint32_t size = frame::read_length(header);
            if (size < 8 || size > limit) {
                return broken(SALUS_EPROTO,
                              "the daemon sent a frame of " + std::to_string(size) + " bytes");
            }
            auto reply = std::make_unique<Reply>();
            reply->storage.resize((size + 7) / 8);
            auto *body = reinterpret_cast<uint8_t *>(reply->storage.data());
            errno = 0;
            if (!read_full(body, size)) return closed(errno);
            reply->message = frame::verify(body, size);
            if (!reply->message) {
                return broken(SALUS_EPROTO, "the daemon sent a malformed frame");
            }
            uint64_t id = reply->message->id();
            if (id == 0) {
                // Events: this API has no use for them yet, except the reason
                // given before the daemon drops the connection.
                if (const auto *e = reply->message->body_as_Error()) {
                    close_reason = e->message() ? e->message()->str() : "";
                }
                continue;
            }
            std::lock_guard<std::mutex> lock(mu_);
            auto it = waiting_.find(id);
            if (it == waiting_.end()) continue; // its pending handle was freed
            it->second->reply = std::move(reply);
            it->second->done = true;
            waiting_.erase(it);
            cv_.notify_all();
        }
    } catch (const std::bad_alloc &) {
        broken(SALUS_ENOMEM, "out of host memory while reading a reply");
    } catch (const std::exception &e) {
        broken(SALUS_EINTERNAL, std::string("reader thread: ") + e.what());
    }
}

void Connection::shutdown() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        closing_ = true;
    }
    if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    if (reader_.joinable()) reader_.join();
    fail_all(SALUS_ECONNECT, "the connection was closed by salus_disconnect");
    std::lock_guard<std::mutex> lock(write_mu_);
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
}

void Connection::set_last_error(const std::string &message) noexcept {
    std::lock_guard<std::mutex> lock(error_mu_);
    try {
        last_error_ = message;
    } catch (...) {
        last_error_.clear();
    }
}

std::string Connection::last_error() const {
    std::lock_guard<std::mutex> lock(error_mu_);
    return last_error_;
}

} // namespace salus::client
