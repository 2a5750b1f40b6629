// Waiting for submitted iterations and turning their outputs into tensors.
#include "session.h"

#include "error.h"
#include "shape.h"
#include "tensor.h"

using namespace salus;
using namespace salus::client;

int salus::client::decode_tensor(Connection *conn, const wire::TensorValue &tv,
                                 const std::string &what, TensorPtr *out) {
    std::vector<int64_t> shape;
    if (tv.shape()) shape.assign(tv.shape()->begin(), tv.shape()->end());
    size_t nbytes = 0;
    int dtype = static_cast<int>(tv.dtype());
    if (shape_nbytes(dtype, shape.data(), shape.size(), what, &nbytes) != SALUS_OK) {
        return fail(conn, SALUS_EPROTO, salus_last_error());
    }
    size_t got = tv.data() ? tv.data()->size() : 0;
    if (got != nbytes) {
        return fail(conn, SALUS_EPROTO,
                    what + " has " + std::to_string(got) + " bytes of data, its shape needs " +
                        std::to_string(nbytes));
    }
    salus_tensor *t = nullptr;
    int rc = make_tensor(static_cast<salus_dtype>(dtype), shape.data(), shape.size(), nbytes,
                         got ? tv.data()->data() : nullptr, &t);
    if (rc != SALUS_OK) return fail(conn, rc, salus_last_error());
    out->reset(t);
    return SALUS_OK;
}

namespace {

int wait(salus_pending *pending, salus_tensor **outputs, size_t n_outputs) {
    Connection *conn = pending->conn.get();
    if (n_outputs != pending->n_outputs) {
        return fail(conn, SALUS_EINVAL,
                    "salus_pending_wait: n_outputs is " + std::to_string(n_outputs) +
                        ", the session has " + std::to_string(pending->n_outputs) + " outputs");
    }
    if (n_outputs > 0 && !outputs) {
        return fail(conn, SALUS_EINVAL, "salus_pending_wait: outputs is NULL");
    }
    if (pending->consumed) {
        return fail(conn, SALUS_EINVAL, "salus_pending_wait: the result was already taken");
    }
    int rc = conn->wait(*pending->slot);
    if (rc != SALUS_OK) return rc;
    // Kept after a failure so that waiting again reports the same error.
    const Reply &reply = *pending->slot->reply;
    rc = conn->check(reply, wire::Body::RunIterationReply, "salus_pending_wait");
    if (rc != SALUS_OK) return rc;

    const auto *msg = reply.message->body_as_RunIterationReply();
    size_t got = msg->outputs() ? msg->outputs()->size() : 0;
    if (got != pending->n_outputs || msg->session_id() != pending->session_id) {
        return fail(conn, SALUS_EPROTO,
                    "salus_pending_wait: a reply for session " + std::to_string(msg->session_id()) +
                        " with " + std::to_string(got) + " outputs; expected session " +
                        std::to_string(pending->session_id) + " with " +
                        std::to_string(pending->n_outputs));
    }
    // All outputs or none: decode everything before writing any.
    std::vector<TensorPtr> decoded;
    decoded.reserve(got);
    for (size_t i = 0; i < got; ++i) {
        decoded.emplace_back(nullptr, salus_tensor_free);
        rc = decode_tensor(conn, *msg->outputs()->Get(static_cast<flatbuffers::uoffset_t>(i)),
                           "output " + std::to_string(i) + " from the daemon", &decoded.back());
        if (rc != SALUS_OK) return rc;
    }
    for (size_t i = 0; i < got; ++i) outputs[i] = decoded[i].release();
    pending->iteration = msg->iteration();
    pending->consumed = true;
    pending->slot->reply.reset(); // the outputs are copied: free the frame
    return SALUS_OK;
}

} // namespace

extern "C" {

int salus_pending_wait(salus_pending *pending, salus_tensor **outputs, size_t n_outputs) {
    return guard(pending ? pending->conn.get() : nullptr, [&]() -> int {
        if (!pending) return fail(SALUS_EINVAL, "salus_pending_wait: pending is NULL");
        return wait(pending, outputs, n_outputs);
    });
}

int salus_pending_ready(const salus_pending *pending) {
    return pending && pending->conn->ready(*pending->slot) ? 1 : 0;
}

int salus_pending_poll(const salus_pending *pending, int timeout_ms) {
    return guard(pending ? pending->conn.get() : nullptr, [&]() -> int {
        if (!pending) return fail(SALUS_EINVAL, "salus_pending_poll: pending is NULL");
        return pending->conn->poll(*pending->slot, timeout_ms) ? 1 : 0;
    });
}

uint64_t salus_pending_iteration(const salus_pending *pending) {
    return pending ? pending->iteration : 0;
}

void salus_pending_free(salus_pending *pending) {
    if (!pending) return;
    // Harmless when the reply already came; otherwise it will be dropped.
    pending->conn->forget(pending->request_id);
    delete pending;
}

} // extern "C"
