// Tenants: registering, updating, ending and listing cluster jobs' budgets.
#include "client.h"

#include "error.h"

#include <cstring>
#include <string>

using namespace salus;
using namespace salus::client;

namespace {

bool known_version(unsigned int version) {
    return version != 0 && version <= SALUS_TENANT_VERSION;
}

int set_tenant(Connection *conn, const salus_tenant *t, int *created) {
    if (!t) return fail(conn, SALUS_EINVAL, "salus_set_tenant: tenant is NULL");
    if (!known_version(t->version)) {
        return fail(conn, SALUS_EINVAL,
                    "salus_set_tenant: unknown version " + std::to_string(t->version) +
                        " (initialise it with salus_tenant_init)");
    }
    if (t->id == 0) return fail(conn, SALUS_EINVAL, "salus_set_tenant: tenant id 0 is reserved");
    std::shared_ptr<Slot> slot;
    int rc = request(
        conn, wire::Body::SetTenant,
        [&](auto &fbb) {
            return wire::CreateSetTenant(fbb,
                                         wire::CreateTenantInfo(fbb, t->id, t->uid, t->budget_bytes,
                                                                t->priority, t->weight));
        },
        wire::Body::SetTenantReply, "set tenant", &slot);
    if (rc != SALUS_OK) return rc;
    if (created) *created = slot->reply->message->body_as_SetTenantReply()->created() ? 1 : 0;
    return SALUS_OK;
}

int end_tenant(Connection *conn, uint32_t tenant, uint32_t *closed_sessions) {
    std::shared_ptr<Slot> slot;
    int rc = request(
        conn, wire::Body::EndTenant, [&](auto &fbb) { return wire::CreateEndTenant(fbb, tenant); },
        wire::Body::EndTenantReply, "end tenant", &slot);
    if (rc != SALUS_OK) return rc;
    if (closed_sessions) {
        *closed_sessions = slot->reply->message->body_as_EndTenantReply()->closed_sessions();
    }
    return SALUS_OK;
}

int list_tenants(Connection *conn, salus_tenant *tenants, size_t max, size_t *count) {
    if (!count) return fail(conn, SALUS_EINVAL, "salus_list_tenants: count is NULL");
    if (max > 0 && !tenants) return fail(conn, SALUS_EINVAL, "salus_list_tenants: tenants is NULL");
    if (max > 0 && !known_version(tenants[0].version)) {
        return fail(conn, SALUS_EINVAL,
                    "salus_list_tenants: unknown version " + std::to_string(tenants[0].version) +
                        " (initialise the entries with salus_tenant_init)");
    }
    std::shared_ptr<Slot> slot;
    int rc = request(
        conn, wire::Body::ListTenants, [](auto &fbb) { return wire::CreateListTenants(fbb); },
        wire::Body::ListTenantsReply, "list tenants", &slot);
    if (rc != SALUS_OK) return rc;
    const auto *list = slot->reply->message->body_as_ListTenantsReply()->tenants();
    size_t n = list ? list->size() : 0;
    for (size_t i = 0; i < n && i < max; ++i) {
        const wire::TenantInfo *w = list->Get(static_cast<flatbuffers::uoffset_t>(i));
        salus_tenant &t = tenants[i];
        std::memset(&t, 0, sizeof t);
        t.version = tenants[0].version;
        t.id = w->tenant();
        t.uid = w->uid();
        t.priority = w->priority();
        t.budget_bytes = w->budget_bytes();
        t.weight = w->weight();
        t.used_bytes = w->used_bytes();
        t.sessions = w->sessions();
    }
    *count = n;
    return SALUS_OK;
}

} // namespace

extern "C" {

int salus_tenant_init(salus_tenant *tenant, unsigned int version) {
    return guard([&]() -> int {
        if (!tenant) return fail(SALUS_EINVAL, "salus_tenant_init: tenant is NULL");
        if (!known_version(version)) {
            return fail(SALUS_EINVAL,
                        "salus_tenant_init: unknown version " + std::to_string(version));
        }
        std::memset(tenant, 0, sizeof *tenant);
        tenant->version = version;
        tenant->weight = 1.0;
        return SALUS_OK;
    });
}

int salus_set_tenant(salus_client *client, const salus_tenant *tenant, int *created) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_set_tenant: client is NULL");
        return set_tenant(conn, tenant, created);
    });
}

int salus_end_tenant(salus_client *client, uint32_t id, uint32_t *closed_sessions) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_end_tenant: client is NULL");
        return end_tenant(conn, id, closed_sessions);
    });
}

int salus_list_tenants(salus_client *client, salus_tenant *tenants, size_t max, size_t *count) {
    Connection *conn = client ? client->conn.get() : nullptr;
    return guard(conn, [&]() -> int {
        if (!client) return fail(SALUS_EINVAL, "salus_list_tenants: client is NULL");
        return list_tenants(conn, tenants, max, count);
    });
}

} // extern "C"
