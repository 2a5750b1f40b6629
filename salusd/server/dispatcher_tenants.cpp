// The tenant requests of the Dispatcher: registering, updating, ending and
// listing tenants, and charging sessions to them.
#include "server/dispatcher.h"

#include "server/log.h"

#include <set>

namespace salus::server {

namespace {

using ull = unsigned long long;

} // namespace

Status Dispatcher::charge_tenant(const Connection &c, sched::SessionParams *params) {
    if (c.tenant == 0) return {};
    // The tenant may have ended, or been registered anew, since the Hello.
    SALUS_RETURN_IF_ERROR(tenants_.check_client(c.tenant, c.peer_uid()));
    SALUS_RETURN_IF_ERROR(
        tenants_.charge(c.tenant, params->persistent_bytes + params->ephemeral_bytes));
    // The job's priority and weight are the operator's word: they replace
    // what the session asked for.
    const Tenant &t = *tenants_.find(c.tenant);
    params->priority = t.priority;
    params->weight = t.weight;
    return {};
}

void Dispatcher::on_set_tenant(Connection &c, uint64_t id, const wire::SetTenant &request) {
    if (Status st = access_.require_admin(c.peer(), "registering a tenant"); !st.ok()) {
        c.send_error(id, st.code(), st.message());
        return;
    }
    const wire::TenantInfo &info = *request.tenant();
    Tenant t;
    t.id = info.tenant();
    t.uid = info.uid();
    t.budget_bytes = info.budget_bytes();
    t.priority = info.priority();
    t.weight = info.weight();
    bool created = false;
    if (Status st = tenants_.set(t, &created); !st.ok()) {
        c.send_error(id, st.code(), st.message());
        return;
    }
    const Tenant &now = *tenants_.find(t.id);
    SALUS_LOG_INFO("%s %s: uid %u, budget %llu bytes, priority %d, weight %g (connection %llu, "
                   "pid %d)",
                   tenant_name(t.id).c_str(), created ? "registered" : "updated", now.uid,
                   static_cast<ull>(now.budget_bytes), now.priority, now.weight,
                   static_cast<ull>(c.id()), c.peer_pid());
    c.send(set_tenant_reply(id, now, created));
}

void Dispatcher::on_end_tenant(Connection &c, uint64_t id, const wire::EndTenant &request) {
    if (Status st = access_.require_admin(c.peer(), "ending a tenant"); !st.ok()) {
        c.send_error(id, st.code(), st.message());
        return;
    }
    uint32_t tenant = request.tenant();
    if (!tenants_.find(tenant)) {
        c.send_error(id, SALUS_EINVAL, tenant_name(tenant) + " is not registered");
        return;
    }
    // The job's processes may be gone or stopped: its sessions close here and
    // now, with the connections that opened them, rather than when a client
    // notices. Connections of the tenant without a session find it ended at
    // their next CreateSession.
    std::set<Connection *> connections;
    uint32_t closed = 0;
    uint64_t freed = 0;
    for (const auto &[session_id, session] : sessions_) {
        if (session->tenant != tenant || session->closed()) continue;
        connections.insert(session->owner);
        ++closed;
        freed += session->charged_bytes;
    }
    const std::string why = tenant_name(tenant) + " ended: its sessions are closed";
    for (Connection *owner : connections) {
        drop_connection(*owner);
        owner->fail(0, SALUS_ESHUTDOWN, why);
    }
    tenants_.erase(tenant);
    SALUS_LOG_INFO("%s ended: %u session%s closed, %llu bytes freed (connection %llu, pid %d)",
                   tenant_name(tenant).c_str(), closed, closed == 1 ? "" : "s",
                   static_cast<ull>(freed), static_cast<ull>(c.id()), c.peer_pid());
    c.send(end_tenant_reply(id, tenant, closed, freed));
}

void Dispatcher::on_list_tenants(Connection &c, uint64_t id) {
    c.send(list_tenants_reply(id, tenants_, access_.visibility(c.peer())));
}

} // namespace salus::server
