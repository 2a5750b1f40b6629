// Gives the allocator's free memory back to the system when the last session
// closes. Clients come and go in bursts served by several threads; glibc
// keeps what they freed in its heaps, so an idle daemon would otherwise keep
// the RSS of its busiest moment (about 1 MiB more after 64 clients, though
// nothing of it is in use: tests/service/test_load.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace salus::server {

class IdleTrim {
  public:
    // Loop thread, after a session closed: `open` sessions are left.
    void sessions_left(size_t open, uint64_t now_ns);

  private:
    uint64_t last_ns_ = 0; // of the last trim; 0: none yet
};

} // namespace salus::server
