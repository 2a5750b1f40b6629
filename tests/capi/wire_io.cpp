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

std::vector<uint8_t> frame_message(flatbuffers::FlatBufferBuilder &fbb, uint64_t id,
                                   wire::Body type, flatbuffers::Offset<void> body) {
    wire::FinishMessageBuffer(fbb, wire::CreateMessage(fbb, id, type, body));
    std::vector<uint8_t> bytes(frame::kHeaderBytes + fbb.GetSize());
    frame::write_length(bytes.data(), fbb.GetSize());
    std::memcpy(bytes.data() + frame::kHeaderBytes, fbb.GetBufferPointer(), fbb.GetSize());
    return bytes;
}

bool send_message(int fd, flatbuffers::FlatBufferBuilder &fbb, uint64_t id, wire::Body type,
                  flatbuffers::Offset<void> body) {
    std::vector<uint8_t> bytes = frame_message(fbb, id, type, body);
    return io_all(fd, bytes.data(), bytes.size(), true);
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

bool say_hello(int fd, const char *client_name, uint32_t *max_frame_bytes) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateHello(fbb, SALUS_PROTOCOL_VERSION, 0, fbb.CreateString(client_name));
    if (!send_message(fd, fbb, 1, wire::Body::Hello, body.Union())) return false;
    std::vector<uint64_t> storage;
    const wire::Message *reply = recv_message(fd, &storage);
    if (!reply || reply->body_type() != wire::Body::HelloReply) return false;
    if (max_frame_bytes) *max_frame_bytes = reply->body_as_HelloReply()->max_frame_bytes();
    return true;
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
    if (fd >= 0 && !say_hello(fd, "test")) {
        close(fd);
        return -1;
    }
    return fd;
}

} // namespace salus::test
