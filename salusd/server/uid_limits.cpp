#include "server/uid_limits.h"

#include "server/log.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace salus::server {

void UidCounter::remove(uint32_t uid) {
    auto it = counts_.find(uid);
    if (it == counts_.end()) return;
    if (--it->second == 0) counts_.erase(it);
}

uint32_t UidCounter::count(uint32_t uid) const {
    auto it = counts_.find(uid);
    return it == counts_.end() ? 0 : it->second;
}

void RefusalLog::refused(uint32_t uid, uint64_t now_ns, const std::string &message) {
    Entry &e = entries_[uid];
    if (e.logged && now_ns - e.logged_ns < kIntervalNs) {
        ++e.suppressed;
        return;
    }
    if (e.suppressed > 0) {
        SALUS_LOG_WARNING("uid %u refused: %s; %llu more refusals of it not logged", uid,
                          message.c_str(), static_cast<unsigned long long>(e.suppressed));
    } else {
        SALUS_LOG_WARNING("uid %u refused: %s", uid, message.c_str());
    }
    e.logged = true;
    e.logged_ns = now_ns;
    e.suppressed = 0;
}

uint64_t raise_fd_limit() {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t before = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
            SALUS_LOG_WARNING("cannot raise the open file limit from %llu to %llu: %s",
                              static_cast<unsigned long long>(before),
                              static_cast<unsigned long long>(rl.rlim_max), std::strerror(errno));
            rl.rlim_cur = before;
        }
    }
    return rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur;
}

} // namespace salus::server
