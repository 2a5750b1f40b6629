// Hand-written admission scenarios. Sizes and offsets in units of 64 bytes;
// the comments draw the pool as [begin, end) in those units.
#include "lanes_harness.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace salus::lanes::testing {
namespace {

std::set<LaneId> as_set(const std::vector<LaneId> &ids) {
    return {ids.begin(), ids.end()};
}

TEST(Admission, OpensANewLaneInTheBestFittingFreeRange) {
    Harness h(1000, AdmissionMode::Safe);
    h.admit(1, 100, 100); // L0 [0,200)
    h.admit(2, 100, 200); // L1 [200,500)
    h.admit(3, 50, 100);  // L2 [500,650)
    h.admit(4, 100, 100); // L3 [650,850), free [850,1000)
    EXPECT_EQ(h.admission.lane_count(), 4u);
    EXPECT_EQ(h.lane_layout(2).base, 200 * U);
    h.release(2); // free [200,500) and [850,1000)
    EXPECT_EQ(h.admission.lane_count(), 3u);

    // 120 units fit both free ranges; the 150-unit one fits best.
    const LayoutChange change = h.admit(5, 60, 60);
    const LaneLayout lane = h.lane_layout(5);
    EXPECT_EQ(lane.base, 850 * U);
    EXPECT_EQ(lane.capacity, 120 * U);
    EXPECT_EQ(lane.ephemeral_offset, 910 * U);
    EXPECT_EQ(lane.ephemeral_bytes, 60 * U);
    EXPECT_EQ(h.offset_of(5), 850u);
    EXPECT_TRUE(change.moves.empty());
    EXPECT_TRUE(change.pause.empty());
    ASSERT_EQ(change.admitted.size(), 1u);
    EXPECT_EQ(change.admitted[0].session, 5u);
    ASSERT_EQ(change.lanes.size(), 1u); // the new lane
    EXPECT_EQ(change.lanes[0].lane, lane.lane);
}

// A session that adds a larger graph grows its T only inside its lane's
// ephemeral region; the lane then keeps the region for it.
TEST(Admission, GrowsASessionsEphemeralBytesOnlyWithinItsLane) {
    Harness h(1000, AdmissionMode::Safe, {4, 1});
    h.admit(1, 100, 200);
    h.admit(2, 100, 50); // joins the one lane: region 200
    const LaneLayout before = h.lane_layout(2);
    EXPECT_TRUE(h.admission.grow_ephemeral(2, 150 * U).ok());
    EXPECT_TRUE(h.admission.grow_ephemeral(2, 100 * U).ok()); // smaller: nothing changes
    EXPECT_EQ(h.admission.placement(2)->ephemeral_bytes, 150 * U);
    const LaneLayout same = h.lane_layout(2);
    EXPECT_EQ(same.ephemeral_offset, before.ephemeral_offset);
    EXPECT_EQ(same.ephemeral_bytes, before.ephemeral_bytes);
    Status over = h.admission.grow_ephemeral(2, 250 * U);
    EXPECT_EQ(over.code(), SALUS_ERESOURCE);
    EXPECT_EQ(h.admission.placement(2)->ephemeral_bytes, 150 * U);
    EXPECT_EQ(h.admission.check_invariants(), "");
    h.release(1); // the region shrinks to the grown T, not to the old one
    EXPECT_EQ(h.lane_layout(2).ephemeral_bytes, 150 * U);
    EXPECT_EQ(h.admission.grow_ephemeral(9, U).code(), SALUS_ENOSESSION);
}

TEST(Admission, StaticModeGrowsNoEphemeralBytes) {
    Harness h(1000, AdmissionMode::Static);
    h.admit(1, 100, 200);
    EXPECT_TRUE(h.admission.grow_ephemeral(1, 200 * U).ok());
    EXPECT_EQ(h.admission.grow_ephemeral(1, 201 * U).code(), SALUS_ERESOURCE);
    EXPECT_EQ(h.admission.check_invariants(), "");
}

TEST(Admission, JoinsTheBestFittingLaneNotTheFirst) {
    // Two lanes at most, so later sessions share them.
    Harness h(2000, AdmissionMode::Safe, {4, 2});
    h.admit(1, 130, 300); // L0 [0,430)
    h.admit(2, 100, 400); // L1 [430,930)
    // Either lane would grow by 60; the lower one does, pushing L1 up.
    LayoutChange push = h.admit(3, 60, 300);
    EXPECT_EQ(h.lane_of(3), h.lane_of(1));
    ASSERT_EQ(push.moves.size(), 1u);
    EXPECT_EQ(push.moves[0].src, 430 * U);
    EXPECT_EQ(push.moves[0].dst, 490 * U);
    EXPECT_EQ(as_set(push.pause), as_set({h.lane_of(1), h.lane_of(2)}));
    // L1 needs only 150 more (its T of 400 covers 350) and grows in place.
    LayoutChange grow = h.admit(4, 150, 350);
    EXPECT_EQ(h.lane_of(4), h.lane_of(2));
    EXPECT_TRUE(grow.moves.empty());
    EXPECT_EQ(h.lane_layout(4).capacity, 650 * U);

    h.release(1); // a hole of 130 at the bottom of L0
    h.release(2); // a hole of 100 at the bottom of L1, trimmed at its top
    const std::vector<LaneInfo> lanes = h.admission.lanes();
    ASSERT_EQ(lanes.size(), 2u);
    EXPECT_EQ(lanes[0].slack_bytes, 130 * U);
    EXPECT_EQ(lanes[1].slack_bytes, 100 * U);
    EXPECT_EQ(lanes[1].layout.capacity, 600 * U);

    // Session 5 fits both: 40 left in L0, 10 in L1. Best fit: L1, in the
    // hole session 2 left, without moving anything.
    LayoutChange join = h.admit(5, 90, 300);
    EXPECT_EQ(h.lane_of(5), h.lane_of(4));
    EXPECT_EQ(h.offset_of(5), 490u);
    EXPECT_TRUE(join.moves.empty());
    EXPECT_TRUE(join.pause.empty());
    EXPECT_TRUE(join.lanes.empty()); // layout unchanged: T 300 <= 350
    EXPECT_EQ(h.admission.lane_count(), 2u);
}

TEST(Admission, RepartitionPacksTheCheapestRunForANewLane) {
    Harness h(1000, AdmissionMode::Safe);
    h.admit(1, 100, 100); // L0 [0,200)
    h.admit(2, 100, 200); // L1 [200,500)
    h.admit(3, 50, 100);  // L2 [500,650)
    h.admit(4, 100, 100); // L3 [650,850)
    h.release(2);         // free [200,500)
    h.admit(5, 60, 60);   // L4 [850,970), free [970,1000)
    const LaneId l0 = h.lane_of(1);

    // 320 units: no free range is that large, 330 are free in all.
    LayoutChange change = h.admit(6, 100, 220);
    const LaneLayout lane = h.lane_layout(6);
    EXPECT_EQ(lane.base, 670 * U);
    EXPECT_EQ(lane.capacity, 320 * U);
    EXPECT_EQ(h.offset_of(3), 200u);
    EXPECT_EQ(h.offset_of(4), 350u);
    EXPECT_EQ(h.offset_of(5), 550u);
    EXPECT_EQ(h.offset_of(1), 0u); // outside the run: untouched
    ASSERT_EQ(change.moves.size(), 3u);
    for (const Move &m : change.moves) EXPECT_LT(m.dst, m.src);
    EXPECT_EQ(as_set(change.pause), as_set({h.lane_of(3), h.lane_of(4), h.lane_of(5)}));
    EXPECT_EQ(as_set(change.pause).count(l0), 0u);
    EXPECT_EQ(change.relocated.size(), 3u);
    EXPECT_EQ(h.admission.free_ranges().size(), 1u);
    EXPECT_EQ(h.admission.free_bytes(), 10 * U);
}

TEST(Admission, GrowsTheLaneWhoseEphemeralRegionCoversTheNewSession) {
    // Memory is short for a new lane (P + T) but not for sharing one.
    Harness h(1000, AdmissionMode::Safe);
    h.admit(1, 100, 500); // L0 [0,600)
    h.admit(2, 100, 200); // L1 [600,900), free [900,1000)
    LayoutChange change = h.admit(3, 100, 400);
    // L0 needs only P = 100 more (its T of 500 covers 400); L1 would need 300.
    EXPECT_EQ(h.lane_of(3), h.lane_of(1));
    EXPECT_EQ(h.lane_layout(3).capacity, 700 * U);
    EXPECT_EQ(h.lane_layout(2).base, 700 * U); // L1 pushed up into the free range
    EXPECT_EQ(change.moves.size(), 1u);
    EXPECT_EQ(h.admission.free_bytes(), 0u);
}

TEST(Admission, MergesNeighbouringLanesWhenGrowingIsNotEnough) {
    Harness h(1000, AdmissionMode::Safe);
    h.admit(1, 100, 100); // L0 [0,200)
    h.admit(2, 100, 200); // L1 [200,500)
    h.admit(3, 100, 100); // L2 [500,700)
    h.admit(4, 200, 100); // L3 [700,1000): the pool is full
    const LaneId l0 = h.lane_of(1);
    const LaneId l1 = h.lane_of(2);
    // Any lane would grow by 50; merging L0 and L1 frees 100 (the smaller T).
    LayoutChange change = h.admit(5, 50, 50);
    EXPECT_EQ(h.admission.lane_count(), 4u - 1u);
    EXPECT_EQ(h.lane_of(2), l0);
    EXPECT_EQ(h.lane_of(5), l0);
    const LaneLayout merged = h.lane_layout(5);
    EXPECT_EQ(merged.base, 0u);
    EXPECT_EQ(merged.capacity, 450 * U); // 250 persistent + max T 200
    EXPECT_EQ(merged.ephemeral_bytes, 200 * U);
    EXPECT_EQ(h.offset_of(2), 100u);
    EXPECT_EQ(h.offset_of(5), 200u);
    EXPECT_EQ(change.closed, std::vector<LaneId>{l1});
    EXPECT_EQ(as_set(change.pause).count(l1), 1u);
    EXPECT_EQ(change.moves.size(), 3u); // sessions 2, 3, 4 slide down
    EXPECT_EQ(h.admission.free_bytes(), 50 * U);
}

TEST(Admission, CompactsALaneWhenItsGrowingEphemeralRegionCoversABlock) {
    Harness h(1000, AdmissionMode::Safe, {4, 1});
    h.admit(1, 100, 100);
    h.admit(2, 100, 100);
    h.admit(3, 100, 300); // one lane [0,600): blocks at 0, 100, 200; region [300,600)
    h.release(1);
    h.release(2); // session 3 alone at 200; slack 200
    LayoutChange change = h.admit(4, 50, 400);
    // The region grows to [200,600) over session 3's block: it moves to 0.
    EXPECT_EQ(h.offset_of(3), 0u);
    EXPECT_EQ(h.offset_of(4), 100u);
    ASSERT_EQ(change.moves.size(), 1u);
    EXPECT_EQ(change.moves[0].src, 200 * U);
    EXPECT_EQ(change.moves[0].dst, 0u);
    ASSERT_EQ(change.lanes.size(), 1u);
    EXPECT_EQ(change.lanes[0].ephemeral_offset, 200 * U);
    EXPECT_EQ(change.lanes[0].ephemeral_bytes, 400 * U);
    EXPECT_EQ(change.pause.size(), 1u);
}

TEST(Admission, TrimsALaneOnRelease) {
    Harness h(1000, AdmissionMode::Safe, {4, 1});
    h.admit(1, 100, 100);
    h.admit(2, 100, 300); // [0,500): region [200,500)
    // The lane is trimmed: its region comes down onto session 1's block and
    // the top returns to the free ranges.
    LayoutChange change = h.release(2);
    ASSERT_EQ(change.lanes.size(), 1u);
    EXPECT_EQ(change.lanes[0].capacity, 200 * U);
    EXPECT_EQ(change.lanes[0].ephemeral_offset, 100 * U);
    EXPECT_EQ(change.lanes[0].ephemeral_bytes, 100 * U);
    EXPECT_EQ(change.pause.size(), 1u);
    EXPECT_TRUE(change.closed.empty());
    EXPECT_EQ(h.admission.free_bytes(), 800 * U);
    LayoutChange last = h.release(1);
    EXPECT_EQ(last.closed.size(), 1u);
    EXPECT_EQ(h.admission.free_bytes(), 1000 * U);
    EXPECT_EQ(h.admission.lane_count(), 0u);
}

TEST(Admission, QueuesWhatDoesNotFitAndAdmitsItOnRelease) {
    Harness h(1000, AdmissionMode::Safe);
    h.admit(1, 400, 400);
    h.admit_queued(2, 300, 300); // 400 + 300 + max(400, 300) > 1000
    h.admit_queued(3, 500, 100); // behind it
    EXPECT_FALSE(h.admission.can_admit_now(300 * U, 300 * U));
    std::vector<QueuedSession> queue = h.admission.queue();
    ASSERT_EQ(queue.size(), 2u);
    EXPECT_EQ(queue[0].session, 2u);
    EXPECT_EQ(queue[1].session, 3u);

    LayoutChange change = h.release(1);
    ASSERT_EQ(change.admitted.size(), 1u); // 300 + 500 + 300 > 1000: 3 still waits
    EXPECT_EQ(change.admitted[0].session, 2u);
    EXPECT_EQ(change.admitted[0].persistent_bytes, 300 * U);
    EXPECT_EQ(change.admitted[0].lane.capacity, 600 * U);
    EXPECT_TRUE(h.admission.is_queued(3));

    change = h.release(2);
    ASSERT_EQ(change.admitted.size(), 1u);
    EXPECT_EQ(change.admitted[0].session, 3u);
    EXPECT_EQ(h.admission.queued_count(), 0u);
}

TEST(Admission, WithdrawingTheHeadLetsTheOthersIn) {
    Harness h(1000, AdmissionMode::Safe, {0, 0}); // strict FIFO
    h.admit(1, 300, 300);
    h.admit_queued(2, 500, 400);
    h.admit_queued(3, 100, 100); // would fit, but FIFO
    LayoutChange change = h.release(2);
    ASSERT_EQ(change.admitted.size(), 1u);
    EXPECT_EQ(change.admitted[0].session, 3u);
}

// A large job waits while small ones keep arriving and leaving. Returns how
// many small jobs were admitted after the large one arrived and before it
// was admitted (or -1 when it never was).
int overtakes_of_large_job(uint32_t max_overtakes, std::vector<SessionId> *admission_order) {
    Harness h(1000, AdmissionMode::Safe, {max_overtakes, 0});
    const SessionId large = 1000;
    std::vector<SessionId> running;
    SessionId next = 1;
    for (; next <= 5; ++next) {
        h.admit(next, 100, 100);
        running.push_back(next);
    }
    h.admit_queued(large, 500, 400); // needs the others' P down to 100
    int overtakes = 0;
    bool large_admitted = false;
    for (int round = 0; round < 40 && !large_admitted; ++round) {
        // One small arrival, then the oldest small job leaves.
        AdmitResult arrival = h.admission.admit(next, 100 * U, 100 * U);
        EXPECT_TRUE(arrival.status.ok());
        EXPECT_EQ(h.mirror.apply(arrival.change), "");
        if (!arrival.queued) {
            ++overtakes;
            running.push_back(next);
            admission_order->push_back(next);
        }
        ++next;
        const SessionId leaving = running.front();
        running.erase(running.begin());
        LayoutChange change = h.release(leaving);
        for (const SessionPlacement &p : change.admitted) {
            admission_order->push_back(p.session);
            if (p.session == large) {
                large_admitted = true;
            } else {
                running.push_back(p.session);
                if (!large_admitted) ++overtakes;
            }
        }
        EXPECT_EQ(h.admission.check_invariants(), "");
    }
    return large_admitted ? overtakes : -1;
}

TEST(Admission, ALargeJobIsOvertakenAtMostMaxOvertakesTimes) {
    for (uint32_t k : {0u, 1u, 3u}) {
        std::vector<SessionId> order;
        const int overtakes = overtakes_of_large_job(k, &order);
        EXPECT_GE(overtakes, 0) << "K = " << k << ": the large job starved";
        EXPECT_LE(overtakes, static_cast<int>(k)) << "K = " << k;
    }
}

TEST(Admission, WithoutTheBoundTheLargeJobStarves) {
    std::vector<SessionId> order;
    EXPECT_EQ(overtakes_of_large_job(1000000, &order), -1);
}

TEST(Admission, RefusesWhatCanNeverFitAndBadArguments) {
    Harness h(1000, AdmissionMode::Safe);
    AdmitResult r = h.admission.admit(1, 600 * U, 500 * U);
    EXPECT_EQ(r.status.code(), SALUS_ERESOURCE);
    EXPECT_NE(r.status.message().find(std::to_string(600 * U)), std::string::npos);
    EXPECT_NE(r.status.message().find(std::to_string(500 * U)), std::string::npos);
    EXPECT_NE(r.status.message().find(std::to_string(1000 * U)), std::string::npos);
    EXPECT_FALSE(r.queued);
    EXPECT_EQ(h.admission.queued_count(), 0u);

    EXPECT_EQ(h.admission.admit(2, 100, 64).status.code(), SALUS_EINVAL); // not aligned
    h.admit(3, 500, 300);
    h.admit_queued(4, 400, 100);
    EXPECT_EQ(h.admission.admit(3, U, U).status.code(), SALUS_EINVAL); // admitted id
    EXPECT_EQ(h.admission.admit(4, U, U).status.code(), SALUS_EINVAL); // waiting id
    EXPECT_EQ(h.admission.release(99).status.code(), SALUS_ENOSESSION);
    EXPECT_EQ(h.admission.check_invariants(), "");
    // Exactly the pool is fine.
    Harness exact(1000, AdmissionMode::Static);
    exact.admit(1, 600, 400);
    EXPECT_EQ(exact.admission.free_bytes(), 0u);
}

TEST(Admission, StaticModeAdmitsFewer) {
    Harness safe(1000, AdmissionMode::Safe);
    Harness fixed(1000, AdmissionMode::Static);
    int admitted_safe = 0;
    int admitted_static = 0;
    for (SessionId id = 1; id <= 10; ++id) {
        AdmitResult a = safe.admission.admit(id, 100 * U, 300 * U);
        AdmitResult b = fixed.admission.admit(id, 100 * U, 300 * U);
        admitted_safe += !a.queued;
        admitted_static += !b.queued;
        EXPECT_EQ(safe.mirror.apply(a.change), "");
        EXPECT_EQ(fixed.mirror.apply(b.change), "");
        EXPECT_EQ(safe.admission.check_invariants(), "");
        EXPECT_EQ(fixed.admission.check_invariants(), "");
    }
    EXPECT_EQ(admitted_safe, 7);   // 7 * 100 + 300 <= 1000
    EXPECT_EQ(admitted_static, 2); // 2 * (100 + 300) <= 1000
    EXPECT_EQ(fixed.admission.lane_count(), 2u);
}

TEST(Admission, SessionsWithoutPersistentOrEphemeralMemory) {
    Harness h(1000, AdmissionMode::Safe);
    h.admit(1, 0, 0); // a lane of capacity 0
    EXPECT_EQ(h.lane_layout(1).capacity, 0u);
    h.admit(2, 0, 100);
    h.admit(3, 100, 0);
    h.admit(4, 0, 0); // joins a lane: no memory needed
    EXPECT_EQ(h.admission.used_bytes(), 200 * U);
    h.admit(5, 300, 300);
    h.admit(6, 200, 100); // fills the pool
    h.admit(7, 50, 50);   // merges
    h.release(1);
    h.release(2);
    h.release(4);
    h.admit(8, 0, 0);
    h.release(3);
    h.release(5);
    h.release(6);
    h.release(7);
    h.release(8);
    EXPECT_EQ(h.admission.lane_count(), 0u);
    EXPECT_EQ(h.admission.free_bytes(), 1000 * U);
}

TEST(Admission, MaxLanesMakesSessionsShare) {
    Harness h(10000, AdmissionMode::Safe, {4, 3});
    for (SessionId id = 1; id <= 12; ++id) h.admit(id, 10 * id, 100);
    EXPECT_EQ(h.admission.lane_count(), 3u);
    EXPECT_EQ(h.admission.admitted_count(), 12u);
}

} // namespace
} // namespace salus::lanes::testing
