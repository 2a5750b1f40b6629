#include "wire_io.h"

#include <salus/salus.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace salus::test {

bool io_all(int fd, uint8_t *p, size_t n, bool write) {
    while (n > 0) {
        ssize_t r = write ? ::send(fd, p, n, MSG_NOSIGNAL) : ::recv(fd, p, n, 0);
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

bool send_frame(int fd, const uint8_t *buf, size_t size) {
    uint8_t header[frame::kHeaderBytes];
    frame::write_length(header, static_cast<uint32_t>(size));
    return io_all(fd, header, sizeof(header), true) &&
           io_all(fd, const_cast<uint8_t *>(buf), size, true);
}

bool send_message(int fd, flatbuffers::FlatBufferBuilder &fbb, uint64_t id, wire::Body type,
                  flatbuffers::Offset<void> body) {
    wire::FinishMessageBuffer(fbb, wire::CreateMessage(fbb, id, type, body));
    return send_frame(fd, fbb.GetBufferPointer(), fbb.GetSize());
}

const wire::Message *recv_message(int fd, std::vector<uint64_t> *storage) {
    uint8_t header[frame::kHeaderBytes];
    if (!io_all(fd, header, sizeof(header), false)) return nullptr;
    uint32_t size = frame::read_length(header);
    if (size > (64u << 20)) return nullptr;
    storage->assign((size + 7) / 8, 0);
    auto *body = reinterpret_cast<uint8_t *>(storage->data());
    if (!io_all(fd, body, size, false)) return nullptr;
    return frame::verify(body, size);
}

bool unix_address(const char *path, sockaddr_un *addr) {
    std::memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (std::strlen(path) >= sizeof(addr->sun_path)) return false;
    std::strcpy(addr->sun_path, path);
    return true;
}

int connect_unix(const char *path) {
    sockaddr_un addr;
    if (!unix_address(path, &addr)) return -1;
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

int hello(const char *path) {
    int fd = connect_unix(path);
    if (fd < 0) return -1;
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateHello(fbb, SALUS_PROTOCOL_VERSION, 0, fbb.CreateString("test"));
    std::vector<uint64_t> storage;
    const wire::Message *reply = nullptr;
    if (send_message(fd, fbb, 1, wire::Body::Hello, body.Union()))
        reply = recv_message(fd, &storage);
    if (!reply || reply->body_type() != wire::Body::HelloReply) {
        close(fd);
        return -1;
    }
    return fd;
}

} // namespace salus::test
