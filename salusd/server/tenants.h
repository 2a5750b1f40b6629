// Tenants: cluster jobs (a Slurm job id) that an administrator registers with
// a user, a memory budget, a priority and a weight. A client names its tenant
// in Hello; the sessions it opens are charged to the tenant, whose budget
// bounds the sum of their P + T. Loop thread only.
#pragma once

#include "common/status.h"

#include <cstdint>
#include <map>
#include <string>

namespace salus::server {

class Connection;

struct Tenant {
    uint32_t id = 0; // not 0
    uint32_t uid = 0;
    uint64_t budget_bytes = 0;
    int32_t priority = 0;
    double weight = 1.0;
    uint64_t used_bytes = 0; // P + T of its sessions, admitted or queued
    uint32_t sessions = 0;
};

// "job 42", as errors and logs name a tenant.
std::string tenant_name(uint32_t id);

class TenantTable {
  public:
    // Creates or updates the tenant `t.id` (its usage is kept); *created
    // says which. SALUS_EINVAL for id 0, a weight that is not above 0, or
    // another uid than the existing tenant's.
    Status set(const Tenant &t, bool *created);
    // nullptr when there is no such tenant.
    Tenant *find(uint32_t id);
    const std::map<uint32_t, Tenant> &all() const { return tenants_; }
    // Removes the tenant; its sessions must have been released first.
    void erase(uint32_t id) { tenants_.erase(id); }

    // Whether a client of `uid` may name tenant `id` in Hello: SALUS_EINVAL
    // when it is not registered, SALUS_EPERM when it is another user's.
    Status check_client(uint32_t id, uint32_t uid) const;
    // Charges a session of `bytes` (P + T) to the tenant, or refuses it with
    // SALUS_ERESOURCE naming the budget; SALUS_ENOSESSION when it ended.
    Status charge(uint32_t id, uint64_t bytes);
    // Returns what charge() took; nothing when the tenant has ended.
    void release(uint32_t id, uint64_t bytes);

  private:
    std::map<uint32_t, Tenant> tenants_;
};

} // namespace salus::server
