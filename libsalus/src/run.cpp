// Submitting iterations: salus_session_submit and salus_session_run.
#include "session.h"

#include "error.h"
#include "tensor.h"

using namespace salus;
using namespace salus::client;

namespace {

// More than the message bytes besides tensor data and shapes: tables,
// vtables, offsets and alignment padding.
constexpr size_t kPerTensorBytes = 128;
constexpr size_t kEnvelopeBytes = 256;

int submit(salus_session *session, uint32_t graph, const uint32_t *input_ids,
           const salus_tensor *const *inputs, size_t n_inputs, salus_pending **out) {
    Connection *conn = session->conn.get();
    if (!out) return fail(conn, SALUS_EINVAL, "salus_session_submit: out is NULL");
    if (graph >= session->graph_count()) {
        return fail(conn, SALUS_EINVAL,
                    "salus_session_submit: the session has no graph " + std::to_string(graph));
    }
    if (n_inputs > 0 && (!input_ids || !inputs)) {
        return fail(conn, SALUS_EINVAL, "salus_session_submit: input_ids or inputs is NULL");
    }
    // Refused early when the data alone is over the frame limit, or when the
    // message could reach the 2 GiB at which flatbuffers aborts. The exact
    // frame size is checked on sending.
    size_t data_bytes = 0, bound = kEnvelopeBytes;
    const size_t limit = conn->max_frame_bytes();
    for (size_t i = 0; i < n_inputs; ++i) {
        if (!inputs[i]) {
            return fail(conn, SALUS_EINVAL,
                        "salus_session_submit: inputs[" + std::to_string(i) + "] is NULL");
        }
        data_bytes += inputs[i]->nbytes;
        bound += inputs[i]->nbytes + 8 * inputs[i]->shape.size() + kPerTensorBytes;
        if (data_bytes > limit || bound >= FLATBUFFERS_MAX_BUFFER_SIZE) {
            return fail(conn, SALUS_ETOOBIG,
                        "salus_session_submit: the inputs are over the daemon's frame limit of " +
                            std::to_string(limit) + " bytes");
        }
    }

    flatbuffers::FlatBufferBuilder fbb(bound);
    std::vector<flatbuffers::Offset<wire::TensorValue>> values;
    values.reserve(n_inputs);
    for (size_t i = 0; i < n_inputs; ++i) {
        const salus_tensor &t = *inputs[i];
        auto shape = fbb.CreateVector(t.shape);
        // The daemon reads fed data in place: align it for any element type.
        fbb.ForceVectorAlignment(t.nbytes, 1, 16);
        auto data = fbb.CreateVector(t.bytes, t.nbytes);
        values.push_back(wire::CreateTensorValue(fbb, input_ids[i], static_cast<ir::DType>(t.dtype),
                                                 shape, data));
    }
    uint64_t id = conn->next_id();
    auto body = wire::CreateRunIteration(fbb, session->id, fbb.CreateVector(values), graph);
    wire::FinishMessageBuffer(fbb,
                              wire::CreateMessage(fbb, id, wire::Body::RunIteration, body.Union()));

    auto pending = std::make_unique<salus_pending>();
    pending->conn = session->conn;
    pending->request_id = id;
    pending->session_id = session->id;
    pending->n_outputs = session->output_count(graph);
    int rc = conn->send(id, fbb.GetBufferPointer(), fbb.GetSize(), &pending->slot);
    if (rc != SALUS_OK) return rc;
    *out = pending.release();
    return SALUS_OK;
}

} // namespace

extern "C" {

int salus_session_submit_graph(salus_session *session, uint32_t graph, const uint32_t *input_ids,
                               const salus_tensor *const *inputs, size_t n_inputs,
                               salus_pending **out) {
    return guard(session ? session->conn.get() : nullptr, [&]() -> int {
        if (!session) return fail(SALUS_EINVAL, "salus_session_submit: session is NULL");
        return submit(session, graph, input_ids, inputs, n_inputs, out);
    });
}

int salus_session_submit(salus_session *session, const uint32_t *input_ids,
                         const salus_tensor *const *inputs, size_t n_inputs, salus_pending **out) {
    return salus_session_submit_graph(session, 0, input_ids, inputs, n_inputs, out);
}

int salus_session_run_graph(salus_session *session, uint32_t graph, const uint32_t *input_ids,
                            const salus_tensor *const *inputs, size_t n_inputs,
                            salus_tensor **outputs, size_t n_outputs) {
    Connection *conn = session ? session->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!session) return fail(SALUS_EINVAL, "salus_session_run: session is NULL");
        // Checked before anything runs, so a wrong call costs no iteration.
        const size_t expected = session->output_count(graph);
        if (n_outputs != expected) {
            return fail(conn, SALUS_EINVAL,
                        "salus_session_run: n_outputs is " + std::to_string(n_outputs) +
                            ", graph " + std::to_string(graph) + " of the session has " +
                            std::to_string(expected) + " outputs");
        }
        if (n_outputs > 0 && !outputs) {
            return fail(conn, SALUS_EINVAL, "salus_session_run: outputs is NULL");
        }
        salus_pending *pending = nullptr;
        int rc = submit(session, graph, input_ids, inputs, n_inputs, &pending);
        if (rc != SALUS_OK) return rc;
        rc = salus_pending_wait(pending, outputs, n_outputs);
        salus_pending_free(pending);
        return rc;
    });
}

int salus_session_run(salus_session *session, const uint32_t *input_ids,
                      const salus_tensor *const *inputs, size_t n_inputs, salus_tensor **outputs,
                      size_t n_outputs) {
    return salus_session_run_graph(session, 0, input_ids, inputs, n_inputs, outputs, n_outputs);
}

} // extern "C"
