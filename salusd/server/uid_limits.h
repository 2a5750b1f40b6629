// Per-uid accounting for the connection and session limits, and the log
// of refusals, rate-limited so that a flood does not flood the log.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace salus::server {

// Counts per uid: a uid with none has no entry.
class UidCounter {
  public:
    void add(uint32_t uid) { ++counts_[uid]; }
    void remove(uint32_t uid);
    uint32_t count(uint32_t uid) const;

  private:
    std::map<uint32_t, uint32_t> counts_;
};

// Logs a refusal of `uid` at most once per interval, with how many were
// refused since the previous line.
class RefusalLog {
  public:
    static constexpr uint64_t kIntervalNs = 10'000'000'000ull;
    void refused(uint32_t uid, uint64_t now_ns, const std::string &message);

  private:
    struct Entry {
        uint64_t logged_ns = 0;
        uint64_t suppressed = 0;
        bool logged = false;
    };
    std::map<uint32_t, Entry> entries_;
};

// Raises the soft RLIMIT_NOFILE to the hard limit, so that the daemon can
// hold as many connections as the system lets it; returns the soft limit.
uint64_t raise_fd_limit();

} // namespace salus::server
