// An Admission, the daemon stand-in that applies its changes, and checks after
// every call; sizes in units of kLaneAlignment (64 bytes) to keep scenarios short.
#pragma once

#include "daemon_mirror.h"
#include "lanes/admission.h"

#include <gtest/gtest.h>

#include <optional>

namespace salus::lanes::testing {

constexpr uint64_t U = kLaneAlignment;

class Harness {
  public:
    Harness(uint64_t pool_units, AdmissionMode mode, AdmissionOptions options = {})
        : admission(pool_units * U, mode, options), mirror(admission) {}

    // Admits and expects the session in a lane; returns the change.
    LayoutChange admit(SessionId id, uint64_t p_units, uint64_t t_units) {
        AdmitResult r = admission.admit(id, p_units * U, t_units * U);
        EXPECT_TRUE(r.status.ok()) << r.status.message();
        EXPECT_FALSE(r.queued) << "session " << id << " queued";
        after(r.change, std::nullopt);
        return r.change;
    }

    // Expects the session to wait.
    void admit_queued(SessionId id, uint64_t p_units, uint64_t t_units) {
        AdmitResult r = admission.admit(id, p_units * U, t_units * U);
        EXPECT_TRUE(r.status.ok()) << r.status.message();
        EXPECT_TRUE(r.queued) << "session " << id << " admitted";
        EXPECT_TRUE(r.change.empty());
        after(r.change, std::nullopt);
    }

    LayoutChange release(SessionId id) {
        ReleaseResult r = admission.release(id);
        EXPECT_TRUE(r.status.ok()) << r.status.message();
        after(r.change, id);
        return r.change;
    }

    LaneId lane_of(SessionId id) const { return admission.placement(id).value().lane.lane; }
    uint64_t offset_of(SessionId id) const {
        return admission.placement(id).value().persistent_offset / U;
    }
    LaneLayout lane_layout(SessionId id) const { return admission.placement(id).value().lane; }

    Admission admission;
    DaemonMirror mirror;

  private:
    void after(const LayoutChange &change, std::optional<SessionId> released) {
        EXPECT_EQ(admission.check_invariants(), "");
        EXPECT_EQ(mirror.apply(change, released), "");
    }
};

} // namespace salus::lanes::testing
