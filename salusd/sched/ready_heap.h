// The sessions of one lane that could start an iteration now, ordered by the
// policy's key: a binary min-heap that knows where each session sits, so a
// session can leave from the middle (closed, moved) in O(log n) and a
// policy switch re-keys the lot in O(n). Positions live in an array indexed
// by session slot, shared by every lane's heap (a session is in at most one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace salus::sched {

constexpr uint32_t kNotInHeap = std::numeric_limits<uint32_t>::max();

// Smaller runs first: `primary` is the policy's measure, `secondary` a unique
// sequence number (admission or round-robin order) that breaks ties.
struct ReadyKey {
    double primary = 0;
    uint64_t secondary = 0;
};

inline bool operator<(const ReadyKey &a, const ReadyKey &b) {
    if (a.primary != b.primary) return a.primary < b.primary;
    return a.secondary < b.secondary;
}

class ReadyHeap {
  public:
    using Positions = std::vector<uint32_t>; // per slot: index in its heap or kNotInHeap

    bool empty() const { return entries_.empty(); }
    size_t size() const { return entries_.size(); }
    uint32_t top() const { return entries_.front().slot; }
    ReadyKey top_key() const { return entries_.front().key; }
    uint32_t slot_at(size_t i) const { return entries_[i].slot; }

    void push(uint32_t slot, ReadyKey key, Positions &pos);
    uint32_t pop(Positions &pos);
    void erase(uint32_t slot, Positions &pos);

    // Gives every entry the key key_of(slot) and restores the heap order.
    template <typename KeyOf>
    void rekey(KeyOf key_of, Positions &pos) {
        for (Entry &e : entries_) e.key = key_of(e.slot);
        for (size_t i = entries_.size() / 2; i-- > 0;) sift_down(i, pos);
    }

  private:
    struct Entry {
        ReadyKey key;
        uint32_t slot;
    };

    void place(size_t i, Entry e, Positions &pos) {
        entries_[i] = e;
        pos[e.slot] = static_cast<uint32_t>(i);
    }
    void sift_up(size_t i, Positions &pos);
    void sift_down(size_t i, Positions &pos);

    std::vector<Entry> entries_;
};

} // namespace salus::sched
