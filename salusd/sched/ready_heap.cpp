#include "sched/ready_heap.h"

#include <cassert>

namespace salus::sched {

void ReadyHeap::push(uint32_t slot, ReadyKey key, Positions &pos) {
    assert(pos[slot] == kNotInHeap);
    entries_.push_back({key, slot});
    pos[slot] = static_cast<uint32_t>(entries_.size() - 1);
    sift_up(entries_.size() - 1, pos);
}

uint32_t ReadyHeap::pop(Positions &pos) {
    uint32_t slot = top();
    erase(slot, pos);
    return slot;
}

void ReadyHeap::erase(uint32_t slot, Positions &pos) {
    size_t i = pos[slot];
    assert(i < entries_.size() && entries_[i].slot == slot);
    pos[slot] = kNotInHeap;
    Entry last = entries_.back();
    entries_.pop_back();
    if (i == entries_.size()) return;
    place(i, last, pos);
    // The moved entry may belong above or below its new place.
    sift_up(i, pos);
    sift_down(pos[last.slot], pos);
}

void ReadyHeap::sift_up(size_t i, Positions &pos) {
    Entry e = entries_[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!(e.key < entries_[parent].key)) break;
        place(i, entries_[parent], pos);
        i = parent;
    }
    place(i, e, pos);
}

void ReadyHeap::sift_down(size_t i, Positions &pos) {
    Entry e = entries_[i];
    size_t n = entries_.size();
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n) break;
        if (child + 1 < n && entries_[child + 1].key < entries_[child].key) ++child;
        if (!(entries_[child].key < e.key)) break;
        place(i, entries_[child], pos);
        i = child;
    }
    place(i, e, pos);
}

} // namespace salus::sched
