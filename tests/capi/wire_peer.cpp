// Raw wire-protocol peers for the C API tests.
#include "wire_peer.h"

#include "wire_io.h"

#include <salus/salus.h>

#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace salus;
using namespace salus::test;

namespace {

int request(int fd, uint64_t session_id, int run, char *msg, size_t msg_size) {
    if (!say_hello(fd, "wire_peer")) return WIRE_PEER_EIO;
    std::vector<uint64_t> storage;
    flatbuffers::FlatBufferBuilder fbb;
    if (run) {
        auto body = wire::CreateRunIteration(fbb, session_id);
        if (!send_message(fd, fbb, 2, wire::Body::RunIteration, body.Union())) return WIRE_PEER_EIO;
    } else {
        auto body = wire::CreateCloseSession(fbb, session_id);
        if (!send_message(fd, fbb, 2, wire::Body::CloseSession, body.Union())) return WIRE_PEER_EIO;
    }
    const wire::Message *reply = recv_message(fd, &storage);
    if (!reply || reply->id() != 2) return WIRE_PEER_EIO;
    if (const auto *e = reply->body_as_Error()) {
        if (msg && msg_size > 0) {
            std::snprintf(msg, msg_size, "%s", e->message() ? e->message()->c_str() : "");
        }
        return e->code();
    }
    return 0;
}

} // namespace

extern "C" int wire_peer_request(const char *socket_path, uint64_t session_id, int run, char *msg,
                                 size_t msg_size) {
    int fd = connect_unix(socket_path);
    if (fd < 0) return WIRE_PEER_EIO;
    int rc = request(fd, session_id, run, msg, msg_size);
    ::close(fd);
    return rc;
}

struct fake_daemon {
    std::string path;
    int listen_fd = -1;
    fake_mode mode = FAKE_WRONG_VERSION;
    std::thread thread;
};

namespace {

void serve(fake_daemon *fake) {
    int fd = ::accept4(fake->listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    std::vector<uint64_t> storage;
    const wire::Message *hello = recv_message(fd, &storage);
    if (hello) {
        uint64_t id = hello->id();
        flatbuffers::FlatBufferBuilder fbb;
        switch (fake->mode) {
        case FAKE_WRONG_VERSION: {
            auto body = wire::CreateHelloReply(fbb, SALUS_PROTOCOL_VERSION + 1, 0,
                                               fbb.CreateString("fake"), 1u << 20);
            send_message(fd, fbb, id, wire::Body::HelloReply, body.Union());
            break;
        }
        case FAKE_GARBAGE: {
            uint8_t junk[16];
            std::memset(junk, 0xab, sizeof(junk));
            send_frame(fd, junk, sizeof(junk));
            break;
        }
        case FAKE_WRONG_REPLY: {
            auto body = wire::CreateListSessionsReply(fbb);
            send_message(fd, fbb, id, wire::Body::ListSessionsReply, body.Union());
            break;
        }
        case FAKE_HANG_UP: {
            auto body = wire::CreateHelloReply(fbb, SALUS_PROTOCOL_VERSION, 0,
                                               fbb.CreateString("fake"), 1u << 20);
            send_message(fd, fbb, id, wire::Body::HelloReply, body.Union());
            recv_message(fd, &storage);
            break;
        }
        }
    }
    // Wait for the client to hang up, so it sees exactly what the mode sent
    // (FAKE_HANG_UP closes at once).
    if (fake->mode != FAKE_HANG_UP) {
        uint8_t byte;
        while (::recv(fd, &byte, 1, 0) > 0) {
        }
    }
    ::close(fd);
}

} // namespace

extern "C" int fake_daemon_start(const char *socket_path, fake_mode mode, fake_daemon **out) {
    sockaddr_un addr;
    if (!unix_address(socket_path, &addr)) return -1;
    auto *fake = new fake_daemon();
    fake->path = socket_path;
    fake->mode = mode;
    fake->listen_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fake->listen_fd < 0 ||
        ::bind(fake->listen_fd, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0 ||
        ::listen(fake->listen_fd, 4) != 0) {
        fake_daemon_stop(fake);
        return -1;
    }
    fake->thread = std::thread(serve, fake);
    *out = fake;
    return 0;
}

extern "C" void fake_daemon_stop(fake_daemon *fake) {
    if (!fake) return;
    if (fake->listen_fd >= 0) ::shutdown(fake->listen_fd, SHUT_RDWR);
    if (fake->thread.joinable()) fake->thread.join();
    if (fake->listen_fd >= 0) ::close(fake->listen_fd);
    ::unlink(fake->path.c_str());
    delete fake;
}
