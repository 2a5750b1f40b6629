// A catalogue of hostile requests over a raw socket, each answered with the
// right error while a training job on the same daemon finishes with exactly
// the losses it has alone. TAP output; needs root for the rows sent as
// another user (nobody), which are skipped otherwise.
//
// Each row is one request (or a short sequence ending in it) on a fresh
// connection, opened raw, after Hello, or after creating a session of the
// target graph below; the expected outcome is an Error with its code and a
// substring of its message, and whether the daemon then closes the
// connection (the protocol closes on framing errors and a bad Hello) or
// keeps serving it (checked with a GetStatus). A row whose frame the daemon
// cannot answer (the client hangs up mid-frame) expects the connection
// closed without a reply and the reason in the daemon's log. After every
// row a new connection must get a HelloReply and a StatusReply, and every
// message must be at most 1 KiB. At the end no row's connection or session
// may be left in the daemon.
//
// The families: framing (truncated header and body, lengths 0 and over the
// limits, garbage, wrong identifier, lying offsets, nested graphs that fail
// verification, a missing required field, unknown and reply message types,
// a type without its table); the handshake (request before Hello, second
// Hello, wrong version, bad and long client names, unknown and foreign
// tenants); identifiers (unknown, another connection's and another uid's
// sessions, a closed session, graph index out of range); graphs (ids out of
// range, unknown fetch, cycles, negative, zero, 2^40 and overflowing dims,
// ranks 9 and 2^20, unknown ops (one named by 1 MiB), dtypes, kinds and
// attributes, wrong, missing, repeated attributes, wrong initial data,
// nodes writing inputs or one tensor twice or nothing, empty graphs, a
// session larger than the pool, bad session names, weights and
// priorities); feeds (wrong size, dtype, shape, rank 2^20, not an input,
// out of range, missing, twice); variables (unknown, a 1 MiB name, wrong
// size and shape, constant, twice, unnamed, ambiguous); AddGraph (duplicate
// and bad names, a new variable); administration (from a non-admin; bad
// tenant requests from root).
#include "../capi/wire_io.h"
#include "mlp_job.h"
#include "raw_graph.h"
#include "server/error_name.h"

extern "C" {
#include "../capi/daemon_fixture.h"
}

#include <salus/salus.h>

#include <dirent.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

using namespace salus;
using namespace salus::test;

namespace {

using Bytes = std::vector<uint8_t>;

// The hostile request's id; requests that lead up to it use kSetupId.
constexpr uint64_t kRowId = 7;
constexpr uint64_t kSetupId = 5;
constexpr uint64_t kStatusId = 99;
// A tenant root registers for itself: another uid may not name it.
constexpr uint32_t kRootTenant = 4242;
// An error says what is wrong in a few lines, however large the request.
constexpr size_t kMaxMessageBytes = 1024;
// A shape or attribute list far over any rank, of dimensions that print long.
const std::vector<int64_t> kLongDims(1u << 20, std::numeric_limits<int64_t>::min());

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes &p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// ---- well-formed messages, to be sent as they are or broken --------------

Bytes hello_frame(uint32_t version = SALUS_PROTOCOL_VERSION, const std::string &name = "hostile",
                  uint32_t tenant = 0, uint64_t id = kRowId) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateHello(fbb, version, 0, fbb.CreateString(name), tenant);
    return frame_message(fbb, id, wire::Body::Hello, body.Union());
}

flatbuffers::Offset<flatbuffers::Vector<uint8_t>> nested(flatbuffers::FlatBufferBuilder &fbb,
                                                         const Bytes &graph) {
    fbb.ForceVectorAlignment(graph.size(), 1, 8);
    return fbb.CreateVector(graph);
}

struct Options {
    std::string name = "hostile";
    int32_t priority = 0;
    double weight = 1.0;
};

Bytes create_frame(const Bytes &graph, const Options &o = {}, uint64_t id = kRowId) {
    flatbuffers::FlatBufferBuilder fbb;
    auto g = nested(fbb, graph);
    auto options =
        wire::CreateSessionOptions(fbb, fbb.CreateString(o.name), 0, o.priority, o.weight);
    auto body = wire::CreateCreateSession(fbb, g, options);
    return frame_message(fbb, id, wire::Body::CreateSession, body.Union());
}

// A TensorValue of `nbytes` zero bytes: dtype and shape say what it claims.
struct Value {
    uint32_t id;
    ir::DType dtype;
    std::vector<int64_t> shape;
    size_t nbytes;
    const char *name = nullptr;
};

const Value kX{0, ir::DType::F32, {2, 3}, 24}; // the target graph's inputs
const Value kZ{1, ir::DType::F32, {2, 2}, 16};

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<wire::TensorValue>>>
values(flatbuffers::FlatBufferBuilder &fbb, const std::vector<Value> &vs) {
    std::vector<flatbuffers::Offset<wire::TensorValue>> out;
    for (const Value &v : vs) {
        auto shape = fbb.CreateVector(v.shape);
        fbb.ForceVectorAlignment(v.nbytes, 1, 16);
        auto data = fbb.CreateVector(Bytes(v.nbytes, 0));
        auto name = v.name ? fbb.CreateString(v.name) : 0;
        out.push_back(wire::CreateTensorValue(fbb, v.id, v.dtype, shape, data, name));
    }
    return fbb.CreateVector(out);
}

Bytes run_frame(uint64_t session, const std::vector<Value> &inputs, uint32_t graph = 0) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateRunIteration(fbb, session, values(fbb, inputs), graph);
    return frame_message(fbb, kRowId, wire::Body::RunIteration, body.Union());
}

Bytes write_frame(uint64_t session, const std::vector<Value> &vs) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateWriteVariables(fbb, session, values(fbb, vs));
    return frame_message(fbb, kRowId, wire::Body::WriteVariables, body.Union());
}

Bytes read_frame(uint64_t session, const std::string &name) {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<flatbuffers::Offset<flatbuffers::String>> names = {fbb.CreateString(name)};
    auto body = wire::CreateReadVariables(fbb, session, fbb.CreateVector(names));
    return frame_message(fbb, kRowId, wire::Body::ReadVariables, body.Union());
}

Bytes close_frame(uint64_t session, uint64_t id = kRowId) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateCloseSession(fbb, session);
    return frame_message(fbb, id, wire::Body::CloseSession, body.Union());
}

Bytes add_graph_frame(uint64_t session, const char *name, const Bytes &graph,
                      uint64_t id = kRowId) {
    flatbuffers::FlatBufferBuilder fbb;
    auto g = nested(fbb, graph);
    auto body = wire::CreateAddGraph(fbb, session, fbb.CreateString(name), g);
    return frame_message(fbb, id, wire::Body::AddGraph, body.Union());
}

Bytes status_frame(uint64_t id = kRowId) {
    flatbuffers::FlatBufferBuilder fbb;
    return frame_message(fbb, id, wire::Body::GetStatus, wire::CreateGetStatus(fbb).Union());
}

Bytes policy_frame(const char *policy) {
    flatbuffers::FlatBufferBuilder fbb;
    if (policy) {
        auto body = wire::CreateSetPolicy(fbb, fbb.CreateString(policy));
        return frame_message(fbb, kRowId, wire::Body::SetPolicy, body.Union());
    }
    // An empty table: the generated builder asserts the required field.
    flatbuffers::Offset<void> empty(fbb.EndTable(fbb.StartTable()));
    return frame_message(fbb, kRowId, wire::Body::SetPolicy, empty);
}

Bytes tenant_frame(uint32_t tenant, uint32_t uid) {
    flatbuffers::FlatBufferBuilder fbb;
    auto info = wire::CreateTenantInfo(fbb, tenant, uid, 1ull << 30);
    return frame_message(fbb, kRowId, wire::Body::SetTenant,
                         wire::CreateSetTenant(fbb, info).Union());
}

// A message of any body type (a number outside the union too) whose table is
// `table`, or none.
Bytes typed_frame(uint8_t type, bool with_table) {
    flatbuffers::FlatBufferBuilder fbb;
    flatbuffers::Offset<void> body = 0;
    if (with_table) body = wire::CreateHello(fbb, SALUS_PROTOCOL_VERSION).Union();
    return frame_message(fbb, kRowId, static_cast<wire::Body>(type), body);
}

Bytes length_header(uint32_t length) {
    Bytes header(frame::kHeaderBytes);
    frame::write_length(header.data(), length);
    return header;
}

// ---- the target graph and its variants -----------------------------------

// y = x·w + z + c: inputs x [2, 3] and z [2, 2], variable w [3, 2],
// constant c [2, 2]; tensors 0 to 6.
RawGraph target() {
    using K = ir::TensorKind;
    const auto f32 = ir::DType::F32;
    RawGraph g;
    g.tensors = {{"x", K::Input, f32, true, {2, 3}, {}},
                 {"z", K::Input, f32, true, {2, 2}, {}},
                 {"w", K::Variable, f32, true, {3, 2}, {}},
                 {"c", K::Constant, f32, true, {2, 2}, Bytes(16, 0)},
                 {"h"},
                 {"s"},
                 {"y"}};
    g.nodes = {{"MatMul", {0, 2}, {4}, {}}, {"Add", {4, 1}, {5}, {}}, {"Add", {5, 3}, {6}, {}}};
    g.outputs = {6};
    return g;
}

// Two variables named "w".
RawGraph ambiguous() {
    RawGraph g = target();
    g.tensors[3].name = "w";
    g.tensors[3].kind = ir::TensorKind::Variable;
    return g;
}

Bytes target_with(void (*edit)(RawGraph &)) {
    RawGraph g = target();
    edit(g);
    return graph_bytes(g);
}

// The target's y reshaped by a Reshape node with `attrs`: its output is t7.
void reshape_y(RawGraph &g, std::vector<RawAttr> attrs) {
    g.tensors.push_back({"r"});
    g.nodes.push_back({"Reshape", {6}, {7}, std::move(attrs)});
    g.outputs = {7};
}

// ---- rows ----------------------------------------------------------------

enum class Start { Raw, Greeted, Session };

// What a row's bytes may refer to.
struct Ctx {
    uint64_t session = 0;   // the row's own session (Start::Session)
    uint64_t victim = 0;    // root's session on another connection
    uint32_t max_frame = 0; // from the HelloReply
};

struct Expect {
    int code;         // 0: closed without a reply, `text` in the daemon's log
    const char *text; // a substring of the Error's message
    bool closes;      // the daemon closes the connection after the Error
};

struct Row {
    const char *name;
    Start start;
    bool other_uid; // sent by nobody, not root
    std::function<Bytes(const Ctx &)> bytes;
    Expect expect;
    RawGraph (*graph)() = target; // the session's, for Start::Session
};

Row row(const char *name, Start start, bool other_uid, std::function<Bytes(const Ctx &)> bytes,
        Expect expect, RawGraph (*graph)() = target) {
    return {name, start, other_uid, std::move(bytes), expect, graph};
}

const Expect kBadFrame{SALUS_EPROTO, "not a valid salus.wire.Message", true};

std::vector<Row> catalogue() {
    using T = ir::AttrType;
    const int64_t k2p40 = int64_t{1} << 40, k2p31 = int64_t{1} << 31;
    const Start raw = Start::Raw, greeted = Start::Greeted, session = Start::Session;
    auto create = [](void (*edit)(RawGraph &)) {
        Bytes g = target_with(edit);
        return [g](const Ctx &) { return create_frame(g); };
    };
    auto create_named = [](Options o) {
        Bytes g = graph_bytes(target());
        return [g, o](const Ctx &) { return create_frame(g, o); };
    };
    auto run = [](std::vector<Value> inputs) {
        return [inputs](const Ctx &c) { return run_frame(c.session, inputs); };
    };
    auto write = [](std::vector<Value> vs) {
        return [vs](const Ctx &c) { return write_frame(c.session, vs); };
    };
    const Value w{2, ir::DType::F32, {3, 2}, 24, "w"};
    return {
        // Framing.
        row("truncated frame header, then hang up", raw, false,
            [](const Ctx &) {
                return Bytes{0x10, 0x00};
            },
            {0, "(2 of 4 length bytes)", true}),
        row("body shorter than its length, then hang up", greeted, false,
            [](const Ctx &) {
                return cat({length_header(100), Bytes(50, 0)});
            },
            {0, "(50 of 100 body bytes)", true}),
        row("length over the frame limit", greeted, false,
            [](const Ctx &c) { return length_header(c.max_frame + 1); },
            {SALUS_ETOOBIG, "exceeds the limit", true}),
        row("first frame over 64 KiB before Hello", raw, false,
            [](const Ctx &) { return length_header(64 * 1024 + 1); },
            {SALUS_ETOOBIG, "before Hello", true}),
        row("length 0", raw, false, [](const Ctx &) { return length_header(0); },
            {SALUS_EPROTO, "length 0", true}),
        row(
            "garbage that fails verification", raw, false,
            [](const Ctx &) {
                return cat({length_header(16), Bytes(16, 0xab)});
            },
            kBadFrame),
        row(
            "wrong file identifier", raw, false,
            [](const Ctx &) {
                Bytes f = hello_frame();
                std::memcpy(f.data() + frame::kHeaderBytes + 4, "XXXX", 4);
                return f;
            },
            kBadFrame),
        row(
            "root offset past the end of the frame", raw, false,
            [](const Ctx &) {
                Bytes f = hello_frame();
                frame::write_length(f.data() + frame::kHeaderBytes, 0xfffffff0u);
                return f;
            },
            kBadFrame),
        row(
            "nested graph that fails verification", greeted, false,
            [](const Ctx &) {
                Bytes g(64, 0xab);
                frame::write_length(g.data(), 0x7ffffff0u);
                std::memcpy(g.data() + 4, "SLGR", 4);
                return create_frame(g);
            },
            kBadFrame),
        row(
            "SetPolicy without its required policy", greeted, false,
            [](const Ctx &) { return policy_frame(nullptr); }, kBadFrame),
        row(
            "nested graph of 4 bytes", greeted, false,
            [](const Ctx &) {
                return create_frame(Bytes{4, 0, 0, 0});
            },
            kBadFrame),
        row("unknown message type 200", greeted, false,
            [](const Ctx &) { return typed_frame(200, true); },
            {SALUS_EPROTO, "unexpected message type 200 from a client", false}),
        row("unknown message type 201 before Hello", raw, false,
            [](const Ctx &) { return typed_frame(201, true); },
            {SALUS_EPROTO, "the first message must be Hello, not type 201", true}),
        row("a reply type sent as a request", greeted, false,
            [](const Ctx &) {
                return typed_frame(static_cast<uint8_t>(wire::Body::HelloReply), true);
            },
            {SALUS_EPROTO, "unexpected message HelloReply", false}),
        row("a message type without its table", greeted, false,
            [](const Ctx &) {
                return typed_frame(static_cast<uint8_t>(wire::Body::CreateSession), false);
            },
            {SALUS_EPROTO, "CreateSession message without a body", false}),
        // The handshake.
        row("request before Hello", raw, false, [](const Ctx &) { return status_frame(); },
            {SALUS_EPROTO, "the first message must be Hello", true}),
        row("second Hello", greeted, false, [](const Ctx &) { return hello_frame(); },
            {SALUS_EPROTO, "Hello was already received", false}),
        row("wrong protocol version", raw, false, [](const Ctx &) { return hello_frame(99); },
            {SALUS_EVERSION, "protocol version 99 is not supported", true}),
        row("client name with a control character", raw, false,
            [](const Ctx &) { return hello_frame(SALUS_PROTOCOL_VERSION, "evil\x1b[2J"); },
            {SALUS_EINVAL, "client name has a control character", true}),
        row("client name of invalid UTF-8", raw, false,
            [](const Ctx &) { return hello_frame(SALUS_PROTOCOL_VERSION, "\xff\xfe"); },
            {SALUS_EINVAL, "client name is not valid UTF-8", true}),
        row("client name of 60 KiB", raw, false,
            [](const Ctx &) {
                return hello_frame(SALUS_PROTOCOL_VERSION, std::string(60 * 1024, 'n'));
            },
            {SALUS_EINVAL, "client name of 61440 bytes is over the limit", true}),
        row("Hello naming an unregistered tenant", raw, false,
            [](const Ctx &) { return hello_frame(SALUS_PROTOCOL_VERSION, "hostile", 999); },
            {SALUS_EINVAL, "is not registered", true}),
        row("Hello naming another uid's tenant", raw, true,
            [](const Ctx &) { return hello_frame(SALUS_PROTOCOL_VERSION, "hostile", kRootTenant); },
            {SALUS_EPERM, "belongs to uid 0", true}),
        // Identifiers.
        row("unknown session id", greeted, false,
            [](const Ctx &) {
                return run_frame(987654321, {kX, kZ});
            },
            {SALUS_ENOSESSION, "unknown session 987654321", false}),
        row("another connection's session", greeted, false,
            [](const Ctx &c) {
                return run_frame(c.victim, {kX, kZ});
            },
            {SALUS_ENOSESSION, "unknown session", false}),
        row("another uid's session: an iteration", greeted, true,
            [](const Ctx &c) {
                return run_frame(c.victim, {kX, kZ});
            },
            {SALUS_ENOSESSION, "unknown session", false}),
        row("another uid's session: reading its variables", greeted, true,
            [](const Ctx &c) { return read_frame(c.victim, "w"); },
            {SALUS_ENOSESSION, "unknown session", false}),
        row("another uid's session: closing it", greeted, true,
            [](const Ctx &c) { return close_frame(c.victim); },
            {SALUS_EPERM, "closing another user's session needs root", false}),
        row("an iteration on a closed session", session, false,
            [](const Ctx &c) {
                return cat({close_frame(c.session, kSetupId), run_frame(c.session, {kX, kZ})});
            },
            {SALUS_ENOSESSION, "unknown session", false}),
        row("graph index out of range", session, false,
            [](const Ctx &c) {
                return run_frame(c.session, {kX, kZ}, 7);
            },
            {SALUS_EINVAL, "has no graph 7 (it has 1)", false}),
        // Graphs.
        row("graph without its SLGR identifier", greeted, false,
            [](const Ctx &) {
                Bytes g = graph_bytes(target());
                std::memcpy(g.data() + 4, "XXXX", 4);
                return create_frame(g);
            },
            {SALUS_EGRAPH, "not a salus.ir.Graph buffer", false}),
        row("node input refers to tensor 99", greeted, false,
            create([](RawGraph &g) { g.nodes[0].inputs[1] = 99; }),
            {SALUS_EGRAPH, "refers to tensor 99, which does not exist", false}),
        row("fetch of unknown tensor 77", greeted, false,
            create([](RawGraph &g) { g.outputs = {77}; }),
            {SALUS_EGRAPH, "graph output 0 refers to tensor 77", false}),
        row("cyclic graph", greeted, false, create([](RawGraph &g) { g.nodes[1].inputs[1] = 6; }),
            {SALUS_EGRAPH, "the graph has a cycle", false}),
        row("negative dimension", greeted, false, create([](RawGraph &g) {
                g.tensors[0].shape = {-2, 3};
            }),
            {SALUS_EGRAPH, "[-2, 3] has a non-positive dimension", false}),
        row("zero dimension", greeted, false, create([](RawGraph &g) {
                g.tensors[0].shape = {0, 3};
            }),
            {SALUS_EGRAPH, "has a non-positive dimension", false}),
        row("dimension 2^40", greeted, false, create([](RawGraph &g) {
                g.tensors[0].shape = {int64_t{1} << 40, 3};
            }),
            {SALUS_EGRAPH, "bytes, over the limit of", false}),
        row("shape product overflowing 64 bits", greeted, false, create([](RawGraph &g) {
                const int64_t d = int64_t{1} << 31;
                g.tensors[2].shape = {d, d, d};
            }),
            {SALUS_EGRAPH, "overflows", false}),
        row("rank 9", greeted, false,
            create([](RawGraph &g) { g.tensors[1].shape = std::vector<int64_t>(9, 1); }),
            {SALUS_EGRAPH, "has rank 9, over the maximum of 8", false}),
        row("shape of rank 2^20", greeted, false,
            create([](RawGraph &g) { g.tensors[1].shape = kLongDims; }),
            {SALUS_EGRAPH, "has rank 1048576, over the maximum of 8", false}),
        row("Reshape to a shape of rank 2^20", greeted, false, create([](RawGraph &g) {
                reshape_y(g, {{"shape", ir::AttrType::Ints, 0, 0.0, kLongDims}});
            }),
            {SALUS_EGRAPH, "has rank 1048576, over the maximum of 8", false}),
        row("op not in the schema", greeted, false,
            create([](RawGraph &g) { g.nodes[0].op = "Frobnicate"; }),
            {SALUS_EGRAPH, "unknown op \"Frobnicate\"", false}),
        row("op named by 1 MiB of control characters", greeted, false,
            create([](RawGraph &g) { g.nodes[0].op = std::string(1u << 20, '\x01'); }),
            {SALUS_EGRAPH, "node 0 (\\x01\\x01", false}),
        row("attribute given twice", greeted, false, create([](RawGraph &g) {
                reshape_y(g, {{"shape", ir::AttrType::Ints, 0, 0.0, {4}},
                              {"shape", ir::AttrType::Ints, 0, 0.0, {4}}});
            }),
            {SALUS_EGRAPH, "attribute \"shape\" given twice", false}),
        row("attribute of unknown type 9", greeted, false, create([](RawGraph &g) {
                reshape_y(g, {{"shape", static_cast<ir::AttrType>(9), 0, 0.0, {4}}});
            }),
            {SALUS_EGRAPH, "attribute \"shape\" has unknown type 9", false}),
        row("attribute the op does not have", greeted, false, create([](RawGraph &g) {
                g.nodes[0].attrs = {{"frob", ir::AttrType::Int, 1, 0.0, {}}};
            }),
            {SALUS_EGRAPH, "unknown attribute \"frob\" for MatMul", false}),
        row("a node without outputs", greeted, false,
            create([](RawGraph &g) { g.nodes[0].outputs.clear(); }),
            {SALUS_EGRAPH, "produces 1 output, got 0", false}),
        row("an intermediate no node produces", greeted, false,
            create([](RawGraph &g) { g.tensors.push_back({"orphan"}); }),
            {SALUS_EGRAPH, "intermediate is not produced by any node", false}),
        row("a graph without tensors, nodes or outputs", greeted, false,
            [](const Ctx &) { return create_frame(graph_bytes(RawGraph{})); },
            {SALUS_EGRAPH, "graph has no outputs", false}),
        row("a session larger than the whole pool", greeted, false, create([](RawGraph &g) {
                g.tensors.push_back({"big",
                                     ir::TensorKind::Variable,
                                     ir::DType::F32,
                                     true,
                                     {int64_t{1} << 27},
                                     {}});
            }),
            {SALUS_ERESOURCE, "more than the whole device memory pool", false}),
        row("wrong attribute type", greeted, false, create([](RawGraph &g) {
                reshape_y(g, {{"shape", T::Int, 4, 0.0, {}}});
            }),
            {SALUS_EGRAPH, "attribute \"shape\" is int, expected ints", false}),
        row("missing required attribute", greeted, false,
            create([](RawGraph &g) { reshape_y(g, {}); }),
            {SALUS_EGRAPH, "missing required attribute \"shape\"", false}),
        row("Reshape to dimension 2^40", greeted, false, create([](RawGraph &g) {
                reshape_y(g, {{"shape", T::Ints, 0, 0.0, {int64_t{1} << 40}}});
            }),
            {SALUS_EGRAPH, "Reshape cannot reshape", false}),
        row("Reshape to a shape product overflowing 64 bits", greeted, false,
            create([](RawGraph &g) {
                const int64_t d = int64_t{1} << 31;
                reshape_y(g, {{"shape", T::Ints, 0, 0.0, {d, d, d}}});
            }),
            {SALUS_EGRAPH, "has too many elements", false}),
        row("unknown dtype 42", greeted, false,
            create([](RawGraph &g) { g.tensors[0].dtype = static_cast<ir::DType>(42); }),
            {SALUS_EGRAPH, "unknown dtype 42", false}),
        row("unknown tensor kind 9", greeted, false,
            create([](RawGraph &g) { g.tensors[0].kind = static_cast<ir::TensorKind>(9); }),
            {SALUS_EGRAPH, "unknown kind 9", false}),
        row("dtype an op does not take", greeted, false,
            create([](RawGraph &g) { g.tensors[0].dtype = ir::DType::I64; }),
            {SALUS_EGRAPH, "dtype i64 is not supported by MatMul", false}),
        row("initial data of the wrong size", greeted, false,
            create([](RawGraph &g) { g.tensors[3].data.resize(15); }),
            {SALUS_EGRAPH, "15 bytes of initial data", false}),
        row("a node writing an input", greeted, false,
            create([](RawGraph &g) { g.nodes[0].outputs = {0}; }),
            {SALUS_EGRAPH, "nodes only produce intermediates", false}),
        row("two nodes producing one tensor", greeted, false,
            create([](RawGraph &g) { g.nodes[1].outputs = {4}; }),
            {SALUS_EGRAPH, "is already produced by", false}),
        row("session name of invalid UTF-8", greeted, false, create_named({"\xc3\x28", 0, 1.0}),
            {SALUS_EINVAL, "session name is not valid UTF-8", false}),
        row("session name with a control character", greeted, false, create_named({"a\nb", 0, 1.0}),
            {SALUS_EINVAL, "session name has a control character", false}),
        row("session name of 64 bytes", greeted, false,
            create_named({std::string(64, 's'), 0, 1.0}),
            {SALUS_EINVAL, "session name of 64 bytes is over the limit of 63 bytes", false}),
        row("weight 0", greeted, false, create_named({"w0", 0, 0.0}),
            {SALUS_EINVAL, "weight must be a finite number above 0", false}),
        row("weight NaN", greeted, false,
            create_named({"nan", 0, std::numeric_limits<double>::quiet_NaN()}),
            {SALUS_EINVAL, "weight must be a finite number above 0", false}),
        row("priority above max-priority from a non-admin", greeted, true,
            create_named({"p", std::numeric_limits<int32_t>::max(), 1.0}),
            {SALUS_EPERM, "max-priority", false}),
        row("weight above max-weight from a non-admin", greeted, true, create_named({"w", 0, 1e12}),
            {SALUS_EPERM, "max-weight", false}),
        // Feeds.
        row("feed of the wrong byte size", session, false,
            run({{0, ir::DType::F32, {2, 3}, 20}, kZ}),
            {SALUS_ESHAPE, "needs 24 bytes but was fed 20", false}),
        row("feed of the wrong dtype", session, false, run({{0, ir::DType::I32, {2, 3}, 24}, kZ}),
            {SALUS_ESHAPE, "is f32 but was fed i32", false}),
        row("feed of dimension 2^40", session, false,
            run({{0, ir::DType::F32, {k2p40, 3}, 24}, kZ}),
            {SALUS_ESHAPE, "has shape [2, 3] but was fed", false}),
        row("feed of rank 2^20", session, false, run({{0, ir::DType::F32, kLongDims, 24}, kZ}),
            {SALUS_ESHAPE, "has shape [2, 3] but was fed", false}),
        row("feed of unknown dtype 99", session, false,
            run({{0, static_cast<ir::DType>(99), {2, 3}, 24}, kZ}),
            {SALUS_ESHAPE, "was fed unknown", false}),
        row("feed for a variable", session, false, run({{2, ir::DType::F32, {3, 2}, 24}, kZ}),
            {SALUS_EINVAL, "tensor 2 is not an input", false}),
        row("feed for tensor 4000000000", session, false,
            run({{4000000000u, ir::DType::F32, {2, 3}, 24}, kZ}),
            {SALUS_EINVAL, "tensor 4000000000 is not an input", false}),
        row("one feed missing", session, false, run({kX}),
            {SALUS_EINVAL, "the graph has 2 inputs but 1 were fed", false}),
        row("an input fed twice", session, false, run({kX, kX}),
            {SALUS_EINVAL, "\"x\" is fed twice", false}),
        // Variables.
        row("read of an unknown variable", session, false,
            [](const Ctx &c) { return read_frame(c.session, "nope"); },
            {SALUS_EINVAL, "\"nope\": no variable or constant of that name", false}),
        row("read of a variable named by 1 MiB of invalid UTF-8", session, false,
            [](const Ctx &c) { return read_frame(c.session, std::string(1u << 20, '\xff')); },
            {SALUS_EINVAL, "\\xFF\": no variable or constant of that name", false}),
        row("write of the wrong size", session, false,
            write({{2, ir::DType::F32, {3, 2}, 20, "w"}}),
            {SALUS_ESHAPE, "needs 24 bytes but was fed 20", false}),
        row("write of the wrong shape", session, false,
            write({{2, ir::DType::F32, {k2p31, k2p31}, 24, "w"}}),
            {SALUS_ESHAPE, "has shape [3, 2] but was fed", false}),
        row("write of a constant", session, false, write({{3, ir::DType::F32, {2, 2}, 16, "c"}}),
            {SALUS_EINVAL, "\"c\" is a constant", false}),
        row("a variable written twice in one request", session, false, write({w, w}),
            {SALUS_EINVAL, "\"w\" is written twice", false}),
        row("write of a variable without a name", session, false,
            write({{2, ir::DType::F32, {3, 2}, 24}}),
            {SALUS_EINVAL, "a variable without a name", false}),
        row("write of an ambiguous name", session, false, write({w}),
            {SALUS_EINVAL, "several variables or constants have that name", false}, ambiguous),
        // AddGraph.
        row("a second graph of the same name", session, false,
            [](const Ctx &c) {
                Bytes g = graph_bytes(target());
                return cat({add_graph_frame(c.session, "eval", g, kSetupId),
                            add_graph_frame(c.session, "eval", g)});
            },
            {SALUS_EINVAL, "already has a graph named \"eval\"", false}),
        row("an added graph named with a control character", session, false,
            [](const Ctx &c) {
                return add_graph_frame(c.session, "e\x7fval", graph_bytes(target()));
            },
            {SALUS_EINVAL, "graph name has a control character", false}),
        row("an added graph bringing a new variable", session, false,
            [](const Ctx &c) {
                return add_graph_frame(c.session, "new",
                                       target_with([](RawGraph &g) { g.tensors[2].name = "w2"; }));
            },
            {SALUS_EGRAPH, "cannot bring new ones", false}),
        // Administration.
        row("SetPolicy from a non-admin", greeted, true,
            [](const Ctx &) { return policy_frame("fifo"); },
            {SALUS_EPERM, "changing the policy needs root", false}),
        row("Drain from a non-admin", greeted, true,
            [](const Ctx &) {
                flatbuffers::FlatBufferBuilder fbb;
                return frame_message(fbb, kRowId, wire::Body::Drain,
                                     wire::CreateDrain(fbb, true).Union());
            },
            {SALUS_EPERM, "drain needs root", false}),
        row("SetTenant from a non-admin", greeted, true,
            [](const Ctx &) { return tenant_frame(77, 0); }, {SALUS_EPERM, "needs root", false}),
        row("tenant 0", greeted, false, [](const Ctx &) { return tenant_frame(0, 0); },
            {SALUS_EINVAL, "tenant id 0 is reserved", false}),
        row("moving root's tenant to another uid", greeted, false,
            [](const Ctx &) { return tenant_frame(kRootTenant, 1); },
            {SALUS_EINVAL, "belongs to uid 0, not 1: end it first", false}),
        row("ending an unregistered tenant", greeted, false,
            [](const Ctx &) {
                flatbuffers::FlatBufferBuilder fbb;
                return frame_message(fbb, kRowId, wire::Body::EndTenant,
                                     wire::CreateEndTenant(fbb, 31337).Union());
            },
            {SALUS_EINVAL, "job 31337 is not registered", false}),
        row("unknown policy name", greeted, false,
            [](const Ctx &) { return policy_frame("chaos"); },
            {SALUS_EINVAL, "unknown policy \"chaos\"", false}),
    };
}

// ---- running a row -------------------------------------------------------

// The next message answering the row (its id, or an Error with id 0, the
// daemon's answer to a broken frame); nullptr on end of stream or timeout.
const wire::Message *row_reply(int fd, std::vector<uint64_t> *storage) {
    for (;;) {
        const wire::Message *m = recv_message(fd, storage);
        if (!m || m->id() == kRowId || (m->id() == 0 && m->body_type() == wire::Body::Error))
            return m;
    }
}

// The reply to `request` (id `id`), skipping others.
const wire::Message *exchange(int fd, const Bytes &request, uint64_t id,
                              std::vector<uint64_t> *storage) {
    if (!io_all(fd, const_cast<uint8_t *>(request.data()), request.size(), true)) return nullptr;
    for (;;) {
        const wire::Message *m = recv_message(fd, storage);
        if (!m || m->id() == id) return m;
    }
}

// The connection still answers a GetStatus.
bool serves(int fd) {
    std::vector<uint64_t> storage;
    const wire::Message *m = exchange(fd, status_frame(kStatusId), kStatusId, &storage);
    return m && m->body_type() == wire::Body::StatusReply;
}

// The daemon closes fd (end of stream, no more messages).
bool closed(int fd) {
    uint8_t b;
    ssize_t n = recv(fd, &b, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

// A connection that gives up a read after 5 s; -1 on failure.
int connect_timed(const char *path) {
    int fd = connect_unix(path);
    timeval tv{5, 0};
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

// A connection after Hello, with the frame limit in *max_frame; -1 on failure.
int greet(const char *path, uint32_t *max_frame = nullptr) {
    int fd = connect_timed(path);
    if (fd >= 0 && !say_hello(fd, "hostile", max_frame)) {
        close(fd);
        return -1;
    }
    return fd;
}

// A session of `graph` on fd: its id, or 0 with the error in *why.
uint64_t create_session(int fd, const Bytes &graph, std::string *why) {
    std::vector<uint64_t> storage;
    const wire::Message *m = exchange(fd, create_frame(graph, {}, kSetupId), kSetupId, &storage);
    if (m && m->body_type() == wire::Body::CreateSessionReply) {
        return m->body_as_CreateSessionReply()->session_id();
    }
    const wire::Error *e = m ? m->body_as_Error() : nullptr;
    *why = "cannot create the row's session" + (e ? ": " + e->message()->str() : std::string());
    return 0;
}

struct Result {
    std::string diag; // empty: as expected
    std::string got;  // what the daemon answered
};

std::string describe(const wire::Message *m) {
    const wire::Error *e = m->body_as_Error();
    if (!e) return wire::EnumNameBody(m->body_type());
    return std::string(server::error_code_name(e->code())) + ": " +
           (e->message() ? e->message()->str() : "");
}

Result run_row(const char *path, const Row &row, Ctx ctx) {
    int fd = row.start == Start::Raw ? connect_timed(path) : greet(path);
    if (fd < 0) return {"cannot open the row's connection", ""};
    Result r;
    if (row.start == Start::Session) {
        ctx.session = create_session(fd, graph_bytes(row.graph()), &r.diag);
        if (ctx.session == 0) {
            close(fd);
            return r;
        }
    }
    Bytes bytes = row.bytes(ctx);
    // The daemon may close before reading it all: what it answers counts.
    io_all(fd, bytes.data(), bytes.size(), true);
    if (row.expect.code == 0) shutdown(fd, SHUT_WR);
    std::vector<uint64_t> storage;
    const wire::Message *m = row_reply(fd, &storage);
    r.got = m ? describe(m) : "closed without a reply";
    const wire::Error *e = m ? m->body_as_Error() : nullptr;
    const Expect &x = row.expect;
    if (x.code == 0) {
        if (m) r.diag = "expected the connection closed without a reply";
    } else if (!e) {
        r.diag = std::string("expected ") + server::error_code_name(x.code);
    } else if (e->code() != x.code) {
        r.diag = std::string("expected ") + server::error_code_name(x.code);
    } else if (!e->message() || !std::strstr(e->message()->c_str(), x.text)) {
        r.diag = std::string("the message lacks \"") + x.text + "\"";
    } else if (e->message()->size() > kMaxMessageBytes) {
        r.diag = "a message of " + std::to_string(e->message()->size()) + " bytes";
        r.got.resize(kMaxMessageBytes);
    } else if (x.closes && !closed(fd)) {
        r.diag = "the connection stayed open";
    } else if (!x.closes && !serves(fd)) {
        r.diag = "the connection was not served after the error";
    }
    close(fd);
    return r;
}

// run_row in a child under `uid` (its supplementary groups dropped).
Result run_row_as(uid_t uid, gid_t gid, const char *path, const Row &row, const Ctx &ctx) {
    int p[2];
    if (pipe(p) != 0) return {"pipe failed", ""};
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        Result r{"cannot drop to the other uid", ""};
        if (setgroups(0, nullptr) == 0 && setgid(gid) == 0 && setuid(uid) == 0) {
            r = run_row(path, row, ctx);
        }
        std::string out = r.diag + '\0' + r.got;
        // A pipe, not a socket: write(2), not io_all's send(2).
        for (size_t at = 0; at < out.size();) {
            ssize_t n = write(p[1], out.data() + at, out.size() - at);
            if (n <= 0) break;
            at += static_cast<size_t>(n);
        }
        _exit(0);
    }
    close(p[1]);
    std::string out;
    char buf[512];
    for (ssize_t n; (n = read(p[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    size_t nul = out.find('\0');
    if (nul == std::string::npos) return {"the child reported nothing", ""};
    return {out.substr(0, nul), out.substr(nul + 1)};
}

// The daemon runs and a new connection gets a HelloReply and a StatusReply.
std::string alive(daemon_fixture *d) {
    int status = 0;
    if (daemon_wait_exit(d, 0, &status))
        return "the daemon exited (status " + std::to_string(status) + ")";
    int fd = greet(d->socket_path);
    if (fd < 0) return "a new connection got no HelloReply";
    bool ok = serves(fd);
    close(fd);
    return ok ? "" : "a new connection got no StatusReply";
}

size_t open_fds(pid_t pid) {
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR *d = opendir(dir.c_str());
    if (!d) return 0;
    size_t n = 0;
    while (readdir(d)) ++n;
    closedir(d);
    return n;
}

uint32_t open_sessions(const char *path) {
    int fd = greet(path);
    if (fd < 0) return 0;
    std::vector<uint64_t> storage;
    const wire::Message *m = exchange(fd, status_frame(kStatusId), kStatusId, &storage);
    uint32_t n = m && m->body_as_StatusReply() ? m->body_as_StatusReply()->open_sessions() : 0;
    close(fd);
    return n;
}

// Waits up to 2 s for fn() to hold.
bool eventually(const std::function<bool()> &fn) {
    for (int i = 0; i < 40; ++i) {
        if (fn()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return fn();
}

// Empty when both jobs ran and their losses are the same bits; else why not.
std::string same_losses(const MlpJob &concurrent, const MlpJob &solo) {
    if (!concurrent.error.empty()) return "the concurrent job failed: " + concurrent.error;
    if (!solo.error.empty()) return "the solo job failed: " + solo.error;
    if (concurrent.losses.size() != solo.losses.size()) return "the jobs ran different counts";
    for (size_t i = 0; i < solo.losses.size(); ++i) {
        if (std::memcmp(&concurrent.losses[i], &solo.losses[i], sizeof(float)) != 0) {
            char why[128];
            std::snprintf(why, sizeof why, "iteration %zu: loss %.9g, alone %.9g", i,
                          concurrent.losses[i], solo.losses[i]);
            return why;
        }
    }
    return "";
}

int tap_number = 0;
int failures = 0;

void tap(bool ok, const std::string &name, const std::string &diag, const std::string &note = "") {
    std::printf("%s %d - %s\n", ok ? "ok" : "not ok", ++tap_number, name.c_str());
    if (!note.empty()) std::printf("# %s\n", note.c_str());
    if (!ok) {
        std::printf("# %s\n", diag.c_str());
        ++failures;
    }
    std::fflush(stdout);
}

} // namespace

int main() {
    const std::vector<Row> rows = catalogue();
    std::printf("1..%zu\n", rows.size() + 2);
    const struct passwd *nobody = geteuid() == 0 ? getpwnam("nobody") : nullptr;
    const uid_t other_uid = nobody ? nobody->pw_uid : 0;
    const gid_t other_gid = nobody ? nobody->pw_gid : 0;

    daemon_fixture d{};
    // A small pool, for the row of a session larger than all of it.
    const char *const args[] = {"--pool-bytes", "256M", nullptr};
    if (daemon_start_logged(&d, args) != 0) {
        std::printf("Bail out! salusd did not start\n");
        return 1;
    }
    // Open to the other uid's rows.
    chmod(d.dir, 0755);
    chmod(d.socket_path, 0666);

    // Root's session on a connection of its own, and root's tenant.
    Ctx ctx;
    std::string why;
    int victim_fd = greet(d.socket_path, &ctx.max_frame);
    ctx.victim = victim_fd >= 0 ? create_session(victim_fd, graph_bytes(target()), &why) : 0;
    std::vector<uint64_t> storage;
    const wire::Message *m =
        victim_fd >= 0 ? exchange(victim_fd, tenant_frame(kRootTenant, 0), kRowId, &storage)
                       : nullptr;
    if (ctx.victim == 0 || !m || m->body_type() != wire::Body::SetTenantReply) {
        std::printf("Bail out! cannot set up root's session and tenant %s\n", why.c_str());
        daemon_stop(&d);
        return 1;
    }

    MlpJob concurrent;
    concurrent.socket_path = d.socket_path;
    concurrent.min_iterations = 20;
    std::thread trainer(run_mlp_job, &concurrent);
    while (concurrent.done == 0 && concurrent.error.empty()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const size_t fds_before = open_fds(d.pid);
    const uint64_t done_before = concurrent.done;

    for (const Row &row : rows) {
        if (row.other_uid && !nobody) {
            std::printf("ok %d - %s # SKIP needs root and user nobody\n", ++tap_number, row.name);
            continue;
        }
        Result r = row.other_uid ? run_row_as(other_uid, other_gid, d.socket_path, row, ctx)
                                 : run_row(d.socket_path, row, ctx);
        if (r.diag.empty() && row.expect.code == 0 &&
            daemon_log_contains(&d, row.expect.text, 2000) != 1) {
            r.diag = std::string("the daemon's log lacks \"") + row.expect.text + "\"";
        }
        std::string dead = alive(&d);
        if (r.diag.empty() && !dead.empty()) r.diag = dead;
        tap(r.diag.empty(), row.name, r.diag + " (got " + r.got + ")", r.got);
    }

    // Every row's connection and session went with it.
    const uint64_t during = concurrent.done - done_before;
    size_t fds_after = 0;
    uint32_t sessions = 0;
    bool clean = eventually([&] {
        fds_after = open_fds(d.pid);
        sessions = open_sessions(d.socket_path);
        return fds_after == fds_before && sessions == 2;
    });
    tap(clean, "no connection or session left behind",
        "daemon descriptors " + std::to_string(fds_before) + " -> " + std::to_string(fds_after) +
            ", " + std::to_string(sessions) + " sessions open (expected 2)");

    concurrent.stop = true;
    trainer.join();
    close(victim_fd);
    bool stopped = daemon_stop(&d) == 0;

    // The same job alone on a fresh daemon.
    MlpJob solo;
    solo.stop = true;
    solo.min_iterations = concurrent.losses.size();
    daemon_fixture fresh{};
    if (daemon_start(&fresh, nullptr) == 0) {
        solo.socket_path = fresh.socket_path;
        run_mlp_job(&solo);
        daemon_stop(&fresh);
    } else {
        solo.error = "the solo daemon did not start";
    }
    std::string diag = same_losses(concurrent, solo);
    if (during == 0) diag += "; no iteration ran during the catalogue";
    if (!stopped) diag += "; the daemon did not stop cleanly";
    char note[160];
    std::snprintf(note, sizeof note,
                  "%zu iterations, %llu of them during the catalogue; loss %.6f -> %.6f",
                  concurrent.losses.size(), static_cast<unsigned long long>(during),
                  concurrent.losses.empty() ? 0.0 : concurrent.losses.front(),
                  concurrent.losses.empty() ? 0.0 : concurrent.losses.back());
    tap(diag.empty(), "the concurrent training job's losses equal its solo losses", diag, note);
    return failures == 0 ? 0 : 1;
}
