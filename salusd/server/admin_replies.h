// Replies that report the daemon's state: session listings, status, policy.
#pragma once

#include "server/engine.h"
#include "server/replies.h"
#include "server/session.h"

#include <string>

namespace salus::server {

Reply list_sessions_reply(uint64_t request_id, const SessionTable &sessions, Engine &engine);
Reply status_reply(uint64_t request_id, const std::string &device, Engine &engine,
                   size_t open_sessions);
Reply set_policy_reply(uint64_t request_id, sched::Policy policy, sched::Policy previous);

} // namespace salus::server
