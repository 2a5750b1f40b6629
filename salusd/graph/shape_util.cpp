#include "graph/shape_util.h"

#include <algorithm>

namespace salus {

bool broadcast_shapes(const Shape &a, const Shape &b, Shape *out) {
    const size_t rank = std::max(a.size(), b.size());
    Shape result(rank);
    for (size_t i = 0; i < rank; ++i) {
        // Walk from the last dimension; a missing dimension acts as 1.
        const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
        const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
        if (da != db && da != 1 && db != 1) return false;
        result[rank - 1 - i] = da == 1 ? db : da;
    }
    *out = std::move(result);
    return true;
}

bool broadcasts_to(const Shape &from, const Shape &to) {
    Shape result;
    return from.size() <= to.size() && broadcast_shapes(from, to, &result) && result == to;
}

int64_t normalize_axis(int64_t axis, size_t rank) {
    const auto r = static_cast<int64_t>(rank);
    if (axis < -r || axis >= r) return -1;
    return axis < 0 ? axis + r : axis;
}

bool checked_num_elements(const Shape &shape, int64_t *out) {
    int64_t n = 1;
    for (int64_t d : shape) {
        if (__builtin_mul_overflow(n, d, &n)) return false;
    }
    *out = n;
    return true;
}

bool checked_bytes(int64_t elements, size_t item_size, uint64_t *out) {
    if (elements < 0) return false;
    return !__builtin_mul_overflow(static_cast<uint64_t>(elements),
                                   static_cast<uint64_t>(item_size), out);
}

} // namespace salus
