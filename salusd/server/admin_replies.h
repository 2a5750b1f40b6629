// Replies that report the daemon's state: session listings, status, policy.
#pragma once

#include "server/access.h"
#include "server/engine.h"
#include "server/replies.h"
#include "server/session.h"
#include "server/tenants.h"

#include <deque>
#include <optional>
#include <string>

namespace salus::server {

// What a listing says of one session; kept after it closes for the history.
struct SessionReport {
    uint64_t id = 0;
    std::string name;
    int client_pid = 0;
    uint32_t client_uid = 0;
    uint32_t tenant = 0;
    sched::SessionParams params;
    std::string state;
    std::optional<uint64_t> lane;
    uint64_t iterations = 0;
    uint32_t pending = 0;
    uint64_t run_ns = 0;
    uint64_t queueing_ns = 0;
    uint64_t mean_iteration_ns = 0;
    uint64_t admitted_ns = 0;
    uint64_t completed_ns = 0;
};

SessionReport report_session(const Session &session, Engine &engine);
// Open sessions, then the closed ones kept in `history`: those `visible`
// shows.
Reply list_sessions_reply(uint64_t request_id, const SessionTable &sessions,
                          const std::deque<SessionReport> &history, Engine &engine,
                          Visibility visible);
// Whether the daemon admits new sessions.
struct AdmissionState {
    bool draining = false;
    bool shutting_down = false;
};

// The lanes and the admission queue name only the sessions `visible`
// shows; the count of open sessions is of every session.
Reply status_reply(uint64_t request_id, const Device &device, Engine &engine,
                   const SessionTable &sessions, AdmissionState admission, Visibility visible);
Reply drain_reply(uint64_t request_id, bool draining, bool previous, uint32_t open_sessions);
Reply set_tenant_reply(uint64_t request_id, const Tenant &tenant, bool created);
Reply end_tenant_reply(uint64_t request_id, uint32_t tenant, uint32_t closed_sessions,
                       uint64_t freed_bytes);
// The tenants `visible` shows (an administrator: all; others: their own).
Reply list_tenants_reply(uint64_t request_id, const TenantTable &tenants,
                         const Visibility &visible);
Reply set_policy_reply(uint64_t request_id, sched::Policy policy, sched::Policy previous);

} // namespace salus::server
