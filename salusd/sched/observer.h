// What the scheduler core tells a driver as it decides, for the event log:
// the facts only the core knows (which session a lane ran last, when a hold
// begins and how it ends). Called synchronously from inside the core's
// calls, so an observer must be quick and must not call back into the core.
#pragma once

#include "sched/types.h"

namespace salus::sched {

class Observer {
  public:
    virtual ~Observer() = default;
    // `lane` starts an iteration of `to`; its last one was `from`'s.
    virtual void switched(LaneId lane, SessionId from, SessionId to, TimeNs now) = 0;
    // `lane` is held for `session` until `until` at the latest.
    virtual void held(LaneId lane, SessionId session, TimeNs until, TimeNs now) = 0;
    virtual void hold_ended(LaneId lane, SessionId session, HoldEnd why, TimeNs now) = 0;
};

} // namespace salus::sched
