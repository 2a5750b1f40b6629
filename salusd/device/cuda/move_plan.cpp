#include "device/cuda/move_plan.h"

#include <algorithm>

namespace salus::cuda {

bool plan_device_move(uint64_t dst, uint64_t src, uint64_t bytes, size_t max_copies,
                      std::vector<Copy> *copies) {
    copies->clear();
    if (bytes == 0 || dst == src) return true;
    const uint64_t distance = dst > src ? dst - src : src - dst;
    if (distance >= bytes) {
        copies->push_back({dst, src, bytes});
        return true;
    }
    const uint64_t count = (bytes + distance - 1) / distance;
    if (count > max_copies) return false;
    // Moving down, go front to back: chunk i overwrites only the source of
    // chunk i - 1, already copied. Moving up, back to front, symmetrically.
    for (uint64_t i = 0; i < count; ++i) {
        const uint64_t chunk = dst < src ? i : count - 1 - i;
        const uint64_t begin = chunk * distance;
        const uint64_t n = std::min(distance, bytes - begin);
        copies->push_back({dst + begin, src + begin, n});
    }
    return true;
}

} // namespace salus::cuda
