// Opening and closing sessions.
#include "session.h"

#include "client.h"
#include "error.h"
#include "graph_builder.h"

#include <cmath>
#include <cstring>

using namespace salus;
using namespace salus::client;

namespace {

// More than everything in a CreateSession message besides the graph and
// the session name.
constexpr size_t kEnvelopeBytes = 512;

// The graph as the nested buffer of a request. flatbuffers aborts on
// buffers of 2 GiB: refuse what could reach that before building anything.
// The exact frame size is checked on sending.
int serialize_for_daemon(Connection *conn, const salus_graph &graph, size_t extra_bytes,
                         const char *fn, flatbuffers::FlatBufferBuilder *gfbb) {
    size_t bound = graph_size_bound(graph) + extra_bytes + kEnvelopeBytes;
    if (bound >= FLATBUFFERS_MAX_BUFFER_SIZE) {
        return fail(conn, SALUS_ETOOBIG,
                    std::string(fn) + ": the graph may need " + std::to_string(bound) +
                        " bytes, over the 2 GiB a message can hold");
    }
    *gfbb = flatbuffers::FlatBufferBuilder(bound);
    serialize_graph(graph, gfbb);
    uint32_t limit = conn->max_frame_bytes();
    if (gfbb->GetSize() > limit) {
        return fail(conn, SALUS_ETOOBIG,
                    std::string(fn) + ": the graph needs " + std::to_string(gfbb->GetSize()) +
                        " bytes, over the daemon's frame limit of " + std::to_string(limit));
    }
    return SALUS_OK;
}

int add_graph(salus_session *session, const salus_graph *graph, const char *name, uint32_t *index) {
    Connection *conn = session->conn.get();
    const std::string graph_name = name ? name : "";
    flatbuffers::FlatBufferBuilder gfbb;
    int rc =
        serialize_for_daemon(conn, *graph, graph_name.size(), "salus_session_add_graph", &gfbb);
    if (rc != SALUS_OK) return rc;
    flatbuffers::FlatBufferBuilder fbb(gfbb.GetSize() + graph_name.size() + kEnvelopeBytes);
    uint64_t id = conn->next_id();
    fbb.ForceVectorAlignment(gfbb.GetSize(), 1, 8);
    auto graph_vec = fbb.CreateVector(gfbb.GetBufferPointer(), gfbb.GetSize());
    auto body = wire::CreateAddGraph(fbb, session->id, fbb.CreateString(graph_name), graph_vec);
    wire::FinishMessageBuffer(fbb,
                              wire::CreateMessage(fbb, id, wire::Body::AddGraph, body.Union()));
    std::shared_ptr<Slot> slot;
    rc = exchange(conn, fbb, id, wire::Body::AddGraphReply, "salus_session_add_graph", &slot);
    if (rc != SALUS_OK) return rc;
    const auto *reply = slot->reply->message->body_as_AddGraphReply();
    size_t n_outputs = reply->outputs() ? reply->outputs()->size() : 0;
    if (n_outputs != graph->outputs.size() || reply->graph() == 0) {
        return fail(conn, SALUS_EPROTO,
                    "salus_session_add_graph: the daemon reports graph " +
                        std::to_string(reply->graph()) + " with " + std::to_string(n_outputs) +
                        " outputs, the graph has " + std::to_string(graph->outputs.size()));
    }
    session->set_output_count(reply->graph(), n_outputs);
    *index = reply->graph();
    return SALUS_OK;
}

int create(salus_client *client, const salus_graph *graph, const salus_session_options *opts,
           salus_session **out) {
    Connection *conn = client->conn.get();
    std::string name;
    uint64_t declared = 0;
    int32_t priority = 0;
    double weight = 1.0;
    uint64_t seed = 0;
    if (opts) {
        if (opts->version == 0 || opts->version > SALUS_SESSION_OPTIONS_VERSION) {
            return fail(conn, SALUS_EINVAL,
                        "salus_session_create: unknown options version " +
                            std::to_string(opts->version));
        }
        if (!(opts->weight >= 0.0) || std::isinf(opts->weight)) {
            return fail(conn, SALUS_EINVAL, "salus_session_create: weight must be finite and >= 0");
        }
        if (opts->name) name = opts->name;
        declared = opts->declared_iterations;
        priority = opts->priority;
        if (opts->weight > 0.0) weight = opts->weight;
        if (opts->version >= 2) seed = opts->seed;
    }

    flatbuffers::FlatBufferBuilder gfbb;
    int rc = serialize_for_daemon(conn, *graph, name.size(), "salus_session_create", &gfbb);
    if (rc != SALUS_OK) return rc;

    flatbuffers::FlatBufferBuilder fbb(gfbb.GetSize() + name.size() + kEnvelopeBytes);
    uint64_t id = conn->next_id();
    // The daemon reads the graph in place as a nested flatbuffer.
    fbb.ForceVectorAlignment(gfbb.GetSize(), 1, 8);
    auto graph_vec = fbb.CreateVector(gfbb.GetBufferPointer(), gfbb.GetSize());
    auto options =
        wire::CreateSessionOptions(fbb, fbb.CreateString(name), declared, priority, weight, seed);
    auto body = wire::CreateCreateSession(fbb, graph_vec, options);
    wire::FinishMessageBuffer(
        fbb, wire::CreateMessage(fbb, id, wire::Body::CreateSession, body.Union()));

    std::shared_ptr<Slot> slot;
    rc = exchange(conn, fbb, id, wire::Body::CreateSessionReply, "create", &slot);
    if (rc != SALUS_OK) return rc;

    const auto *reply = slot->reply->message->body_as_CreateSessionReply();
    size_t n_outputs = reply->outputs() ? reply->outputs()->size() : 0;
    if (n_outputs != graph->outputs.size()) {
        return fail(conn, SALUS_EPROTO,
                    "salus_session_create: the daemon reports " + std::to_string(n_outputs) +
                        " outputs, the graph has " + std::to_string(graph->outputs.size()));
    }
    auto session = std::make_unique<salus_session>();
    session->conn = client->conn;
    session->id = reply->session_id();
    session->persistent_bytes = reply->persistent_bytes();
    session->ephemeral_bytes = reply->ephemeral_bytes();
    session->set_output_count(0, n_outputs);
    *out = session.release();
    return SALUS_OK;
}

int close_on_daemon(salus_session *session) {
    std::shared_ptr<Slot> slot;
    return request(
        session->conn.get(), wire::Body::CloseSession,
        [&](auto &fbb) { return wire::CreateCloseSession(fbb, session->id); },
        wire::Body::CloseSessionReply, "close", &slot);
}

} // namespace

extern "C" {

int salus_session_options_init(salus_session_options *opts, unsigned int version) {
    return guard([&]() -> int {
        if (!opts) return fail(SALUS_EINVAL, "salus_session_options_init: opts is NULL");
        if (version == 0 || version > SALUS_SESSION_OPTIONS_VERSION) {
            return fail(SALUS_EINVAL,
                        "salus_session_options_init: unknown version " + std::to_string(version));
        }
        std::memset(opts, 0, sizeof(*opts));
        opts->version = version;
        return SALUS_OK;
    });
}

int salus_session_create(salus_client *client, const salus_graph *graph,
                         const salus_session_options *opts, salus_session **out) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_session_create: client is NULL");
        if (!graph) return fail(conn, SALUS_EINVAL, "salus_session_create: graph is NULL");
        if (!out) return fail(conn, SALUS_EINVAL, "salus_session_create: out is NULL");
        return create(client, graph, opts, out);
    });
}

int salus_session_close(salus_session *session) {
    if (!session) return SALUS_OK;
    // Freed whatever the daemon says, even when it is gone.
    std::unique_ptr<salus_session> owner(session);
    return guard(session->conn.get(), [&] { return close_on_daemon(session); });
}

uint64_t salus_session_id(const salus_session *session) {
    return session ? session->id : 0;
}

uint64_t salus_session_persistent_bytes(const salus_session *session) {
    return session ? session->persistent_bytes : 0;
}

uint64_t salus_session_ephemeral_bytes(const salus_session *session) {
    return session ? session->ephemeral_bytes : 0;
}

size_t salus_session_output_count(const salus_session *session) {
    return session ? session->output_count(0) : 0;
}

int salus_session_add_graph(salus_session *session, const salus_graph *graph, const char *name,
                            uint32_t *index) {
    Connection *conn = session ? session->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!session) return fail(SALUS_EINVAL, "salus_session_add_graph: session is NULL");
        if (!graph) return fail(conn, SALUS_EINVAL, "salus_session_add_graph: graph is NULL");
        if (!index) return fail(conn, SALUS_EINVAL, "salus_session_add_graph: index is NULL");
        return add_graph(session, graph, name, index);
    });
}

size_t salus_session_graph_count(const salus_session *session) {
    return session ? session->graph_count() : 0;
}

size_t salus_session_graph_output_count(const salus_session *session, uint32_t graph) {
    return session ? session->output_count(graph) : 0;
}

} // extern "C"
