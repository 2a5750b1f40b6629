// Sessions waiting for device memory, in arrival order, with bounded
// overtaking so that a large job is never starved by a stream of small ones.
//
// The rule: a session may be admitted ahead of an earlier waiting session (it
// "overtakes" it) only while that session has been overtaken fewer than
// max_overtakes times. The head of the queue has always been overtaken at
// least as often as anyone behind it, so once the head reaches the bound it
// holds a reservation: nothing else is admitted until the head is. No session
// is ever overtaken more than max_overtakes times; max_overtakes == 0 is strict
// FIFO.
#pragma once

#include "lanes/lane_types.h"

#include <cstdint>
#include <iterator>
#include <list>
#include <unordered_map>
#include <utility>
#include <vector>

namespace salus::lanes {

struct QueuedSession {
    SessionId session = 0;
    uint64_t persistent_bytes = 0;
    uint64_t ephemeral_bytes = 0;
    uint32_t overtaken = 0; // sessions admitted ahead of it so far
};

class AdmissionQueue {
  public:
    explicit AdmissionQueue(uint32_t max_overtakes) : max_overtakes_(max_overtakes) {}

    bool empty() const { return entries_.empty(); }
    size_t size() const { return entries_.size(); }
    bool contains(SessionId id) const { return index_.count(id) != 0; }
    uint32_t max_overtakes() const { return max_overtakes_; }
    // A new bound applies from the next pass; a session overtaken more often
    // than a lowered bound simply may not be overtaken again.
    void set_max_overtakes(uint32_t n) { max_overtakes_ = n; }

    void push(SessionId id, uint64_t p, uint64_t t);
    // Removes a waiting session (its client went away); false if absent.
    bool remove(SessionId id);

    // Whether a new arrival may be admitted ahead of everyone waiting.
    bool may_overtake_all() const;
    // Records that a new arrival was admitted ahead of everyone waiting.
    void note_overtaken_by_arrival() { ++arrivals_admitted_; }

    // One pass in queue order over the waiting sessions that may still be
    // admitted: calls try_admit(const QueuedSession &) -> bool on each; those
    // for which it returns true leave the queue and count as overtaking every
    // session still waiting ahead of them. Stops at the first session that
    // stays and has used up its overtakes. O(size) plus the calls.
    template <typename TryAdmit>
    void admit_waiting(TryAdmit &&try_admit);

    // In queue order, with their current overtake counts.
    std::vector<QueuedSession> entries() const;
    // The queue up to and including the first session that may not be
    // overtaken any more: those are the ones a pass would try.
    size_t eligible_prefix() const;

  private:
    struct Entry {
        QueuedSession s;
        uint64_t arrivals_at_push; // arrivals_admitted_ when it was queued
    };
    uint32_t overtaken(const Entry &e) const {
        return e.s.overtaken + static_cast<uint32_t>(arrivals_admitted_ - e.arrivals_at_push);
    }

    uint32_t max_overtakes_;
    uint64_t arrivals_admitted_ = 0; // arrivals admitted ahead of a non-empty queue
    std::list<Entry> entries_;
    std::unordered_map<SessionId, std::list<Entry>::iterator> index_;
};

template <typename TryAdmit>
void AdmissionQueue::admit_waiting(TryAdmit &&try_admit) {
    // Sessions passed over in this pass get one overtake per later admission;
    // bump lazily: remember how many admissions had happened when each was
    // passed over. The first one passed over is the head: it bounds the rest.
    std::vector<std::pair<Entry *, uint32_t>> passed;
    uint32_t admitted = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (!passed.empty() &&
            overtaken(*passed.front().first) + (admitted - passed.front().second) >=
                max_overtakes_) {
            break;
        }
        QueuedSession current = it->s;
        current.overtaken = overtaken(*it);
        if (try_admit(static_cast<const QueuedSession &>(current))) {
            index_.erase(it->s.session);
            it = entries_.erase(it);
            ++admitted;
            continue;
        }
        passed.emplace_back(&*it, admitted);
        ++it;
    }
    for (auto &[entry, admitted_before] : passed) entry->s.overtaken += admitted - admitted_before;
}

} // namespace salus::lanes
