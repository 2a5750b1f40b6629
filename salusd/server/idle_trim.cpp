#include "server/idle_trim.h"

#include <malloc.h>

namespace salus::server {

void IdleTrim::sessions_left(size_t open, uint64_t now_ns) {
    // At most once a second: a client that opens and closes one session at
    // a time does not pay a trim (a walk over the free memory) each time.
    constexpr uint64_t kMinGapNs = 1'000'000'000;
    if (open > 0 || (last_ns_ != 0 && now_ns - last_ns_ < kMinGapNs)) return;
    last_ns_ = now_ns;
    malloc_trim(0);
}

} // namespace salus::server
