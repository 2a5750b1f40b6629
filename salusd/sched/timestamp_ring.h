// A FIFO of timestamps that reuses its storage: the queue times of one
// session's iterations that have not started yet. It grows only past its
// largest size so far, so a steady stream of queue/start pairs never allocates.
#pragma once

#include "sched/types.h"

#include <cassert>
#include <cstddef>
#include <vector>

namespace salus::sched {

class TimestampRing {
  public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }

    void push_back(TimeNs t) {
        if (size_ == slots_.size()) grow();
        slots_[(head_ + size_) % slots_.size()] = t;
        ++size_;
    }

    TimeNs pop_front() {
        assert(size_ > 0);
        TimeNs t = slots_[head_];
        head_ = (head_ + 1) % slots_.size();
        --size_;
        return t;
    }

    void clear() { head_ = size_ = 0; }

  private:
    void grow() {
        std::vector<TimeNs> bigger(slots_.empty() ? 4 : 2 * slots_.size());
        for (size_t i = 0; i < size_; ++i) bigger[i] = slots_[(head_ + i) % slots_.size()];
        slots_.swap(bigger);
        head_ = 0;
    }

    std::vector<TimeNs> slots_;
    size_t head_ = 0;
    size_t size_ = 0;
};

} // namespace salus::sched
