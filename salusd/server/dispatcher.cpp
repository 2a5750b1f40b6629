#include "server/dispatcher.h"

#include "graph/import.h"
#include "server/admin_replies.h"
#include "server/clock.h"
#include "server/error_name.h"
#include "server/graph_limits.h"
#include "server/log.h"
#include "server/names.h"
#include "server/replies.h"

#include <salus/salus.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace salus::server {

namespace {

using ull = unsigned long long;

// The message's name, or its type number when it is not in the schema.
std::string body_name(wire::Body type) {
    const char *name = wire::EnumNameBody(type);
    if (name && *name) return name;
    return "type " + std::to_string(static_cast<unsigned>(type));
}

// flatbuffers::BufferHasIdentifier() for a nested buffer of `size` bytes,
// without strncmp: under -fsanitize GCC's -Wstringop-overread misjudges the
// size of the nested vector and rejects the build.
bool is_graph_buffer(const uint8_t *data, size_t size) {
    const char *id = ir::GraphIdentifier();
    const size_t at = sizeof(flatbuffers::uoffset_t);
    if (size < at + flatbuffers::kFileIdentifierLength) return false;
    for (size_t i = 0; i < flatbuffers::kFileIdentifierLength; ++i) {
        if (data[at + i] != static_cast<uint8_t>(id[i])) return false;
    }
    return true;
}

// Imports the nested graph and builds its Executable, over the persistent
// block of `base` when there is one (AddGraph). Worker thread.
Status build_executable(Device *device, const flatbuffers::Vector<uint8_t> &bytes,
                        uint32_t max_frame_bytes, const Limits &limits, const Executable *base,
                        std::unique_ptr<Executable> *out) {
    const uint8_t *data = bytes.data();
    // The schema aligns the nested graph to 8, but a client that built it by
    // hand may not have: copy rather than read misaligned scalars.
    std::unique_ptr<uint64_t[]> aligned;
    if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
        aligned.reset(new uint64_t[(bytes.size() + 7) / 8]);
        std::memcpy(aligned.get(), data, bytes.size());
        data = reinterpret_cast<const uint8_t *>(aligned.get());
    }
    const ir::Graph &wire_graph = *flatbuffers::GetRoot<ir::Graph>(data);
    if (std::string why = check_graph_size(wire_graph, limits); !why.empty()) {
        return Status(SALUS_ETOOBIG, why);
    }
    Graph graph;
    SALUS_RETURN_IF_ERROR(import_graph(wire_graph, &graph));
    aligned.reset();
    std::unique_ptr<Executable> exe;
    if (base) {
        SALUS_RETURN_IF_ERROR(
            Executable::prepare_shared(device, default_kernels(), std::move(graph), *base, &exe));
        exe->set_session_seed(base->session_seed());
    } else {
        SALUS_RETURN_IF_ERROR(
            Executable::prepare(device, default_kernels(), std::move(graph), &exe));
    }
    uint64_t reply_bytes = iteration_reply_bound(*exe);
    if (reply_bytes > max_frame_bytes) {
        return Status(SALUS_ETOOBIG, "the graph outputs need replies of about " +
                                         std::to_string(reply_bytes) +
                                         " bytes, over the frame limit of " +
                                         std::to_string(max_frame_bytes) + " bytes");
    }
    *out = std::move(exe);
    return Status::ok_status();
}

// Runs build_executable, turning what it throws into a status.
Status build_guarded(Device *device, const flatbuffers::Vector<uint8_t> &bytes,
                     uint32_t max_frame_bytes, const Limits &limits, const Executable *base,
                     std::unique_ptr<Executable> *out) {
    try {
        return build_executable(device, bytes, max_frame_bytes, limits, base, out);
    } catch (const std::bad_alloc &) {
        return Status(SALUS_ENOMEM, "out of host memory preparing the graph");
    } catch (const std::exception &e) {
        return Status(SALUS_EINTERNAL, std::string("preparing the graph failed: ") + e.what());
    }
}

// A TensorValue as a Feed of tensor `tensor`, pointing into the frame. An
// unknown dtype stays unknown: Executable::check_value() reports it.
Status to_feed(const wire::TensorValue &value, uint32_t tensor, Feed *feed) {
    feed->tensor = tensor;
    feed->dtype = static_cast<DType>(value.dtype());
    feed->shape = value.shape() ? value.shape()->data() : nullptr;
    // The verifier checks a vector's length field, not its elements'
    // alignment: only a hand-made frame gets this wrong. A scalar's empty
    // shape has no elements to read, and flatbuffers does not align empty
    // vectors.
    feed->rank = value.shape() ? value.shape()->size() : 0;
    if (feed->rank > 0 && reinterpret_cast<uintptr_t>(feed->shape) % alignof(int64_t) != 0) {
        return Status(SALUS_EPROTO, "the shape of fed tensor " + std::to_string(tensor) +
                                        " is not 8-byte aligned");
    }
    feed->data = value.data() ? value.data()->data() : nullptr;
    feed->nbytes = value.data() ? value.data()->size() : 0;
    return {};
}

// Where a variable named on the wire lives in the session's first graph.
Status find_variable(const Executable &exe, const flatbuffers::String *name, bool writable,
                     uint32_t *id) {
    if (!name) return Status(SALUS_EINVAL, "a variable without a name");
    Status st = exe.find_persistent(name->str(), id);
    if (!st.ok()) return Status(st.code(), "\"" + name->str() + "\": " + st.message());
    if (writable && exe.graph().tensors[*id].kind != TensorKind::Variable) {
        return Status(SALUS_EINVAL, "\"" + name->str() + "\" is a constant: it cannot be written");
    }
    return {};
}

} // namespace

// An AddGraph on its way through a worker.
struct Dispatcher::GraphAddition {
    uint64_t connection_id = 0;
    uint64_t request_id = 0;
    SessionPtr session;
    std::string name;
    RequestFramePtr frame;
    Status status;
    std::unique_ptr<Executable> exe;
};

// A CreateSession on its way through a worker.
struct Dispatcher::Creation {
    uint64_t connection_id = 0;
    uint32_t uid = 0;
    uint64_t request_id = 0;
    std::string name;
    sched::SessionParams params;
    uint64_t seed = 0; // SessionOptions.seed
    RequestFramePtr frame;
    Status status;
    std::unique_ptr<Executable> exe;
};

Dispatcher::Dispatcher(Device *device, WorkerPool *pool, const Limits *limits,
                       FindConnection find_connection)
    : device_(device), pool_(pool), limits_(limits), find_connection_(std::move(find_connection)) {}

void Dispatcher::handle(Connection &c, RequestFramePtr frame, uint64_t arrival_ns) {
    // Account for finished iterations first: a CloseSession must see them.
    engine_->collect_reports();
    const wire::Message &message = *frame->message();
    uint64_t id = message.id();
    wire::Body type = message.body_type();
    SALUS_LOG_DEBUG("connection %llu: request %llu %s (%u bytes)", static_cast<ull>(c.id()),
                    static_cast<ull>(id), body_name(type).c_str(), frame->size());

    // The verifier accepts a union type without its table: every handler
    // below relies on the body being there.
    if (!message.body()) {
        std::string error = body_name(type) + " message without a body";
        if (c.greeted) {
            c.send_error(id, SALUS_EPROTO, error);
        } else {
            c.fail(id, SALUS_EPROTO, error);
        }
        return;
    }
    if (!c.greeted) {
        if (type != wire::Body::Hello) {
            c.fail(id, SALUS_EPROTO,
                   std::string("the first message must be Hello, not ") + body_name(type));
            return;
        }
        on_hello(c, id, *message.body_as_Hello());
        return;
    }

    switch (type) {
    case wire::Body::CreateSession:
        on_create_session(c, id, std::move(frame));
        return;
    case wire::Body::RunIteration:
        on_run_iteration(c, id, std::move(frame), arrival_ns);
        return;
    case wire::Body::CloseSession:
        on_close_session(c, id, *message.body_as_CloseSession());
        return;
    case wire::Body::AddGraph:
        on_add_graph(c, id, std::move(frame));
        return;
    case wire::Body::ReadVariables:
        on_read_variables(c, id, std::move(frame), arrival_ns);
        return;
    case wire::Body::WriteVariables:
        on_write_variables(c, id, std::move(frame), arrival_ns);
        return;
    case wire::Body::ListSessions:
        on_list_sessions(c, id);
        return;
    case wire::Body::SetPolicy:
        on_set_policy(c, id, *message.body_as_SetPolicy());
        return;
    case wire::Body::GetStatus:
        on_get_status(c, id);
        return;
    case wire::Body::Drain:
        on_drain(c, id, *message.body_as_Drain());
        return;
    case wire::Body::SetTenant:
        on_set_tenant(c, id, *message.body_as_SetTenant());
        return;
    case wire::Body::EndTenant:
        on_end_tenant(c, id, *message.body_as_EndTenant());
        return;
    case wire::Body::ListTenants:
        on_list_tenants(c, id);
        return;
    case wire::Body::Hello:
        c.send_error(id, SALUS_EPROTO, "Hello was already received");
        return;
    default:
        c.send_error(id, SALUS_EPROTO,
                     std::string("unexpected message ") + body_name(type) + " from a client");
        return;
    }
}

void Dispatcher::on_hello(Connection &c, uint64_t id, const wire::Hello &hello) {
    if (hello.protocol_version() != SALUS_PROTOCOL_VERSION) {
        c.fail(id, SALUS_EVERSION,
               "protocol version " + std::to_string(hello.protocol_version()) +
                   " is not supported (this daemon speaks version " +
                   std::to_string(SALUS_PROTOCOL_VERSION) + ")");
        return;
    }
    std::string client_name = hello.client_name() ? hello.client_name()->str() : "";
    if (Status st = check_name(client_name, "client name", SALUS_MAX_CLIENT_NAME_BYTES); !st.ok()) {
        c.fail(id, st.code(), st.message());
        return;
    }
    if (uint32_t tenant = hello.tenant(); tenant != 0) {
        if (Status st = tenants_.check_client(tenant, c.peer_uid()); !st.ok()) {
            c.fail(id, st.code(), st.message());
            return;
        }
        c.tenant = tenant;
    }
    c.greeted = true;
    c.client_name = std::move(client_name);
    SALUS_LOG_INFO("connection %llu (pid %d): client \"%s\", protocol %u", static_cast<ull>(c.id()),
                   c.peer_pid(), c.client_name.c_str(), hello.protocol_version());
    c.send(hello_reply(id, c.max_frame_bytes()));
}

std::string Dispatcher::refusal() const {
    if (shutting_down_) return "the daemon is shutting down: it admits no new sessions";
    if (draining_) {
        return "the daemon is draining: it admits no new sessions until the drain ends "
               "(salusctl drain --cancel)";
    }
    return "";
}

void Dispatcher::on_create_session(Connection &c, uint64_t id, RequestFramePtr frame) {
    if (std::string lost; engine_->device_lost(&lost)) {
        c.send_error(id, SALUS_EEXEC, lost);
        return;
    }
    if (std::string why = refusal(); !why.empty()) {
        c.send_error(id, SALUS_ESHUTDOWN, why);
        return;
    }
    const wire::CreateSession &request = *frame->message()->body_as_CreateSession();
    const flatbuffers::Vector<uint8_t> *graph = request.graph();
    // The verifier checked the nested buffer's structure but not its identifier.
    if (!graph || !is_graph_buffer(graph->data(), graph->size())) {
        c.send_error(id, SALUS_EGRAPH,
                     "CreateSession.graph is not a salus.ir.Graph buffer (identifier \"SLGR\")");
        return;
    }
    if (std::string why = session_limit(c); !why.empty()) {
        c.send_error(id, SALUS_ERESOURCE, why);
        return;
    }
    auto creation = std::make_shared<Creation>();
    creation->connection_id = c.id();
    creation->uid = c.peer_uid();
    creation->request_id = id;
    if (const wire::SessionOptions *options = request.options()) {
        if (options->name()) creation->name = options->name()->str();
        creation->params.declared_iterations = options->declared_iterations();
        creation->params.priority = options->priority();
        creation->params.weight = options->weight();
        creation->seed = options->seed();
        if (!(creation->params.weight > 0.0) || !std::isfinite(creation->params.weight)) {
            c.send_error(id, SALUS_EINVAL, "session weight must be a finite number above 0");
            return;
        }
    }
    Status st = check_name(creation->name, "session name", SALUS_MAX_SESSION_NAME_BYTES);
    if (st.ok()) st = access_.check_session_params(c.peer(), creation->params);
    if (!st.ok()) {
        c.send_error(id, st.code(), st.message());
        return;
    }
    creation->frame = std::move(frame);
    Device *device = device_;
    uint32_t limit = c.max_frame_bytes();
    ++creations_in_flight_;
    ++c.sessions_creating;
    creating_per_uid_.add(creation->uid);
    // Importing copies every initial value and planning walks the whole
    // graph: both stay off the loop.
    pool_->post(
        [creation, device, limit, limits = *limits_, gone = c.gone] {
            if (!gone->load()) {
                const flatbuffers::Vector<uint8_t> &bytes =
                    *creation->frame->message()->body_as_CreateSession()->graph();
                creation->status =
                    build_guarded(device, bytes, limit, limits, nullptr, &creation->exe);
                if (creation->exe) creation->exe->set_session_seed(creation->seed);
            }
            creation->frame.reset();
        },
        [this, creation] { on_session_created(*creation); });
}

std::string Dispatcher::session_limit(const Connection &c) const {
    uint64_t mine = c.session_ids.size() + c.sessions_creating;
    if (mine >= limits_->sessions_per_connection) {
        return limit_message("this connection has " + std::to_string(mine) + " sessions open",
                             limits_->sessions_per_connection, "sessions-per-connection");
    }
    uint32_t uid = c.peer_uid();
    uint64_t theirs = creating_per_uid_.count(uid) + open_per_uid_.count(uid);
    if (theirs >= limits_->sessions_per_uid) {
        return limit_message("uid " + std::to_string(uid) + " has " + std::to_string(theirs) +
                                 " sessions open",
                             limits_->sessions_per_uid, "sessions-per-uid");
    }
    return "";
}

void Dispatcher::insert_session(const SessionPtr &session) {
    if (sessions_.emplace(session->id, session).second) open_per_uid_.add(session->client_uid);
}

void Dispatcher::erase_session(uint64_t session_id) {
    auto it = sessions_.find(session_id);
    if (it == sessions_.end()) return;
    open_per_uid_.remove(it->second->client_uid);
    sessions_.erase(it);
}

void Dispatcher::on_session_created(Creation &creation) {
    --creations_in_flight_;
    creating_per_uid_.remove(creation.uid);
    Connection *c = find_connection_(creation.connection_id);
    if (!c) return; // the client left: creation.exe frees its memory
    --c->sessions_creating;
    // Refused now rather than admitted: the drain or the shutdown began
    // while a worker prepared it.
    if (std::string why = refusal(); !why.empty() && creation.status.ok()) {
        creation.status = Status(SALUS_ESHUTDOWN, why);
    }
    if (!creation.status.ok()) {
        SALUS_LOG_INFO("connection %llu (pid %d): session not created: %s: %s",
                       static_cast<ull>(c->id()), c->peer_pid(),
                       error_code_name(creation.status.code()), creation.status.message().c_str());
        c->send_error(creation.request_id, creation.status.code(), creation.status.message());
        return;
    }
    const MemoryPlan &plan = creation.exe->plan();
    creation.params.persistent_bytes = plan.persistent_bytes;
    creation.params.ephemeral_bytes = plan.ephemeral_bytes;
    if (Status st = charge_tenant(*c, &creation.params); !st.ok()) {
        SALUS_LOG_INFO("connection %llu (pid %d): session \"%s\" refused: %s",
                       static_cast<ull>(c->id()), c->peer_pid(), creation.name.c_str(),
                       st.message().c_str());
        c->send_error(creation.request_id, st.code(), st.message());
        return;
    }
    uint64_t session_id = next_session_id_++;
    auto session = std::make_shared<Session>(session_id, std::move(creation.name), c, c->peer_pid(),
                                             c->peer_uid(), c->channel(), creation.params,
                                             std::move(creation.exe));
    session->create_request_id = creation.request_id;
    session->tenant = c->tenant;
    session->charged_bytes = c->tenant ? plan.persistent_bytes + plan.ephemeral_bytes : 0;
    uint32_t position = 0;
    Status st = engine_->admit(session, &position);
    if (!st.ok()) {
        tenants_.release(session->tenant, session->charged_bytes);
        SALUS_LOG_INFO("connection %llu (pid %d): session \"%s\" refused: %s",
                       static_cast<ull>(c->id()), c->peer_pid(), session->name.c_str(),
                       st.message().c_str());
        c->send_error(creation.request_id, st.code(), st.message());
        return;
    }
    // Admitted sessions were answered by on_admitted() already.
    if (position > 0) {
        insert_session(session);
        c->session_ids.insert(session_id);
        SALUS_LOG_INFO("session %llu \"%s\" queued for device memory at position %u: "
                       "P %llu bytes, T %llu bytes",
                       static_cast<ull>(session_id), session->name.c_str(), position,
                       static_cast<ull>(plan.persistent_bytes),
                       static_cast<ull>(plan.ephemeral_bytes));
        c->send(session_queued_event(creation.request_id, position));
    }
}

void Dispatcher::on_admitted(const SessionPtr &session) {
    Connection *c = session->owner;
    insert_session(session);
    c->session_ids.insert(session->id);
    if (shutting_down_) {
        // Let through by refusing the sessions that waited ahead of it.
        c->send_error(session->create_request_id, SALUS_ESHUTDOWN, refusal());
        c->session_ids.erase(session->id);
        session->owner = nullptr;
        erase_session(session->id);
        retire(session);
        return;
    }
    const MemoryPlan &plan = session->exe->plan();
    std::optional<SessionPlacement> where = engine_->placement(session->id);
    SALUS_LOG_INFO("session %llu \"%s\" created for connection %llu (pid %d): %zu nodes, "
                   "P %llu bytes, T %llu bytes, lane %llu",
                   static_cast<ull>(session->id), session->name.c_str(), static_cast<ull>(c->id()),
                   c->peer_pid(), session->exe->graph().nodes.size(),
                   static_cast<ull>(plan.persistent_bytes), static_cast<ull>(plan.ephemeral_bytes),
                   static_cast<ull>(where ? where->lane.lane : 0));
    c->send(create_session_reply(session->create_request_id, *session));
}

void Dispatcher::on_run_iteration(Connection &c, uint64_t id, RequestFramePtr frame,
                                  uint64_t arrival_ns) {
    const wire::RunIteration &request = *frame->message()->body_as_RunIteration();
    SessionPtr session = find_owned_session(c, id, request.session_id());
    if (!session) return;

    std::vector<Feed> feeds;
    if (const auto *inputs = request.inputs()) {
        feeds.reserve(inputs->size());
        for (const wire::TensorValue *value : *inputs) {
            Feed feed;
            if (Status st = to_feed(*value, value->id(), &feed); !st.ok()) {
                c.send_error(id, st.code(), st.message());
                return;
            }
            feeds.push_back(feed);
        }
    }
    const uint32_t graph = request.graph();
    if (graph >= session->graph_count()) {
        c.send_error(id, SALUS_EINVAL,
                     "session " + std::to_string(session->id) + " has no graph " +
                         std::to_string(graph) + " (it has " +
                         std::to_string(session->graph_count()) + ")");
        return;
    }
    Status status = session->graph(graph)->check_feeds(feeds.data(), feeds.size());
    if (!status.ok()) {
        c.send_error(id, status.code(), status.message());
        return;
    }
    QueuedIteration iteration;
    iteration.graph = graph;
    iteration.feeds = std::move(feeds); // they point into the frame: no copy
    uint64_t reply_bytes = iteration_reply_bound(*session->graph(graph));
    enqueue_work(c, session, id, std::move(frame), std::move(iteration), reply_bytes, arrival_ns);
}

void Dispatcher::on_add_graph(Connection &c, uint64_t id, RequestFramePtr frame) {
    const wire::AddGraph &request = *frame->message()->body_as_AddGraph();
    SessionPtr session = find_owned_session(c, id, request.session_id());
    if (!session) return;
    if (shutting_down_) {
        c.send_error(id, SALUS_ESHUTDOWN, "the daemon is shutting down: it adds no graphs");
        return;
    }
    const flatbuffers::Vector<uint8_t> *graph = request.graph();
    if (!graph || !is_graph_buffer(graph->data(), graph->size())) {
        c.send_error(id, SALUS_EGRAPH,
                     "AddGraph.graph is not a salus.ir.Graph buffer (identifier \"SLGR\")");
        return;
    }
    std::string name = request.name() ? request.name()->str() : "";
    if (Status st = check_name(name, "graph name", SALUS_MAX_SESSION_NAME_BYTES); !st.ok()) {
        c.send_error(id, st.code(), st.message());
        return;
    }
    const std::vector<std::string> &added = session->added_names;
    std::vector<std::string> &adding = session->adding_names;
    if (std::find(added.begin(), added.end(), name) != added.end() ||
        std::find(adding.begin(), adding.end(), name) != adding.end()) {
        c.send_error(id, SALUS_EINVAL,
                     "session " + std::to_string(session->id) + " already has a graph named \"" +
                         name + "\"");
        return;
    }
    adding.push_back(name);
    auto addition = std::make_shared<GraphAddition>();
    addition->connection_id = c.id();
    addition->request_id = id;
    addition->session = std::move(session);
    addition->name = std::move(name);
    addition->frame = std::move(frame);
    Device *device = device_;
    uint32_t limit = c.max_frame_bytes();
    ++creations_in_flight_;
    // The base executable is immutable but for its bind pointers, which a
    // prepared graph does not read.
    pool_->post(
        [addition, device, limit, limits = *limits_, gone = c.gone] {
            if (!gone->load()) {
                const flatbuffers::Vector<uint8_t> &bytes =
                    *addition->frame->message()->body_as_AddGraph()->graph();
                addition->status = build_guarded(device, bytes, limit, limits,
                                                 addition->session->exe.get(), &addition->exe);
            }
            addition->frame.reset();
        },
        [this, addition] { on_graph_prepared(*addition); });
}

void Dispatcher::on_graph_prepared(GraphAddition &addition) {
    --creations_in_flight_;
    Connection *c = find_connection_(addition.connection_id);
    Session &session = *addition.session;
    std::vector<std::string> &adding = session.adding_names;
    adding.erase(std::find(adding.begin(), adding.end(), addition.name));
    if (!c) return;
    Status &st = addition.status;
    if (st.ok() && (session.closed() || session.closing)) {
        st = Status(SALUS_ENOSESSION, "session " + std::to_string(session.id) + " is closing");
    }
    uint32_t index = 0;
    if (st.ok()) st = engine_->add_graph(addition.session, std::move(addition.exe), &index);
    if (!st.ok()) {
        SALUS_LOG_INFO("session %llu \"%s\": graph \"%s\" not added: %s: %s",
                       static_cast<ull>(session.id), session.name.c_str(), addition.name.c_str(),
                       error_code_name(st.code()), st.message().c_str());
        c->send_error(addition.request_id, st.code(), st.message());
        return;
    }
    session.added_names.push_back(addition.name);
    const Executable &exe = *session.graph(index);
    SALUS_LOG_INFO("session %llu \"%s\": graph %u \"%s\" added: %zu nodes, T %llu bytes",
                   static_cast<ull>(session.id), session.name.c_str(), index, addition.name.c_str(),
                   exe.graph().nodes.size(), static_cast<ull>(exe.plan().ephemeral_bytes));
    c->send(add_graph_reply(addition.request_id, session.id, index, exe));
}

void Dispatcher::on_read_variables(Connection &c, uint64_t id, RequestFramePtr frame,
                                   uint64_t arrival_ns) {
    const wire::ReadVariables &request = *frame->message()->body_as_ReadVariables();
    SessionPtr session = find_owned_session(c, id, request.session_id());
    if (!session) return;
    const Executable &exe = *session->exe;
    QueuedIteration work;
    work.work = Work::ReadVariables;
    uint64_t bytes = 0;
    if (request.names()) {
        for (const flatbuffers::String *name : *request.names()) {
            uint32_t tensor = 0;
            if (Status st = find_variable(exe, name, false, &tensor); !st.ok()) {
                c.send_error(id, st.code(), st.message());
                return;
            }
            work.tensors.push_back(tensor);
        }
    }
    for (uint32_t tensor : work.tensors) {
        const TensorDesc &t = exe.graph().tensors[tensor];
        bytes += t.nbytes() + t.name.size() + kReplyOverheadPerOutput;
    }
    if (bytes + kReplyOverheadBytes > c.max_frame_bytes()) {
        c.send_error(id, SALUS_ETOOBIG,
                     "the variables need a reply of about " + std::to_string(bytes) +
                         " bytes, over the frame limit of " + std::to_string(c.max_frame_bytes()) +
                         " bytes: read fewer at a time");
        return;
    }
    enqueue_work(c, session, id, std::move(frame), std::move(work), bytes + kReplyOverheadBytes,
                 arrival_ns);
}

void Dispatcher::on_write_variables(Connection &c, uint64_t id, RequestFramePtr frame,
                                    uint64_t arrival_ns) {
    const wire::WriteVariables &request = *frame->message()->body_as_WriteVariables();
    SessionPtr session = find_owned_session(c, id, request.session_id());
    if (!session) return;
    const Executable &exe = *session->exe;
    QueuedIteration work;
    work.work = Work::WriteVariables;
    std::vector<bool> seen(exe.graph().tensors.size(), false);
    if (request.values()) {
        for (const wire::TensorValue *value : *request.values()) {
            uint32_t tensor = 0;
            Feed feed{};
            Status st = find_variable(exe, value->name(), true, &tensor);
            if (st.ok()) st = to_feed(*value, tensor, &feed);
            if (st.ok()) st = exe.check_value(feed, "variable");
            if (st.ok() && seen[tensor]) {
                st = Status(SALUS_EINVAL, "\"" + value->name()->str() + "\" is written twice");
            }
            if (!st.ok()) {
                c.send_error(id, st.code(), st.message());
                return;
            }
            seen[tensor] = true;
            work.feeds.push_back(feed);
        }
    }
    enqueue_work(c, session, id, std::move(frame), std::move(work), kReplyOverheadBytes,
                 arrival_ns);
}

void Dispatcher::enqueue_work(Connection &c, const SessionPtr &session, uint64_t id,
                              RequestFramePtr frame, QueuedIteration work, uint64_t reply_bytes,
                              uint64_t arrival_ns) {
    if (shutting_down_) {
        c.send_error(id, SALUS_ESHUTDOWN,
                     "the daemon is shutting down: it queues no new iterations (those queued "
                     "before finish)");
        return;
    }
    if (std::string lost; engine_->device_lost(&lost)) {
        c.send_error(id, SALUS_EEXEC, lost);
        return;
    }
    if (session->in_flight >= limits_->iterations_per_session) {
        c.send_error(id, SALUS_ERESOURCE,
                     limit_message("session " + std::to_string(session->id) + " has " +
                                       std::to_string(session->in_flight) +
                                       " requests queued or running",
                                   limits_->iterations_per_session, "iterations-per-session"));
        return;
    }
    if (c.queued_requests() >= limits_->iterations_per_connection) {
        c.send_error(id, SALUS_ERESOURCE,
                     limit_message("this connection has " + std::to_string(c.queued_requests()) +
                                       " requests queued or running",
                                   limits_->iterations_per_connection,
                                   "iterations-per-connection"));
        return;
    }
    work.request_id = id;
    work.request = std::move(frame);
    work.arrival_ns = arrival_ns;
    work.reply_bytes = reply_bytes;
    ++session->in_flight;
    c.add_queued_request(work.request->size(), reply_bytes);
    engine_->enqueue(session, std::move(work));
}

void Dispatcher::on_iteration_done(IterationDone &done) {
    Session &session = *done.session;
    if (session.closed()) {
        SALUS_LOG_DEBUG("session %llu: result of request %llu discarded, its client left",
                        static_cast<ull>(session.id), static_cast<ull>(done.request_id));
        return;
    }
    // The lane wrote the reply, or left the rest of it to us.
    if (done.handed_off) session.owner->send_rest(std::move(done.reply), done.offset);
    if (done.report) {
        --session.in_flight;
        session.owner->remove_queued_request(done.request_bytes, done.reply_bytes);
        if (done.status.ok() && done.counts) {
            ++session.iterations;
            session.run_ns += done.run_ns;
            SALUS_LOG_DEBUG("session %llu: iteration %llu done in %llu ns",
                            static_cast<ull>(session.id), static_cast<ull>(session.iterations),
                            static_cast<ull>(done.run_ns));
        } else {
            SALUS_LOG_DEBUG("session %llu: request %llu failed: %s", static_cast<ull>(session.id),
                            static_cast<ull>(done.request_id), done.status.message().c_str());
        }
    }
    if (session.closing && engine_->idle(done.session)) finish_close(done.session);
}

void Dispatcher::fail_lost(const std::string &message, LostWork &work) {
    for (auto &[session, iteration] : work.iterations) {
        Connection *c = session->owner;
        if (!c) continue; // its client left
        --session->in_flight;
        c->remove_queued_request(iteration.request->size(), iteration.reply_bytes);
        c->send_error(iteration.request_id, SALUS_EEXEC, message);
    }
    for (const SessionPtr &session : work.waiting) {
        if (session->owner)
            session->owner->send_error(session->create_request_id, SALUS_EEXEC, message);
    }
}

void Dispatcher::on_close_session(Connection &c, uint64_t id, const wire::CloseSession &request) {
    auto it = sessions_.find(request.session_id());
    // Another user's session (salus_close_session_by_id) is an
    // administrator's to close; one's own, from any connection.
    if (it != sessions_.end() && it->second->owner != &c) {
        Status st = it->second->client_uid == c.peer_uid()
                        ? Status()
                        : access_.require_admin(c.peer(), "closing another user's session");
        if (!st.ok()) {
            c.send_error(id, st.code(), st.message());
            return;
        }
    }
    SessionPtr session = find_session(c, id, request.session_id(), true);
    if (!session) return;
    session->closing = true;
    session->close_request_id = id;
    session->close_connection_id = c.id();
    if (session->owner != &c) {
        SALUS_LOG_INFO("session %llu \"%s\" of connection %llu closed by connection %llu (pid %d, "
                       "uid %u)",
                       static_cast<ull>(session->id), session->name.c_str(),
                       static_cast<ull>(session->owner->id()), static_cast<ull>(c.id()),
                       c.peer_pid(), c.peer_uid());
    }
    engine_->mark_closing(session);
    // Otherwise the last queued iteration's completion closes it.
    if (engine_->idle(session)) finish_close(session);
}

void Dispatcher::on_set_policy(Connection &c, uint64_t id, const wire::SetPolicy &request) {
    if (Status st = access_.require_admin(c.peer(), "changing the policy"); !st.ok()) {
        c.send_error(id, st.code(), st.message());
        return;
    }
    std::optional<sched::Policy> policy = sched::parse_policy(request.policy()->string_view());
    if (!policy) {
        c.send_error(id, SALUS_EINVAL,
                     "unknown policy \"" + request.policy()->str() +
                         "\" (fifo, srtf, pack, fair, priority)");
        return;
    }
    sched::Policy previous = engine_->policy();
    engine_->set_policy(*policy);
    SALUS_LOG_INFO("scheduling policy %s (was %s), asked by connection %llu (pid %d)",
                   sched::policy_name(*policy), sched::policy_name(previous),
                   static_cast<ull>(c.id()), c.peer_pid());
    c.send(set_policy_reply(id, *policy, previous));
}

void Dispatcher::on_list_sessions(Connection &c, uint64_t id) {
    c.send(list_sessions_reply(id, sessions_, closed_, *engine_, access_.visibility(c.peer())));
}

void Dispatcher::on_get_status(Connection &c, uint64_t id) {
    c.send(status_reply(id, *device_, *engine_, sessions_, {draining_, shutting_down_},
                        access_.visibility(c.peer())));
}

void Dispatcher::on_drain(Connection &c, uint64_t id, const wire::Drain &request) {
    bool enable = request.enable();
    if (Status st = access_.require_admin(c.peer(), enable ? "drain" : "ending a drain");
        !st.ok()) {
        c.send_error(id, st.code(), st.message());
        return;
    }
    if (!enable && shutting_down_) {
        c.send_error(id, SALUS_ESHUTDOWN, "the daemon is shutting down: the drain cannot end");
        return;
    }
    bool previous = draining_;
    draining_ = enable;
    if (enable != previous) {
        SALUS_LOG_INFO("%s, asked by connection %llu (pid %d, uid %u): %zu session%s open",
                       enable ? "draining: new sessions are refused"
                              : "drain ended: new sessions are admitted",
                       static_cast<ull>(c.id()), c.peer_pid(), c.peer_uid(), sessions_.size(),
                       sessions_.size() == 1 ? "" : "s");
    }
    c.send(drain_reply(id, draining_, previous, static_cast<uint32_t>(sessions_.size())));
}

void Dispatcher::begin_shutdown() {
    shutting_down_ = true;
    // Sessions waiting for device memory would wait past the end: refuse
    // them now (their CreateSession is still open).
    std::vector<SessionPtr> waiting;
    for (const auto &[id, session] : sessions_) {
        if (engine_->queue_position(id) > 0) waiting.push_back(session);
    }
    for (const SessionPtr &session : waiting) {
        // Withdrawing one may let another through the overtaking bound, and
        // on_admitted() refuses that one itself.
        if (session->closed()) continue;
        Connection *c = session->owner;
        SALUS_LOG_INFO("session %llu \"%s\" refused while waiting for device memory: the "
                       "daemon is shutting down",
                       static_cast<ull>(session->id), session->name.c_str());
        c->send_error(session->create_request_id, SALUS_ESHUTDOWN, refusal());
        c->session_ids.erase(session->id);
        session->owner = nullptr;
        erase_session(session->id);
        retire(session);
    }
}

bool Dispatcher::has_work() {
    if (creations_in_flight_ > 0) return true;
    for (const auto &[id, session] : sessions_) {
        if (!engine_->idle(session)) return true;
    }
    return false;
}

void Dispatcher::abandon_work(const std::string &why) {
    std::vector<Engine::Halted> halted = engine_->halt();
    size_t running = 0;
    for (const Engine::Halted &h : halted) {
        Session &session = *h.session;
        if (session.closed()) continue;
        running += h.running ? 1 : 0;
        session.owner->send_error(h.request_id, SALUS_ESHUTDOWN,
                                  why + (h.running ? ": the iteration was still running, its "
                                                     "result is lost"
                                                   : ": the iteration did not run"));
    }
    if (!halted.empty()) {
        SALUS_LOG_WARNING("%s: %zu iteration%s abandoned (%zu running)", why.c_str(), halted.size(),
                          halted.size() == 1 ? "" : "s", running);
    }
}

SessionPtr Dispatcher::find_owned_session(Connection &c, uint64_t request_id, uint64_t session_id) {
    return find_session(c, request_id, session_id, false);
}

SessionPtr Dispatcher::find_session(Connection &c, uint64_t request_id, uint64_t session_id,
                                    bool any_owner) {
    auto it = sessions_.find(session_id);
    // Another client's session is as unknown as one that never existed.
    if (it == sessions_.end() || (!any_owner && it->second->owner != &c)) {
        c.send_error(request_id, SALUS_ENOSESSION, "unknown session " + std::to_string(session_id));
        return nullptr;
    }
    if (it->second->closing) {
        c.send_error(request_id, SALUS_ENOSESSION,
                     "session " + std::to_string(session_id) + " is closing");
        return nullptr;
    }
    return it->second;
}

void Dispatcher::finish_close(const SessionPtr &session) {
    Connection *c = session->owner;
    SALUS_LOG_INFO("session %llu \"%s\" closed after %llu iterations",
                   static_cast<ull>(session->id), session->name.c_str(),
                   static_cast<ull>(session->iterations));
    // The reply goes to whoever asked, unless it left meanwhile.
    if (Connection *asker = find_connection_(session->close_connection_id)) {
        asker->send(
            close_session_reply(session->close_request_id, session->id, session->iterations));
    }
    c->session_ids.erase(session->id);
    session->owner = nullptr;
    erase_session(session->id);
    retire(session);
}

void Dispatcher::retire(const SessionPtr &session) {
    // Listings show recently closed sessions with their final accounting.
    constexpr size_t kClosedKept = 64;
    SessionReport report = report_session(*session, *engine_);
    report.state = "closed";
    report.pending = 0;
    report.completed_ns = monotonic_ns();
    if (closed_.size() == kClosedKept) closed_.pop_front();
    closed_.push_back(std::move(report));
    tenants_.release(session->tenant, session->charged_bytes);
    // Its memory returns to the pool; waiting sessions may be admitted.
    engine_->close(session);
    idle_trim_.sessions_left(sessions_.size(), monotonic_ns());
}

void Dispatcher::drop_connection(Connection &c) {
    c.gone->store(true);
    if (c.sessions_creating > 0) {
        SALUS_LOG_INFO("connection %llu (pid %d): %u session creation(s) cancelled",
                       static_cast<ull>(c.id()), c.peer_pid(), c.sessions_creating);
    }
    for (uint64_t session_id : c.session_ids) {
        auto it = sessions_.find(session_id);
        if (it == sessions_.end()) continue;
        SessionPtr session = it->second;
        SALUS_LOG_INFO("session %llu \"%s\" closed with its client after %llu iterations",
                       static_cast<ull>(session->id), session->name.c_str(),
                       static_cast<ull>(session->iterations));
        // An administrator closing it is answered now: it is closed.
        Connection *asker = session->closing && session->close_connection_id != c.id()
                                ? find_connection_(session->close_connection_id)
                                : nullptr;
        if (asker) {
            asker->send(
                close_session_reply(session->close_request_id, session->id, session->iterations));
        }
        session->owner = nullptr;
        erase_session(session_id);
        // Queued iterations are dropped; a running one finishes first, then
        // the memory returns to the pool.
        retire(session);
    }
    c.session_ids.clear();
}

} // namespace salus::server
