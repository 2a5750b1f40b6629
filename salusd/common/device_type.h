// The kinds of device a salusd can drive. Kept apart from device/device.h so
// that the graph module (the planner sizes scratch space per device) does not
// depend on the device interface.
#pragma once

#include <cstdint>

namespace salus {

enum class DeviceType : uint8_t { CPU = 0, CUDA = 1 };

// "cpu", "cuda"
const char *device_type_name(DeviceType type);

} // namespace salus
