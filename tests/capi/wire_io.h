// Frames on a raw socket, for tests that speak the wire protocol
// themselves: requests the C API cannot make, and peers that misbehave.
#pragma once

#include "frame.h"

#include <sys/un.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace salus::test {

// Sends or receives exactly n bytes; false on error or end of stream.
bool io_all(int fd, uint8_t *p, size_t n, bool write);
bool send_frame(int fd, const uint8_t *buf, size_t size);
// Finishes `body` as message `id` in fbb: the frame's bytes, header included.
std::vector<uint8_t> frame_message(flatbuffers::FlatBufferBuilder &fbb, uint64_t id,
                                   wire::Body type, flatbuffers::Offset<void> body);
// Finishes `body` as message `id` in fbb and sends it.
bool send_message(int fd, flatbuffers::FlatBufferBuilder &fbb, uint64_t id, wire::Body type,
                  flatbuffers::Offset<void> body);
// Reads one frame into storage (8-byte aligned) and verifies it; nullptr
// on error, end of stream or a frame over 64 MiB.
const wire::Message *recv_message(int fd, std::vector<uint64_t> *storage);
// Says Hello as client_name on fd: true on a HelloReply, whose frame limit
// lands in *max_frame_bytes when that is not null.
bool say_hello(int fd, const char *client_name, uint32_t *max_frame_bytes = nullptr);
bool unix_address(const char *path, sockaddr_un *addr);
// A socket connected to path, or -1.
int connect_unix(const char *path);
// A socket connected to path that has said Hello (as client "test"), or -1.
int hello(const char *path);

} // namespace salus::test
