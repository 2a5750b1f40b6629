// Framing shared by libsalus and salusd: a 4-byte little-endian length, then
// one salus.wire.Message flatbuffer with the "SLS1" identifier.
#pragma once

#include "wire_generated.h"

#include <cstddef>
#include <cstdint>

namespace salus::frame {

constexpr size_t kHeaderBytes = 4;
// Daemon default; configurable with --max-frame-bytes.
constexpr uint32_t kDefaultMaxFrameBytes = 256u << 20;
// Messages use only 64-bit-or-narrower scalars: 8 is the largest alignment.
constexpr size_t kMaxAlignment = 8;

inline uint32_t read_length(const uint8_t *p) {
    return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
           static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

inline void write_length(uint8_t *p, uint32_t n) {
    p[0] = static_cast<uint8_t>(n);
    p[1] = static_cast<uint8_t>(n >> 8);
    p[2] = static_cast<uint8_t>(n >> 16);
    p[3] = static_cast<uint8_t>(n >> 24);
}

// Every verification's limits, nested graphs' included. flatbuffers 2.0.8
// has no Options::max_size: the buffer length bounds the verifier, and
// callers cap frames far below its 2 GiB limit. A graph of 2^20 nodes has
// about 2^21 tables (a node and its output tensor each).
inline flatbuffers::Verifier::Options verifier_options() {
    flatbuffers::Verifier::Options options;
    options.max_tables = 1u << 24;
    options.max_depth = 64;
    // flatbuffers checks nested buffers with its default options (a million
    // tables: a graph of 500,000 nodes looked malformed): checked below.
    options.check_nested_flatbuffers = false;
    return options;
}

// A nested salus.ir.Graph buffer (absent is valid: the handler refuses it).
inline bool verify_graph(const flatbuffers::Vector<uint8_t> *bytes) {
    if (!bytes) return true;
    if (bytes->size() < 8) return false;
    flatbuffers::Verifier verifier(bytes->data(), bytes->size(), verifier_options());
    return verifier.VerifyBuffer<ir::Graph>(nullptr); // no identifier, as before
}

// The message in a received body, or nullptr when it is not a valid,
// identified Message (including nested graph buffers). `body` must be
// aligned to kMaxAlignment.
inline const wire::Message *verify(const uint8_t *body, size_t size) {
    if (size < 8 || !flatbuffers::BufferHasIdentifier(body, wire::MessageIdentifier())) {
        return nullptr;
    }
    flatbuffers::Verifier verifier(body, size, verifier_options());
    if (!wire::VerifyMessageBuffer(verifier)) return nullptr;
    const wire::Message *message = wire::GetMessage(body);
    // The verifier accepts a union type without its table (the dispatcher
    // refuses it): a body may be null here.
    switch (message->body_type()) {
    case wire::Body::CreateSession:
        if (const auto *request = message->body_as_CreateSession();
            request && !verify_graph(request->graph())) {
            return nullptr;
        }
        break;
    case wire::Body::AddGraph:
        if (const auto *request = message->body_as_AddGraph();
            request && !verify_graph(request->graph())) {
            return nullptr;
        }
        break;
    default:
        break;
    }
    return message;
}

} // namespace salus::frame
