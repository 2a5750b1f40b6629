#include "server/reply_channel.h"

#include "frame.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace salus::server {

ReplyChannel::Result ReplyChannel::try_write(const Reply &reply, size_t *written) {
    std::lock_guard<std::mutex> lock(mutex_);
    *written = 0;
    if (closed_) return Result::Closed;
    if (loop_writes_ > 0) {
        // Behind the loop's writes: reserve our place for the loop to keep order.
        ++loop_writes_;
        return Result::HandOff;
    }

    uint8_t header[frame::kHeaderBytes];
    frame::write_length(header, static_cast<uint32_t>(reply.size()));
    const size_t total = sizeof header + reply.size();
    size_t done = 0;
    while (done < total) {
        iovec iov[2];
        int n = 0;
        if (done < sizeof header) {
            iov[n++] = {header + done, sizeof header - done};
            iov[n++] = {const_cast<uint8_t *>(reply.data()), reply.size()};
        } else {
            iov[n++] = {const_cast<uint8_t *>(reply.data()) + (done - sizeof header), total - done};
        }
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = static_cast<size_t>(n);
        ssize_t w = sendmsg(fd_, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            // EAGAIN: the client reads slowly. Other errors: let the loop's
            // write fail and close the connection with the reason.
            break;
        }
        done += static_cast<size_t>(w);
    }
    *written = done;
    if (done == total) return Result::Written;
    // The loop sends the rest; until then nobody else may write.
    ++loop_writes_;
    return Result::HandOff;
}

void ReplyChannel::loop_write_begin() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++loop_writes_;
}

void ReplyChannel::loop_write_end() {
    std::lock_guard<std::mutex> lock(mutex_);
    --loop_writes_;
}

void ReplyChannel::close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
}

} // namespace salus::server
