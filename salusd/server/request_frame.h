// One received frame body, in storage aligned for flatbuffers. Feeds of a
// queued iteration point into it, so it moves with the iteration and is
// freed only when that iteration has run or been dropped.
#pragma once

#include "wire_generated.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>

namespace salus::server {

class RequestFrame {
  public:
    // nullptr when the memory cannot be had.
    static std::unique_ptr<RequestFrame> allocate(uint32_t size);

    uint8_t *data() { return reinterpret_cast<uint8_t *>(words_.get()); }
    const uint8_t *data() const { return reinterpret_cast<const uint8_t *>(words_.get()); }
    uint32_t size() const { return size_; }

    // Set once the body has passed frame::verify().
    const wire::Message *message() const { return message_; }
    void set_message(const wire::Message *message) { message_ = message; }

  private:
    RequestFrame(std::unique_ptr<uint64_t[]> words, uint32_t size)
        : words_(std::move(words)), size_(size) {}

    std::unique_ptr<uint64_t[]> words_; // uint64_t: 8-byte alignment
    uint32_t size_;
    const wire::Message *message_ = nullptr;
};

using RequestFramePtr = std::unique_ptr<RequestFrame>;

inline std::unique_ptr<RequestFrame> RequestFrame::allocate(uint32_t size) {
    std::unique_ptr<uint64_t[]> words(new (std::nothrow) uint64_t[(size + 7u) / 8u]);
    if (!words) return nullptr;
    return std::unique_ptr<RequestFrame>(new RequestFrame(std::move(words), size));
}

} // namespace salus::server
