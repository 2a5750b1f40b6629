// The daemon's state: its sessions (of every client), its status and policy.
#include "client.h"

#include "error.h"

#include <cstddef>
#include <cstring>
#include <string>

using namespace salus;
using namespace salus::client;

namespace {

// salus_session_info as 0.1 laid it out. 0.2 put client_uid into the padding
// after client_pid: arrays of it must keep their element size and offsets.
struct session_info_0_1 {
    uint64_t session_id;
    char name[64];
    int32_t client_pid;
    uint64_t persistent_bytes;
    uint64_t ephemeral_bytes;
    uint64_t iterations;
    uint32_t pending;
    uint64_t run_ns;
    char state[16];
    uint64_t lane;
    uint64_t declared_iterations;
    int32_t priority;
    double weight;
    uint64_t queueing_ns;
    uint64_t mean_iteration_ns;
    uint64_t admitted_ns;
    uint64_t completed_ns;
};
static_assert(sizeof(salus_session_info) == sizeof(session_info_0_1) &&
                  offsetof(salus_session_info, persistent_bytes) ==
                      offsetof(session_info_0_1, persistent_bytes) &&
                  offsetof(salus_session_info, run_ns) == offsetof(session_info_0_1, run_ns) &&
                  offsetof(salus_session_info, completed_ns) ==
                      offsetof(session_info_0_1, completed_ns),
              "client_uid or tenant changed the layout of salus_session_info: an ABI break");

// Truncated to fit, always NUL-terminated.
void copy_string(char *dst, size_t size, const flatbuffers::String *src) {
    size_t len = src ? std::min<size_t>(src->size(), size - 1) : 0;
    if (len) std::memcpy(dst, src->data(), len);
    dst[len] = '\0';
}

int list(Connection *conn, salus_session_info *infos, size_t max, size_t *count) {
    if (!count) return fail(conn, SALUS_EINVAL, "salus_list_sessions: count is NULL");
    if (max > 0 && !infos) return fail(conn, SALUS_EINVAL, "salus_list_sessions: infos is NULL");
    std::shared_ptr<Slot> slot;
    int rc = request(
        conn, wire::Body::ListSessions, [](auto &fbb) { return wire::CreateListSessions(fbb); },
        wire::Body::ListSessionsReply, "list", &slot);
    if (rc != SALUS_OK) return rc;

    const auto *sessions = slot->reply->message->body_as_ListSessionsReply()->sessions();
    size_t n = sessions ? sessions->size() : 0;
    for (size_t i = 0; i < n && i < max; ++i) {
        const auto *s = sessions->Get(static_cast<flatbuffers::uoffset_t>(i));
        salus_session_info &info = infos[i];
        std::memset(&info, 0, sizeof(info));
        info.session_id = s->session_id();
        copy_string(info.name, sizeof info.name, s->name());
        info.client_pid = s->client_pid();
        info.client_uid = s->client_uid();
        info.persistent_bytes = s->persistent_bytes();
        info.ephemeral_bytes = s->ephemeral_bytes();
        info.iterations = s->iterations();
        info.pending = s->pending();
        info.tenant = s->tenant();
        info.run_ns = s->run_ns();
        copy_string(info.state, sizeof info.state, s->state());
        info.lane = s->lane();
        info.declared_iterations = s->declared_iterations();
        info.priority = s->priority();
        info.weight = s->weight();
        info.queueing_ns = s->queueing_ns();
        info.mean_iteration_ns = s->mean_iteration_ns();
        info.admitted_ns = s->admitted_ns();
        info.completed_ns = s->completed_ns();
    }
    *count = n;
    return SALUS_OK;
}

int set_policy(Connection *conn, const char *policy) {
    if (!policy) return fail(conn, SALUS_EINVAL, "salus_set_policy: policy is NULL");
    std::shared_ptr<Slot> slot;
    return request(
        conn, wire::Body::SetPolicy,
        [&](auto &fbb) { return wire::CreateSetPolicyDirect(fbb, policy); },
        wire::Body::SetPolicyReply, "set policy", &slot);
}

// Asks for the daemon's status; the reply stays in *slot.
int request_status(Connection *conn, std::shared_ptr<Slot> *slot, const wire::StatusReply **out) {
    int rc = request(
        conn, wire::Body::GetStatus, [](auto &fbb) { return wire::CreateGetStatus(fbb); },
        wire::Body::StatusReply, "status", slot);
    if (rc == SALUS_OK) *out = (*slot)->reply->message->body_as_StatusReply();
    return rc;
}

int get_status(Connection *conn, salus_status *out) {
    if (!out) return fail(conn, SALUS_EINVAL, "salus_get_status: out is NULL");
    std::shared_ptr<Slot> slot;
    const wire::StatusReply *r = nullptr;
    int rc = request_status(conn, &slot, &r);
    if (rc != SALUS_OK) return rc;
    salus_status st;
    std::memset(&st, 0, sizeof st);
    copy_string(st.device, sizeof st.device, r->device());
    copy_string(st.policy, sizeof st.policy, r->policy());
    copy_string(st.admission, sizeof st.admission, r->admission());
    st.pool_bytes = r->pool_bytes();
    st.free_bytes = r->free_bytes();
    st.lanes = r->lanes() ? r->lanes()->size() : 0;
    st.open_sessions = r->open_sessions();
    st.queued_sessions = r->queued_sessions() ? r->queued_sessions()->size() : 0;
    st.switches = r->switches();
    st.switch_p50_ns = r->switch_p50_ns();
    st.switch_p99_ns = r->switch_p99_ns();
    *out = st;
    return SALUS_OK;
}

int get_device_info(Connection *conn, salus_device_info *out) {
    if (!out) return fail(conn, SALUS_EINVAL, "salus_get_device_info: info is NULL");
    if (out->version == 0 || out->version > SALUS_DEVICE_INFO_VERSION) {
        return fail(conn, SALUS_EINVAL,
                    "salus_get_device_info: unknown version " + std::to_string(out->version) +
                        " (initialise it with salus_device_info_init)");
    }
    std::shared_ptr<Slot> slot;
    const wire::StatusReply *r = nullptr;
    int rc = request_status(conn, &slot, &r);
    if (rc != SALUS_OK) return rc;
    const wire::DeviceInfo *d = r->device_info();
    if (!d) return fail(conn, SALUS_EPROTO, "the daemon's status has no device information");
    salus_device_info info;
    std::memset(&info, 0, sizeof info);
    info.version = out->version;
    copy_string(info.type, sizeof info.type, d->type());
    copy_string(info.name, sizeof info.name, d->name());
    info.index = d->index();
    info.total_bytes = d->total_bytes();
    info.free_bytes = d->free_bytes();
    info.pool_bytes = r->pool_bytes();
    *out = info;
    return SALUS_OK;
}

int get_hold_stats(Connection *conn, salus_hold_stats *out) {
    if (!out) return fail(conn, SALUS_EINVAL, "salus_get_hold_stats: stats is NULL");
    if (out->version == 0 || out->version > SALUS_HOLD_STATS_VERSION) {
        return fail(conn, SALUS_EINVAL,
                    "salus_get_hold_stats: unknown version " + std::to_string(out->version) +
                        " (initialise it with salus_hold_stats_init)");
    }
    std::shared_ptr<Slot> slot;
    const wire::StatusReply *r = nullptr;
    int rc = request_status(conn, &slot, &r);
    if (rc != SALUS_OK) return rc;
    const wire::HoldCounts *h = r->holds();
    if (!h) return fail(conn, SALUS_EPROTO, "the daemon's status has no hold counts");
    salus_hold_stats stats;
    std::memset(&stats, 0, sizeof stats);
    stats.version = out->version;
    stats.granted = h->granted();
    stats.returned = h->returned();
    stats.expired = h->expired();
    stats.early = h->early();
    stats.held_ns = h->held_ns();
    *out = stats;
    return SALUS_OK;
}

int drain(Connection *conn, bool enable) {
    std::shared_ptr<Slot> slot;
    return request(
        conn, wire::Body::Drain, [&](auto &fbb) { return wire::CreateDrain(fbb, enable); },
        wire::Body::DrainReply, "drain", &slot);
}

int close_session_by_id(Connection *conn, uint64_t session_id) {
    std::shared_ptr<Slot> slot;
    return request(
        conn, wire::Body::CloseSession,
        [&](auto &fbb) { return wire::CreateCloseSession(fbb, session_id); },
        wire::Body::CloseSessionReply, "close session", &slot);
}

int get_draining(Connection *conn, int *draining) {
    if (!draining) return fail(conn, SALUS_EINVAL, "salus_get_draining: draining is NULL");
    std::shared_ptr<Slot> slot;
    const wire::StatusReply *r = nullptr;
    int rc = request_status(conn, &slot, &r);
    if (rc != SALUS_OK) return rc;
    *draining = r->draining() || r->shutting_down() ? 1 : 0;
    return SALUS_OK;
}

int list_lanes(Connection *conn, salus_lane_info *lanes, size_t max, size_t *count) {
    if (!count) return fail(conn, SALUS_EINVAL, "salus_list_lanes: count is NULL");
    if (max > 0 && !lanes) return fail(conn, SALUS_EINVAL, "salus_list_lanes: lanes is NULL");
    std::shared_ptr<Slot> slot;
    const wire::StatusReply *r = nullptr;
    int rc = request_status(conn, &slot, &r);
    if (rc != SALUS_OK) return rc;
    size_t n = r->lanes() ? r->lanes()->size() : 0;
    for (size_t i = 0; i < n && i < max; ++i) {
        const wire::LaneStatus *l = r->lanes()->Get(static_cast<flatbuffers::uoffset_t>(i));
        salus_lane_info &info = lanes[i];
        std::memset(&info, 0, sizeof info);
        info.lane = l->lane();
        info.base = l->base();
        info.capacity = l->capacity();
        info.persistent_bytes = l->persistent_bytes();
        info.ephemeral_bytes = l->ephemeral_bytes();
        info.sessions = l->sessions() ? l->sessions()->size() : 0;
        copy_string(info.stream, sizeof info.stream, l->stream());
    }
    *count = n;
    return SALUS_OK;
}

} // namespace

extern "C" {

int salus_device_info_init(salus_device_info *info, unsigned int version) {
    return guard([&]() -> int {
        if (!info) return fail(SALUS_EINVAL, "salus_device_info_init: info is NULL");
        if (version == 0 || version > SALUS_DEVICE_INFO_VERSION) {
            return fail(SALUS_EINVAL,
                        "salus_device_info_init: unknown version " + std::to_string(version));
        }
        std::memset(info, 0, sizeof *info);
        info->version = version;
        info->index = -1;
        return SALUS_OK;
    });
}

int salus_get_device_info(salus_client *client, salus_device_info *info) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_get_device_info: client is NULL");
        return get_device_info(conn, info);
    });
}

int salus_hold_stats_init(salus_hold_stats *stats, unsigned int version) {
    return guard([&]() -> int {
        if (!stats) return fail(SALUS_EINVAL, "salus_hold_stats_init: stats is NULL");
        if (version == 0 || version > SALUS_HOLD_STATS_VERSION) {
            return fail(SALUS_EINVAL,
                        "salus_hold_stats_init: unknown version " + std::to_string(version));
        }
        std::memset(stats, 0, sizeof *stats);
        stats->version = version;
        return SALUS_OK;
    });
}

int salus_get_hold_stats(salus_client *client, salus_hold_stats *stats) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_get_hold_stats: client is NULL");
        return get_hold_stats(conn, stats);
    });
}

int salus_list_lanes(salus_client *client, salus_lane_info *lanes, size_t max, size_t *count) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_list_lanes: client is NULL");
        return list_lanes(conn, lanes, max, count);
    });
}

int salus_drain(salus_client *client, int enable) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_drain: client is NULL");
        return drain(conn, enable != 0);
    });
}

int salus_close_session_by_id(salus_client *client, uint64_t session_id) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_close_session_by_id: client is NULL");
        return close_session_by_id(conn, session_id);
    });
}

int salus_get_draining(salus_client *client, int *draining) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_get_draining: client is NULL");
        return get_draining(conn, draining);
    });
}

int salus_set_policy(salus_client *client, const char *policy) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_set_policy: client is NULL");
        return set_policy(conn, policy);
    });
}

int salus_get_status(salus_client *client, salus_status *out) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_get_status: client is NULL");
        return get_status(conn, out);
    });
}

int salus_list_sessions(salus_client *client, salus_session_info *infos, size_t max,
                        size_t *count) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_list_sessions: client is NULL");
        return list(conn, infos, max, count);
    });
}

} // extern "C"
