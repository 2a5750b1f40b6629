#include "sched/policy_keys.h"

#include <limits>

namespace salus::sched {

double srtf_remaining_ns(const SessionStats &stats) {
    const uint64_t declared = stats.params.declared_iterations;
    const uint64_t done = stats.iterations_done;
    if (declared == 0 || done >= declared) return std::numeric_limits<double>::infinity();
    if (done == 0) return 0;
    // In double: remaining x run time could overflow 64 bits.
    return static_cast<double>(declared - done) * static_cast<double>(stats.run_ns) /
           static_cast<double>(done);
}

double attained_service(const SessionStats &stats) {
    return static_cast<double>(stats.run_ns) / stats.params.weight;
}

ReadyKey ready_key(Policy policy, const SessionRecord &session) {
    return ready_key(policy, session, session.ready_seq);
}

ReadyKey ready_key(Policy policy, const SessionRecord &session, uint64_t ready_seq) {
    switch (policy) {
    case Policy::srtf:
        return {srtf_remaining_ns(session.stats), session.admission_seq};
    case Policy::fair:
        return {attained_service(session.stats), session.admission_seq};
    case Policy::priority:
        return {-static_cast<double>(session.stats.params.priority), ready_seq};
    case Policy::fifo: // fifo decides globally; lanes keep round-robin order meanwhile
    case Policy::pack:
        break;
    }
    return {0, ready_seq};
}

} // namespace salus::sched
