// The limits that keep one client (or one uid) from exhausting the daemon
// for everyone: memory held for a connection, file descriptors, sessions,
// iterations in flight and graph sizes. The values are configuration keys of
// the [limits] section (config_keys.cpp); a refusal names the key to raise.
#pragma once

#include <cstdint>
#include <string>

namespace salus::server {

struct Limits {
    // Replies a connection has not read yet, plus those its queued
    // iterations will produce: over this, the daemon stops reading its
    // requests (its queued iterations still run and are answered).
    uint64_t reply_backlog_bytes = 64ull << 20;
    uint64_t hello_timeout_ms = 10'000; // from accept to a complete Hello
    uint64_t frame_timeout_ms = 30'000; // from a frame's first byte to its last
    uint32_t connections_per_uid = 256; // root (uid 0) is never refused
    uint32_t fd_reserve = 64;           // descriptors only root may use
    uint32_t sessions_per_uid = 256;
    uint32_t sessions_per_connection = 64;
    uint32_t iterations_per_session = 1024; // queued or running
    uint32_t iterations_per_connection = 4096;
    uint32_t graph_tensors = 1u << 20;
    uint32_t graph_nodes = 1u << 20;
    uint64_t graph_attr_bytes = 64ull << 20; // attribute values of all nodes
};

// The message of a refusal: "<what> (limit N, [limits] KEY)".
std::string limit_message(const std::string &what, uint64_t limit, const char *key);

} // namespace salus::server
