#include "lanes/move_order.h"

#include <algorithm>
#include <cstddef>

namespace salus::lanes {

std::vector<Move> order_moves(std::vector<Move> relocation) {
    std::vector<Move> down;
    std::vector<Move> up;
    for (const Move &m : relocation) {
        if (m.bytes == 0 || m.src == m.dst) continue;
        (m.dst < m.src ? down : up).push_back(m);
    }
    std::sort(down.begin(), down.end(), [](const Move &a, const Move &b) { return a.src < b.src; });
    std::sort(up.begin(), up.end(), [](const Move &a, const Move &b) { return a.src > b.src; });
    down.insert(down.end(), up.begin(), up.end());
    return down;
}

std::string check_order_preserving(std::vector<Move> relocation) {
    std::sort(relocation.begin(), relocation.end(),
              [](const Move &a, const Move &b) { return a.src < b.src; });
    for (size_t i = 1; i < relocation.size(); ++i) {
        const Move &a = relocation[i - 1];
        const Move &b = relocation[i];
        if (a.src + a.bytes > b.src) return "sources overlap at " + std::to_string(b.src);
        if (a.dst + a.bytes > b.dst) {
            return "destinations overlap or change order at " + std::to_string(b.dst);
        }
    }
    return {};
}

} // namespace salus::lanes
