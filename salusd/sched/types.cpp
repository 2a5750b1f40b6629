#include "sched/types.h"

namespace salus::sched {

const char *policy_name(Policy policy) {
    switch (policy) {
    case Policy::fifo:
        return "fifo";
    case Policy::srtf:
        return "srtf";
    case Policy::pack:
        return "pack";
    case Policy::fair:
        return "fair";
    case Policy::priority:
        return "priority";
    }
    return "unknown";
}

std::optional<Policy> parse_policy(std::string_view name) {
    for (Policy policy : kAllPolicies) {
        if (name == policy_name(policy)) return policy;
    }
    return std::nullopt;
}

const char *session_state_name(SessionState state) {
    switch (state) {
    case SessionState::queued:
        return "queued";
    case SessionState::ready:
        return "ready";
    case SessionState::waiting:
        return "waiting";
    case SessionState::running:
        return "running";
    case SessionState::closing:
        return "closing";
    case SessionState::closed:
        return "closed";
    }
    return "unknown";
}

const char *hold_end_name(HoldEnd why) {
    switch (why) {
    case HoldEnd::returned:
        return "returned";
    case HoldEnd::expired:
        return "expired";
    case HoldEnd::early:
        return "early";
    }
    return "unknown";
}

} // namespace salus::sched
