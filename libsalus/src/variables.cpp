// Reading and writing a session's variables between iterations.
#include "session.h"

#include "error.h"
#include "tensor.h"

#include <cstring>

using namespace salus;
using namespace salus::client;

namespace {

// More than the message bytes besides tensor data, shapes and names.
constexpr size_t kPerTensorBytes = 128;
constexpr size_t kEnvelopeBytes = 256;

int read_variables(salus_session *session, const char *const *names, size_t n,
                   salus_tensor **values) {
    Connection *conn = session->conn.get();
    const char *fn = "salus_session_read_variables";
    flatbuffers::FlatBufferBuilder fbb(kEnvelopeBytes + n * kPerTensorBytes);
    std::vector<flatbuffers::Offset<flatbuffers::String>> wire_names;
    wire_names.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        if (!names[i]) {
            return fail(conn, SALUS_EINVAL,
                        std::string(fn) + ": names[" + std::to_string(i) + "] is NULL");
        }
        wire_names.push_back(fbb.CreateString(names[i]));
    }
    uint64_t id = conn->next_id();
    auto body = wire::CreateReadVariables(fbb, session->id, fbb.CreateVector(wire_names));
    wire::FinishMessageBuffer(
        fbb, wire::CreateMessage(fbb, id, wire::Body::ReadVariables, body.Union()));
    std::shared_ptr<Slot> slot;
    int rc = exchange(conn, fbb, id, wire::Body::ReadVariablesReply, fn, &slot);
    if (rc != SALUS_OK) return rc;
    const auto *reply = slot->reply->message->body_as_ReadVariablesReply();
    const size_t got = reply->values() ? reply->values()->size() : 0;
    if (got != n) {
        return fail(conn, SALUS_EPROTO,
                    std::string(fn) + ": the daemon sent " + std::to_string(got) + " values for " +
                        std::to_string(n) + " names");
    }
    // All or none: decode every value before handing any out.
    std::vector<TensorPtr> decoded;
    decoded.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        decoded.emplace_back(nullptr, salus_tensor_free);
        rc = decode_tensor(conn, *reply->values()->Get(static_cast<flatbuffers::uoffset_t>(i)),
                           std::string("variable \"") + names[i] + "\" from the daemon",
                           &decoded.back());
        if (rc != SALUS_OK) return rc;
    }
    for (size_t i = 0; i < n; ++i) values[i] = decoded[i].release();
    return SALUS_OK;
}

int write_variables(salus_session *session, const char *const *names,
                    const salus_tensor *const *values, size_t n) {
    Connection *conn = session->conn.get();
    const char *fn = "salus_session_write_variables";
    size_t bound = kEnvelopeBytes;
    for (size_t i = 0; i < n; ++i) {
        if (!names[i] || !values[i]) {
            return fail(conn, SALUS_EINVAL,
                        std::string(fn) + ": names[" + std::to_string(i) + "] or values[" +
                            std::to_string(i) + "] is NULL");
        }
        bound += values[i]->nbytes + 8 * values[i]->shape.size() + std::strlen(names[i]) +
                 kPerTensorBytes;
        if (bound > conn->max_frame_bytes() || bound >= FLATBUFFERS_MAX_BUFFER_SIZE) {
            return fail(conn, SALUS_ETOOBIG,
                        std::string(fn) + ": the values are over the daemon's frame limit of " +
                            std::to_string(conn->max_frame_bytes()) +
                            " bytes: write fewer at a time");
        }
    }
    flatbuffers::FlatBufferBuilder fbb(bound);
    std::vector<flatbuffers::Offset<wire::TensorValue>> wire_values;
    wire_values.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        const salus_tensor &t = *values[i];
        auto shape = fbb.CreateVector(t.shape);
        fbb.ForceVectorAlignment(t.nbytes, 1, 16);
        auto data = fbb.CreateVector(t.bytes, t.nbytes);
        auto name = fbb.CreateString(names[i]);
        wire_values.push_back(
            wire::CreateTensorValue(fbb, 0, static_cast<ir::DType>(t.dtype), shape, data, name));
    }
    uint64_t id = conn->next_id();
    auto body = wire::CreateWriteVariables(fbb, session->id, fbb.CreateVector(wire_values));
    wire::FinishMessageBuffer(
        fbb, wire::CreateMessage(fbb, id, wire::Body::WriteVariables, body.Union()));
    std::shared_ptr<Slot> slot;
    return exchange(conn, fbb, id, wire::Body::WriteVariablesReply, fn, &slot);
}

} // namespace

extern "C" {

int salus_session_read_variables(salus_session *session, const char *const *names, size_t n,
                                 salus_tensor **values) {
    Connection *conn = session ? session->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!session) return fail(SALUS_EINVAL, "salus_session_read_variables: session is NULL");
        if (n > 0 && (!names || !values)) {
            return fail(conn, SALUS_EINVAL,
                        "salus_session_read_variables: names or values is NULL");
        }
        return read_variables(session, names, n, values);
    });
}

int salus_session_write_variables(salus_session *session, const char *const *names,
                                  const salus_tensor *const *values, size_t n) {
    Connection *conn = session ? session->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!session) return fail(SALUS_EINVAL, "salus_session_write_variables: session is NULL");
        if (n > 0 && (!names || !values)) {
            return fail(conn, SALUS_EINVAL,
                        "salus_session_write_variables: names or values is NULL");
        }
        return write_variables(session, names, values, n);
    });
}

} // extern "C"
