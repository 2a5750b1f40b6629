#include "server/tenants.h"

#include "server/connection.h"

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <iterator>

namespace salus::server {

namespace {

// Budgets are read by people: "8 GiB", "7.5 GiB", "300 MiB", "512 B".
std::string human_size(uint64_t bytes) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    size_t u = 0;
    while (value >= 1024.0 && u + 1 < std::size(units)) {
        value /= 1024.0;
        ++u;
    }
    char buf[32];
    if (u == 0 || value == std::floor(value)) {
        std::snprintf(buf, sizeof buf, "%.0f %s", value, units[u]);
    } else {
        std::snprintf(buf, sizeof buf, "%.1f %s", value, units[u]);
    }
    return buf;
}

} // namespace

std::string tenant_name(uint32_t id) {
    return "job " + std::to_string(id);
}

Status TenantTable::set(const Tenant &t, bool *created) {
    if (t.id == 0) return Status(SALUS_EINVAL, "tenant id 0 is reserved for \"no tenant\"");
    if (!(t.weight > 0.0) || !std::isfinite(t.weight)) {
        return Status(SALUS_EINVAL, tenant_name(t.id) + ": weight must be a finite number above 0");
    }
    auto it = tenants_.find(t.id);
    *created = it == tenants_.end();
    if (*created) {
        Tenant fresh = t;
        fresh.used_bytes = 0;
        fresh.sessions = 0;
        tenants_.emplace(t.id, fresh);
        return {};
    }
    Tenant &old = it->second;
    if (old.uid != t.uid) {
        return Status(SALUS_EINVAL, tenant_name(t.id) + " belongs to uid " +
                                        std::to_string(old.uid) + ", not " + std::to_string(t.uid) +
                                        ": end it first");
    }
    old.budget_bytes = t.budget_bytes;
    old.priority = t.priority;
    old.weight = t.weight;
    return {};
}

Tenant *TenantTable::find(uint32_t id) {
    auto it = tenants_.find(id);
    return it == tenants_.end() ? nullptr : &it->second;
}

Status TenantTable::check_client(uint32_t id, uint32_t uid) const {
    auto it = tenants_.find(id);
    if (it == tenants_.end()) {
        return Status(SALUS_EINVAL, tenant_name(id) +
                                        " is not registered with salusd (ended, or its "
                                        "prolog or SPANK plugin did not run)");
    }
    if (it->second.uid != uid) {
        return Status(SALUS_EPERM, tenant_name(id) + " belongs to uid " +
                                       std::to_string(it->second.uid) + ", not to uid " +
                                       std::to_string(uid));
    }
    return {};
}

Status TenantTable::charge(uint32_t id, uint64_t bytes) {
    Tenant *t = find(id);
    if (!t) return Status(SALUS_ENOSESSION, tenant_name(id) + " has ended");
    if (bytes > t->budget_bytes || t->used_bytes > t->budget_bytes - bytes) {
        return Status(SALUS_ERESOURCE, tenant_name(id) + "'s budget of " +
                                           human_size(t->budget_bytes) + ": " +
                                           human_size(t->used_bytes) +
                                           " in use, this session needs " + human_size(bytes));
    }
    t->used_bytes += bytes;
    ++t->sessions;
    return {};
}

void TenantTable::release(uint32_t id, uint64_t bytes) {
    Tenant *t = find(id);
    if (!t) return;
    t->used_bytes -= std::min(bytes, t->used_bytes);
    if (t->sessions > 0) --t->sessions;
}

} // namespace salus::server
