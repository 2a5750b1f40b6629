#include "device/device.h"

namespace salus {

const char *device_type_name(DeviceType type) {
    switch (type) {
    case DeviceType::CPU: return "cpu";
    case DeviceType::CUDA: return "cuda";
    }
    return "unknown";
}

} // namespace salus
