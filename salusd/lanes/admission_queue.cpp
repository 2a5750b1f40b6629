#include "lanes/admission_queue.h"

namespace salus::lanes {

void AdmissionQueue::push(SessionId id, uint64_t p, uint64_t t) {
    entries_.push_back({QueuedSession{id, p, t, 0}, arrivals_admitted_});
    index_[id] = std::prev(entries_.end());
}

bool AdmissionQueue::remove(SessionId id) {
    auto found = index_.find(id);
    if (found == index_.end()) return false;
    entries_.erase(found->second);
    index_.erase(found);
    return true;
}

bool AdmissionQueue::may_overtake_all() const {
    return entries_.empty() || overtaken(entries_.front()) < max_overtakes_;
}

std::vector<QueuedSession> AdmissionQueue::entries() const {
    std::vector<QueuedSession> out;
    out.reserve(entries_.size());
    for (const Entry &e : entries_) {
        QueuedSession s = e.s;
        s.overtaken = overtaken(e);
        out.push_back(s);
    }
    return out;
}

size_t AdmissionQueue::eligible_prefix() const {
    size_t n = 0;
    for (const Entry &e : entries_) {
        ++n;
        if (overtaken(e) >= max_overtakes_) break;
    }
    return n;
}

} // namespace salus::lanes
