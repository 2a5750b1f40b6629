// Socket, leader/follower reading and request/reply matching of a daemon
// connection.
#include "connection.h"

#include "error.h"

#include <salus/salus.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <poll.h>
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
// Small frames arrive with their header in one recv; bodies with at least
// this much left are received in place instead of through the buffer.
constexpr size_t kReadBufferBytes = 16 * 1024;
// How often a sender stuck on a full socket checks whether nobody reads
// replies any more, so that it must.
constexpr int kSendRecheckMs = 5;
// How long a reader polls for a reply before it sleeps in recv().
constexpr std::chrono::microseconds kSpinBeforeBlocking{50};

std::string errno_text(int err) {
    return std::strerror(err);
}

// A non-blocking recv() that found nothing to read.
bool would_block(ssize_t n) {
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

uint8_t *body_of(Reply &reply) {
    return reinterpret_cast<uint8_t *>(reply.storage.data());
}

} // namespace

Connection::Connection() : in_buf_(new uint8_t[kReadBufferBytes]) {}

Connection::~Connection() {
    shutdown();
}

int Connection::open(const std::string &path, const std::string &client_name, uint32_t tenant,
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
    int rc = conn->hello(client_name, tenant);
    if (rc != SALUS_OK) return rc;
    *out = std::move(conn);
    return SALUS_OK;
}

int Connection::hello(const std::string &client_name, uint32_t tenant) {
    flatbuffers::FlatBufferBuilder fbb(256);
    uint64_t id = next_id();
    auto body =
        wire::CreateHello(fbb, SALUS_PROTOCOL_VERSION, 0, fbb.CreateString(client_name), tenant);
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
        bool leading = false;
        while (err == 0 && msg.msg_iovlen > 0) {
            ssize_t n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    err = await_writable(&leading);
                } else if (errno != EINTR) {
                    err = errno;
                }
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
        if (err != 0 && !leading) {
            std::lock_guard<std::mutex> lock2(mu_);
            leading = try_lead_locked();
        }
        // Replies may still be unread, and the daemon's Error event saying
        // why it hung up: hand them out before failing the rest.
        if (err != 0 && leading) pump(nullptr, ReadMode::kNoWait, {});
        if (leading) {
            std::lock_guard<std::mutex> lock2(mu_);
            stop_leading_locked();
        }
        // A frame cut in the middle leaves the stream unusable; this also
        // wakes a reader blocked on the socket.
        if (err != 0 && fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
    }
    if (err != 0) {
        fail_all(SALUS_ECONNECT, err == EPIPE || err == ECONNRESET
                                     ? "the daemon closed the connection"
                                     : "cannot write to the daemon: " + errno_text(err));
        return fail(this, s->code != 0 ? s->code : SALUS_ECONNECT, s->error);
    }
    *slot = std::move(s);
    return SALUS_OK;
}

int Connection::await_writable(bool *leading) {
    // A daemon whose replies to us pile up stops reading our requests:
    // someone must read while we wait, or both sides wait forever.
    if (!*leading) {
        std::lock_guard<std::mutex> lock(mu_);
        *leading = try_lead_locked();
    }
    pollfd pfd{fd_, static_cast<short>(POLLOUT | (*leading ? POLLIN : 0)), 0};
    // Not the reader: look again soon in case the reader stops.
    int r = ::poll(&pfd, 1, *leading ? -1 : kSendRecheckMs);
    if (r < 0) return errno == EINTR ? 0 : errno;
    if (*leading && (pfd.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        // Failures mark the connection dead and shut the socket: the next
        // sendmsg reports them.
        pump(nullptr, ReadMode::kNoWait, {});
    }
    return 0;
}

int Connection::wait(const Slot &slot, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    await_locked(lock, slot, timeout_ms);
    if (!slot.done) {
        // Dead, yet this slot was not failed: it was forgotten meanwhile.
        int code = dead_code_ != 0 ? dead_code_ : SALUS_ECONNECT;
        std::string error = dead_code_ != 0 ? dead_error_
                                            : "the daemon did not answer within " +
                                                  std::to_string(timeout_ms) + " ms";
        lock.unlock();
        return fail(this, code, error);
    }
    if (slot.code != 0) {
        std::string error = slot.error;
        lock.unlock();
        return fail(this, slot.code, error);
    }
    return SALUS_OK;
}

bool Connection::poll(const Slot &slot, int timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    await_locked(lock, slot, timeout_ms);
    return slot.done || dead_code_ != 0;
}

void Connection::await_locked(std::unique_lock<std::mutex> &lock, const Slot &slot,
                              int timeout_ms) {
    const bool timed = timeout_ms >= 0;
    const Clock::time_point deadline =
        timed ? Clock::now() + std::chrono::milliseconds(timeout_ms) : Clock::time_point::max();
    bool timed_out = false;
    while (!slot.done && !timed_out && dead_code_ == 0) {
        if (try_lead_locked()) {
            lock.unlock();
            pump(&slot, timed ? ReadMode::kUntil : ReadMode::kBlock, deadline);
            lock.lock();
            stop_leading_locked();
            timed_out = timed && Clock::now() >= deadline;
            continue;
        }
        // Someone reads: sleep until it hands us the reply or the reading.
        idle_.push_back(&slot);
        if (timed) {
            timed_out = slot.cv.wait_until(lock, deadline) == std::cv_status::timeout;
        } else {
            slot.cv.wait(lock);
        }
        idle_.erase(std::find(idle_.begin(), idle_.end(), &slot));
    }
    // This thread may have been picked to read next: pass that on.
    if (!leading_) pass_lead_locked();
}

bool Connection::ready(const Slot &slot) {
    std::unique_lock<std::mutex> lock(mu_);
    // With nobody reading, what has arrived is still in the socket.
    if (slot.done || !try_lead_locked()) return slot.done;
    lock.unlock();
    pump(&slot, ReadMode::kNoWait, {});
    lock.lock();
    stop_leading_locked();
    return slot.done;
}

void Connection::forget(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_.erase(id);
}

bool Connection::try_lead_locked() {
    if (leading_ || dead_code_ != 0) return false;
    leading_ = true;
    return true;
}

void Connection::stop_leading_locked() {
    leading_ = false;
    pass_lead_locked();
    if (closing_) no_leader_.notify_all();
}

void Connection::pass_lead_locked() {
    if (dead_code_ != 0) return;
    for (const Slot *s : idle_) {
        if (!s->done) {
            // Under mu_: the waiter cannot return and free its slot first.
            s->cv.notify_all();
            return;
        }
    }
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

void Connection::pump(const Slot *until, ReadMode mode, Clock::time_point deadline) {
    try {
        bool done = false;
        for (;;) {
            std::unique_ptr<Reply> reply;
            std::string error;
            int got = take_frame(&reply, &error);
            if (got < 0) return broken(SALUS_EPROTO, error);
            if (got > 0) {
                done = dispatch(std::move(reply), until) || done;
                continue;
            }
            // Frames already received are handed out before leaving, so
            // that their waiters need not read again.
            if (done) return;

            // Straight into a large body, else into the buffer, after the
            // few header bytes it may hold.
            uint8_t *p;
            size_t len;
            const bool direct = in_reply_ && in_size_ - in_got_ >= kReadBufferBytes;
            if (direct) {
                p = body_of(*in_reply_) + in_got_;
                len = in_size_ - in_got_;
            } else {
                std::memmove(in_buf_.get(), in_buf_.get() + in_pos_, in_end_ - in_pos_);
                in_end_ -= in_pos_;
                in_pos_ = 0;
                p = in_buf_.get() + in_end_;
                len = kReadBufferBytes - in_end_;
            }
            ssize_t n = ::recv(fd_, p, len, MSG_DONTWAIT);
            if (mode != ReadMode::kNoWait) {
                // A short iteration's reply comes within microseconds: poll
                // for it briefly before sleeping, since waking a thread whose
                // core went idle costs tens of microseconds on a VM.
                const auto spin_until = std::min(Clock::now() + kSpinBeforeBlocking, deadline);
                while (would_block(n) && Clock::now() < spin_until) {
                    n = ::recv(fd_, p, len, MSG_DONTWAIT);
                }
            }
            if (would_block(n) && mode == ReadMode::kBlock) {
                n = ::recv(fd_, p, len, 0);
            } else if (would_block(n) && mode == ReadMode::kUntil) {
                // Sleep until data comes or the deadline passes.
                auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
                pollfd pfd{fd_, POLLIN, 0};
                int r = ::poll(&pfd, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
                if (r < 0 && errno != EINTR) return closed(errno);
                if (r == 0 && Clock::now() >= deadline) return;
                continue;
            }
            if (n < 0) {
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    if (mode == ReadMode::kNoWait) return;
                    continue;
                }
                return closed(errno);
            }
            if (n == 0) return closed(0);
            (direct ? in_got_ : in_end_) += static_cast<size_t>(n);
        }
    } catch (const std::bad_alloc &) {
        broken(SALUS_ENOMEM, "out of host memory while reading a reply");
    } catch (const std::exception &e) {
        broken(SALUS_EINTERNAL, std::string("reading a reply: ") + e.what());
    }
}

int Connection::take_frame(std::unique_ptr<Reply> *out, std::string *error) {
    if (!in_reply_) {
        if (in_end_ - in_pos_ < frame::kHeaderBytes) return 0;
        const uint32_t limit =
            std::min(std::max(max_frame_bytes_.load(), kMinReplyLimit), kMaxReplyLimit);
        uint32_t size = frame::read_length(in_buf_.get() + in_pos_);
        if (size < 8 || size > limit) {
            *error = "the daemon sent a frame of " + std::to_string(size) + " bytes";
            return -1;
        }
        auto reply = std::make_unique<Reply>();
        reply->storage.resize((size + 7) / 8);
        in_pos_ += frame::kHeaderBytes;
        in_reply_ = std::move(reply);
        in_size_ = size;
        in_got_ = 0;
    }
    size_t n = std::min(in_end_ - in_pos_, in_size_ - in_got_);
    std::memcpy(body_of(*in_reply_) + in_got_, in_buf_.get() + in_pos_, n);
    in_pos_ += n;
    in_got_ += n;
    if (in_got_ < in_size_) return 0;
    std::unique_ptr<Reply> reply = std::move(in_reply_);
    reply->message = frame::verify(body_of(*reply), in_size_);
    if (!reply->message) {
        *error = "the daemon sent a malformed frame";
        return -1;
    }
    *out = std::move(reply);
    return 1;
}

bool Connection::dispatch(std::unique_ptr<Reply> reply, const Slot *until) {
    uint64_t id = reply->message->id();
    if (id == 0) {
        // Events say why the daemon is about to drop the connection: an
        // Error, or ShuttingDown, after which it answers every open request
        // (a reply or SALUS_ESHUTDOWN) and closes. The reason goes into the
        // message of the calls that fail then.
        if (const auto *e = reply->message->body_as_Error()) {
            close_reason_ = e->message() ? e->message()->str() : "";
        } else if (const auto *s = reply->message->body_as_ShuttingDown()) {
            close_reason_ = "the daemon is shutting down";
            if (s->reason() && s->reason()->size() > 0)
                close_reason_ += " (" + s->reason()->str() + ")";
        }
        return false;
    }
    // A session waiting for device memory: its CreateSessionReply comes
    // once it is admitted, so the request stays open.
    if (reply->message->body_type() == wire::Body::SessionQueued) return false;
    std::shared_ptr<Slot> slot;
    bool until_done;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = waiting_.find(id);
        // Not found: its pending handle was freed.
        if (it != waiting_.end()) {
            slot = std::move(it->second);
            waiting_.erase(it);
            slot->reply = std::move(reply);
            slot->done = true;
        }
        until_done = until && until->done;
    }
    // After unlocking, so the waiter does not wake into a held mutex; the
    // shared_ptr keeps its condition variable alive.
    if (slot && slot.get() != until) slot->cv.notify_all();
    return until_done;
}

void Connection::closed(int err) {
    std::lock_guard<std::mutex> lock(mu_);
    // A peer that dies with unread data resets the connection: for the
    // user that is the daemon going away too.
    std::string message = closing_ ? "the connection was closed by salus_disconnect"
                          : err == 0 || err == ECONNRESET
                              ? "the daemon closed the connection"
                              : "connection to the daemon failed: " + errno_text(err);
    if (!closing_ && !close_reason_.empty()) message += ": " + close_reason_;
    fail_all_locked(SALUS_ECONNECT, message);
}

void Connection::broken(int code, const std::string &message) {
    fail_all(code, message);
    ::shutdown(fd_, SHUT_RDWR);
}

void Connection::fail_all(int code, const std::string &message) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_all_locked(code, message);
}

void Connection::fail_all_locked(int code, const std::string &message) {
    if (dead_code_ == 0) {
        dead_code_ = code;
        dead_error_ = message;
    }
    for (auto &entry : waiting_) {
        Slot &s = *entry.second;
        s.done = true;
        s.code = dead_code_;
        s.error = dead_error_;
        s.cv.notify_all();
    }
    waiting_.clear();
}

void Connection::shutdown() {
    {
        std::unique_lock<std::mutex> lock(mu_);
        closing_ = true;
        // Wakes a reader blocked in recv, which fails every request.
        if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
        no_leader_.wait(lock, [&] { return !leading_; });
        // In the same critical section: once dead, nobody starts reading,
        // so the descriptor can be closed below.
        fail_all_locked(SALUS_ECONNECT, "the connection was closed by salus_disconnect");
    }
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

int salus::client::exchange(Connection *conn, const flatbuffers::FlatBufferBuilder &fbb,
                            uint64_t id, wire::Body reply_type, const char *what,
                            std::shared_ptr<Slot> *slot) {
    int rc = conn->send(id, fbb.GetBufferPointer(), fbb.GetSize(), slot);
    if (rc == SALUS_OK) rc = conn->wait(**slot);
    if (rc == SALUS_OK) rc = conn->check(*(*slot)->reply, reply_type, what);
    return rc;
}
