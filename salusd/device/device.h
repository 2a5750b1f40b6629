// The device interface: where a session's memory lives and how bytes move
// between the host and it. The CPU backend implements it with mapped host
// memory; the CUDA backend with device memory and streams.
#pragma once

#include "common/status.h"

#include <cstddef>
#include <memory>
#include <string>

namespace salus {

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };

const char *device_type_name(DeviceType type);

class Device {
  public:
    virtual ~Device() = default;

    virtual DeviceType type() const = 0;
    // e.g. "cpu (2 cores)"
    virtual std::string description() const = 0;

    // Device memory, 64-byte aligned and zero-filled; nullptr with *status
    // set when it cannot be had. bytes may be 0 (returns nullptr, OK status).
    virtual void *allocate(size_t bytes, Status *status) = 0;
    virtual void release(void *ptr, size_t bytes) = 0;

    virtual void copy_to_device(void *dst, const void *src, size_t bytes) = 0;
    virtual void copy_to_host(void *dst, const void *src, size_t bytes) = 0;
    // Device to device with memmove semantics (the ranges may overlap): how
    // re-partitioning moves persistent blocks between iterations.
    virtual void move_within(void *dst, const void *src, size_t bytes) = 0;
};

std::unique_ptr<Device> make_cpu_device();

} // namespace salus
