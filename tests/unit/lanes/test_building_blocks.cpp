// The pieces under Admission: move ordering, run selection, the free list
// and the admission queue, each against a brute-force or byte-level model.
#include "lanes/admission_queue.h"
#include "lanes/free_list.h"
#include "lanes/move_order.h"
#include "lanes/window.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace salus::lanes {
namespace {

TEST(MoveOrder, AnyOrderPreservingRelocationKeepsEveryBlock) {
    std::mt19937_64 rng(7);
    for (int round = 0; round < 2000; ++round) {
        // Random blocks with random gaps, then a random new layout of the same
        // blocks in the same order with other gaps.
        const int n = 1 + static_cast<int>(rng() % 12);
        std::vector<uint64_t> size(n);
        std::vector<uint64_t> src(n);
        std::vector<uint64_t> dst(n);
        uint64_t a = rng() % 4;
        uint64_t b = rng() % 4;
        for (int i = 0; i < n; ++i) {
            size[i] = 1 + rng() % 8;
            src[i] = a;
            dst[i] = b;
            a += size[i] + rng() % 6;
            b += size[i] + rng() % 6;
        }
        std::vector<int> memory(std::max(a, b) + 1, -1);
        std::vector<Move> relocation;
        for (int i = 0; i < n; ++i) {
            for (uint64_t k = 0; k < size[i]; ++k)
                memory[src[i] + k] = i * 100 + static_cast<int>(k);
            relocation.push_back({src[i], dst[i], size[i], static_cast<SessionId>(i)});
        }
        ASSERT_EQ(check_order_preserving(relocation), "");
        for (const Move &m : order_moves(relocation)) {
            std::memmove(&memory[m.dst], &memory[m.src], m.bytes * sizeof(int));
        }
        for (int i = 0; i < n; ++i) {
            for (uint64_t k = 0; k < size[i]; ++k) {
                ASSERT_EQ(memory[dst[i] + k], i * 100 + static_cast<int>(k)) << "round " << round;
            }
        }
    }
}

TEST(MoveOrder, DropsNoOpsAndDetectsReordering) {
    EXPECT_TRUE(order_moves({{10, 10, 5, 1}, {20, 20, 0, 2}}).empty());
    EXPECT_NE(check_order_preserving({{0, 10, 5, 1}, {10, 0, 5, 2}}), "");
    EXPECT_NE(check_order_preserving({{0, 0, 5, 1}, {3, 8, 5, 2}}), "");
}

std::optional<Window> brute_force(const std::vector<Segment> &s, uint64_t required,
                                  std::optional<size_t> must_contain) {
    std::optional<Window> best;
    for (size_t first = 0; first < s.size(); ++first) {
        uint64_t spare = 0;
        uint64_t cost = 0;
        for (size_t last = first; last < s.size(); ++last) {
            spare += s[last].spare;
            cost += s[last].cost;
            if (must_contain && (first > *must_contain || last < *must_contain)) continue;
            if (spare < required) continue;
            if (!best || cost < best->cost ||
                (cost == best->cost && last - first < best->last - best->first)) {
                best = Window{first, last, cost};
            }
        }
    }
    return best;
}

TEST(Window, MatchesBruteForceCost) {
    std::mt19937_64 rng(11);
    for (int round = 0; round < 5000; ++round) {
        std::vector<Segment> segments(1 + rng() % 10);
        for (Segment &s : segments) s = {rng() % 3 == 0 ? rng() % 10 : 0, rng() % 7};
        const uint64_t required = rng() % 25;
        const auto fast = cheapest_window(segments, required);
        const auto slow = brute_force(segments, required, std::nullopt);
        ASSERT_EQ(fast.has_value(), slow.has_value());
        if (fast) {
            EXPECT_EQ(fast->cost, slow->cost);
            EXPECT_EQ(fast->last - fast->first, slow->last - slow->first);
        }
        const size_t k = rng() % segments.size();
        const auto fast_k = cheapest_window_containing(segments, k, required);
        const auto slow_k = brute_force(segments, required, k);
        ASSERT_EQ(fast_k.has_value(), slow_k.has_value()) << "round " << round;
        if (fast_k) {
            EXPECT_LE(fast_k->first, k);
            EXPECT_GE(fast_k->last, k);
            EXPECT_EQ(fast_k->cost, slow_k->cost) << "round " << round;
        }
    }
}

TEST(FreeList, MatchesABitmap) {
    std::mt19937_64 rng(3);
    const uint64_t n = 200;
    FreeList list;
    std::vector<bool> free(n, false);
    for (int step = 0; step < 20000; ++step) {
        const uint64_t begin = rng() % n;
        const uint64_t bytes = 1 + rng() % 10;
        if (begin + bytes > n) continue;
        bool all_free = true;
        bool none_free = true;
        for (uint64_t i = begin; i < begin + bytes; ++i) {
            all_free = all_free && free[i];
            none_free = none_free && !free[i];
        }
        if (none_free) {
            list.add(begin, bytes);
            for (uint64_t i = begin; i < begin + bytes; ++i) free[i] = true;
        } else if (all_free) {
            list.take(begin, bytes);
            for (uint64_t i = begin; i < begin + bytes; ++i) free[i] = false;
        }
        ASSERT_EQ(list.check(), "");
        // Best fit: the smallest maximal free run of at least `bytes`.
        std::optional<uint64_t> expected;
        uint64_t expected_size = 0;
        uint64_t total = 0;
        for (uint64_t i = 0; i < n;) {
            if (!free[i]) {
                ++i;
                continue;
            }
            uint64_t j = i;
            while (j < n && free[j]) ++j;
            total += j - i;
            if (j - i >= bytes && (!expected || j - i < expected_size)) {
                expected = i;
                expected_size = j - i;
            }
            i = j;
        }
        ASSERT_EQ(list.total_bytes(), total);
        ASSERT_EQ(list.best_fit(bytes), expected);
    }
}

TEST(AdmissionQueue, BoundsOvertakingAndKeepsOrder) {
    AdmissionQueue queue(2);
    queue.push(1, 0, 0);
    queue.push(2, 0, 0);
    queue.push(3, 0, 0);
    queue.push(4, 0, 0);
    // Only 3 and 4 fit: both overtake 1 and 2, which reach the bound.
    std::vector<SessionId> admitted;
    queue.admit_waiting([&](const QueuedSession &s) {
        if (s.session < 3) return false;
        admitted.push_back(s.session);
        return true;
    });
    EXPECT_EQ(admitted, (std::vector<SessionId>{3, 4}));
    EXPECT_FALSE(queue.may_overtake_all());
    queue.push(5, 0, 0);
    admitted.clear();
    // 1 holds a reservation: 5 is not even tried.
    queue.admit_waiting([&](const QueuedSession &s) {
        if (s.session == 1) return false;
        admitted.push_back(s.session);
        return true;
    });
    EXPECT_TRUE(admitted.empty());
    const std::vector<QueuedSession> entries = queue.entries();
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_EQ(entries[0].overtaken, 2u);
    EXPECT_EQ(entries[1].overtaken, 2u);
    EXPECT_EQ(entries[2].overtaken, 0u);
    EXPECT_EQ(queue.eligible_prefix(), 1u);
    // Once 1 leaves, 2 is the head and holds the reservation in turn.
    EXPECT_TRUE(queue.remove(1));
    EXPECT_FALSE(queue.may_overtake_all());
    EXPECT_FALSE(queue.remove(1));
    queue.admit_waiting([&](const QueuedSession &s) {
        admitted.push_back(s.session);
        return true;
    });
    EXPECT_EQ(admitted, (std::vector<SessionId>{2, 5}));
    EXPECT_TRUE(queue.empty());
}

TEST(AdmissionQueue, ArrivalsCountAsOvertakes) {
    AdmissionQueue queue(1);
    queue.push(1, 0, 0);
    EXPECT_TRUE(queue.may_overtake_all());
    queue.note_overtaken_by_arrival();
    EXPECT_FALSE(queue.may_overtake_all());
    queue.push(2, 0, 0);
    EXPECT_EQ(queue.entries()[1].overtaken, 0u);
}

} // namespace
} // namespace salus::lanes
