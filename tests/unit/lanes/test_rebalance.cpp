// Rebalancing after a release (issue 13): a lane left empty while another
// holds several sessions. Sizes and offsets in units of 64 bytes; the comments
// draw the pool as [begin, end) in those units.
#include "lanes/move_order.h"
#include "lanes_harness.h"

#include <algorithm>

namespace salus::lanes::testing {
namespace {

bool contains(const std::vector<LaneId> &ids, LaneId id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// 2 lanes at most, 3 equal sessions (P 100, T 100): 2 alone in L1 [300,500),
// 1 and 3 share L0, grown to [0,300): blocks at 0 and 100, T 100. Session 2
// is the one that ends first. (The mirror refers to the admission: the
// harness is built in place.)
void three_equal_sessions(Harness &h) {
    h.admit(1, 100, 100);
    h.admit(2, 100, 100);
    h.admit(3, 100, 100);
    ASSERT_EQ(h.admission.lane_count(), 2u);
    ASSERT_EQ(h.lane_of(1), h.lane_of(3));
    ASSERT_NE(h.lane_of(2), h.lane_of(1));
}

TEST(Rebalance, ALaneLeftEmptyTakesASessionOfTheCrowdedOne) {
    Harness h(1000, AdmissionMode::Safe, {4, 2});
    three_equal_sessions(h);
    const LaneId crowded = h.lane_of(1);

    const LayoutChange change = h.release(2);
    EXPECT_EQ(h.admission.lane_count(), 2u);
    EXPECT_NE(h.lane_of(1), h.lane_of(3)); // in parallel again
    EXPECT_EQ(h.admission.stats().rebalanced, 1u);
    // Both edge blocks cost the same (the run holds L0's 200); the lower id
    // goes: session 1 gets a new lane [0,200) right below L0, which keeps
    // session 3 and is packed above it, [200,400). Free [400,1000).
    ASSERT_EQ(change.relocated.size(), 2u);
    EXPECT_NE(h.lane_of(1), crowded);
    EXPECT_EQ(h.lane_layout(1).base, 0u);
    EXPECT_EQ(h.lane_layout(1).capacity, 200 * U);
    EXPECT_EQ(h.lane_of(3), crowded);
    EXPECT_EQ(h.lane_layout(3).base, 200 * U);
    EXPECT_EQ(h.lane_layout(3).capacity, 200 * U);
    EXPECT_EQ(h.offset_of(1), 0u);
    EXPECT_EQ(h.offset_of(3), 200u);
    EXPECT_EQ(h.admission.free_bytes(), 600 * U);
    // Scheduling pauses the crowded lane while its blocks move; the moves are
    // order-preserving, as order_moves() requires.
    EXPECT_TRUE(contains(change.pause, crowded));
    ASSERT_EQ(change.moves.size(), 1u);
    EXPECT_EQ(change.moves[0].session, 3u);
    EXPECT_EQ(check_order_preserving(change.moves), "");
    EXPECT_TRUE(change.admitted.empty());
}

TEST(Rebalance, StaticModeMovesToo) {
    // In Static mode a move needs no extra bytes: the lane gives back P + T.
    Harness h(1000, AdmissionMode::Static, {4, 2});
    three_equal_sessions(h);
    h.release(2);
    EXPECT_NE(h.lane_of(1), h.lane_of(3));
    EXPECT_EQ(h.admission.stats().rebalanced, 1u);
}

TEST(Rebalance, OffKeepsTheLayout) {
    Harness h(1000, AdmissionMode::Safe, {4, 2, false});
    three_equal_sessions(h);
    const LayoutChange change = h.release(2);
    EXPECT_EQ(h.lane_of(1), h.lane_of(3));
    EXPECT_TRUE(change.moves.empty());
    EXPECT_TRUE(change.relocated.empty());
    EXPECT_EQ(h.admission.stats().rebalanced, 0u);
}

TEST(Rebalance, NoMoveWithoutTheSpareBytes) {
    // 1 small session alone in L0 [0,20); 2 and 3 share L1 [20,320), grown
    // into the last free bytes. Closing 1 frees 20 units; a move of 2 or 3
    // would need 100 (its T): every lane would break its condition.
    for (uint64_t pool : {320u, 400u}) {
        // 400: 100 spare would fit a move, but it would take more than half
        // of the spare bytes, and the next admission would grow a lane again.
        Harness h(pool, AdmissionMode::Safe, {4, 2});
        h.admit(1, 10, 10);
        h.admit(2, 100, 100);
        h.admit(3, 100, 100);
        ASSERT_EQ(h.lane_of(2), h.lane_of(3)) << pool;
        const LayoutChange change = h.release(1);
        EXPECT_EQ(h.lane_of(2), h.lane_of(3)) << pool;
        EXPECT_TRUE(change.moves.empty()) << pool;
        EXPECT_TRUE(change.pause.empty()) << pool;
        EXPECT_EQ(h.admission.stats().rebalanced, 0u) << pool;
    }
    // 520: 220 spare, at least twice the 100 a move adds: it moves.
    Harness h(520, AdmissionMode::Safe, {4, 2});
    h.admit(1, 10, 10);
    h.admit(2, 100, 100);
    h.admit(3, 100, 100);
    ASSERT_EQ(h.lane_of(2), h.lane_of(3));
    h.release(1);
    EXPECT_NE(h.lane_of(2), h.lane_of(3));
}

TEST(Rebalance, WaitingSessionsComeFirstAndTheLaneLimitHolds) {
    // Pool 520, lanes [0,300) and [300,500): session 4 (P 150, T 50) waits,
    // sum(P) + P + max(T) = 550. Closing 2 admits it into a new lane [300,500)
    // (450 fit), the second lane: the limit is reached and nothing moves.
    Harness h(520, AdmissionMode::Safe, {4, 2});
    three_equal_sessions(h);
    h.admit_queued(4, 150, 50);
    const LayoutChange change = h.release(2);
    ASSERT_EQ(change.admitted.size(), 1u);
    EXPECT_EQ(h.admission.lane_count(), 2u);
    EXPECT_EQ(h.lane_of(1), h.lane_of(3));
    EXPECT_NE(h.lane_of(4), h.lane_of(1));
    EXPECT_TRUE(change.relocated.empty());
    EXPECT_EQ(h.admission.stats().rebalanced, 0u);
}

TEST(Rebalance, NoMoveWhenNoLaneEmpties) {
    // 5 sessions in 2 lanes: closing one that shares its lane leaves both
    // lanes busy; nothing moves.
    Harness h(10000, AdmissionMode::Safe, {4, 2});
    for (SessionId id = 1; id <= 5; ++id) h.admit(id, 100, 100);
    ASSERT_EQ(h.admission.lane_count(), 2u);
    const LaneId lane = h.lane_of(1);
    SessionId other = 0;
    for (SessionId id = 2; id <= 5; ++id) {
        if (h.lane_of(id) == lane) other = id;
    }
    ASSERT_NE(other, 0u);
    const LayoutChange change = h.release(1);
    EXPECT_TRUE(change.relocated.empty());
    EXPECT_TRUE(change.moves.empty());
    EXPECT_EQ(h.admission.stats().rebalanced, 0u);
}

TEST(Rebalance, ASessionWithoutABlockMovesWithoutACopy) {
    // 2 without persistent bytes shares L1 with 3; closing 1 gives it its own.
    Harness h(1000, AdmissionMode::Safe, {4, 2});
    h.admit(1, 100, 100);
    h.admit(3, 100, 100);
    h.admit(2, 0, 50);
    ASSERT_EQ(h.admission.lane_count(), 2u);
    const SessionId sharing = h.lane_of(2) == h.lane_of(1) ? 1 : 3;
    const SessionId alone = sharing == 1 ? 3 : 1;
    const LayoutChange change = h.release(alone);
    EXPECT_NE(h.lane_of(2), h.lane_of(sharing));
    EXPECT_EQ(h.admission.stats().rebalanced, 1u);
    for (const Move &m : change.moves) EXPECT_NE(m.session, 2u);
}

TEST(Rebalance, ASessionWithoutMemoryGetsALaneOfCapacityZero) {
    Harness h(1000, AdmissionMode::Safe, {4, 2});
    h.admit(1, 100, 100);
    h.admit(3, 100, 100);
    h.admit(2, 0, 0);
    ASSERT_EQ(h.admission.lane_count(), 2u);
    const SessionId sharing = h.lane_of(2) == h.lane_of(1) ? 1 : 3;
    const LaneId lane = h.lane_of(sharing);
    const LayoutChange change = h.release(sharing == 1 ? 3 : 1);
    EXPECT_NE(h.lane_of(2), lane);
    EXPECT_EQ(h.lane_layout(2).capacity, 0u);
    EXPECT_TRUE(change.moves.empty());
    EXPECT_TRUE(contains(change.pause, lane)); // it may be mid-iteration there
}

} // namespace
} // namespace salus::lanes::testing
