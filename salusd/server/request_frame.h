// One received frame body, in storage aligned for flatbuffers. Feeds of a
// queued iteration point into it, so it moves with the iteration and is
// freed only when that iteration has run or been dropped.
//
// The storage grows as the bytes arrive (grow()), so that a frame's
// declared length reserves nothing the client has not sent.
#pragma once

#include "wire_generated.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace salus::server {

class RequestFrame {
  public:
    // A frame of `size` bytes with room for the first `capacity` of them;
    // nullptr when the memory cannot be had.
    static std::unique_ptr<RequestFrame> allocate(uint32_t size, uint32_t capacity);

    uint8_t *data() { return static_cast<uint8_t *>(bytes_.get()); }
    const uint8_t *data() const { return static_cast<const uint8_t *>(bytes_.get()); }
    uint32_t size() const { return size_; }
    // Bytes data() may hold now: the first ones of the frame.
    uint32_t capacity() const { return capacity_; }
    // Makes room for min(capacity, size()) bytes, keeping those held; false
    // (and the frame unchanged) when the memory cannot be had.
    bool grow(uint32_t capacity);

    // Set once the body has passed frame::verify().
    const wire::Message *message() const { return message_; }
    void set_message(const wire::Message *message) { message_ = message; }

  private:
    struct Free {
        void operator()(void *p) const { std::free(p); }
    };
    RequestFrame(void *bytes, uint32_t size, uint32_t capacity)
        : bytes_(bytes), size_(size), capacity_(capacity) {}

    // malloc and realloc align to 16, as flatbuffers needs; realloc moves
    // large blocks by remapping pages rather than copying them.
    std::unique_ptr<void, Free> bytes_;
    uint32_t size_;
    uint32_t capacity_;
    const wire::Message *message_ = nullptr;
};

using RequestFramePtr = std::unique_ptr<RequestFrame>;

inline std::unique_ptr<RequestFrame> RequestFrame::allocate(uint32_t size, uint32_t capacity) {
    if (capacity > size) capacity = size;
    void *bytes = std::malloc(capacity > 0 ? capacity : 1);
    if (!bytes) return nullptr;
    return std::unique_ptr<RequestFrame>(new RequestFrame(bytes, size, capacity));
}

inline bool RequestFrame::grow(uint32_t capacity) {
    if (capacity > size_) capacity = size_;
    if (capacity <= capacity_) return true;
    void *bytes = std::realloc(bytes_.get(), capacity);
    if (!bytes) return false;
    (void)bytes_.release();
    bytes_.reset(bytes);
    capacity_ = capacity;
    return true;
}

} // namespace salus::server
