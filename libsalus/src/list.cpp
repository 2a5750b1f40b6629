// salus_list_sessions: the daemon's sessions, of every client.
#include "client.h"

#include "error.h"

#include <cstring>

using namespace salus;
using namespace salus::client;

namespace {

int list(Connection *conn, salus_session_info *infos, size_t max, size_t *count) {
    if (!count) return fail(conn, SALUS_EINVAL, "salus_list_sessions: count is NULL");
    if (max > 0 && !infos) return fail(conn, SALUS_EINVAL, "salus_list_sessions: infos is NULL");
    flatbuffers::FlatBufferBuilder fbb(128);
    uint64_t id = conn->next_id();
    auto body = wire::CreateListSessions(fbb);
    wire::FinishMessageBuffer(fbb,
                              wire::CreateMessage(fbb, id, wire::Body::ListSessions, body.Union()));
    std::shared_ptr<Slot> slot;
    int rc = conn->send(id, fbb.GetBufferPointer(), fbb.GetSize(), &slot);
    if (rc == SALUS_OK) rc = conn->wait(*slot);
    if (rc == SALUS_OK) rc = conn->check(*slot->reply, wire::Body::ListSessionsReply, "list");
    if (rc != SALUS_OK) return rc;

    const auto *sessions = slot->reply->message->body_as_ListSessionsReply()->sessions();
    size_t n = sessions ? sessions->size() : 0;
    for (size_t i = 0; i < n && i < max; ++i) {
        const auto *s = sessions->Get(static_cast<flatbuffers::uoffset_t>(i));
        salus_session_info &info = infos[i];
        std::memset(&info, 0, sizeof(info));
        info.session_id = s->session_id();
        if (s->name()) {
            // Truncated to fit, always NUL-terminated.
            size_t len = std::min<size_t>(s->name()->size(), sizeof(info.name) - 1);
            std::memcpy(info.name, s->name()->data(), len);
        }
        info.client_pid = s->client_pid();
        info.persistent_bytes = s->persistent_bytes();
        info.ephemeral_bytes = s->ephemeral_bytes();
        info.iterations = s->iterations();
        info.pending = s->pending();
        info.run_ns = s->run_ns();
    }
    *count = n;
    return SALUS_OK;
}

} // namespace

extern "C" {

int salus_list_sessions(salus_client *client, salus_session_info *infos, size_t max,
                        size_t *count) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_list_sessions: client is NULL");
        return list(conn, infos, max, count);
    });
}

} // extern "C"
