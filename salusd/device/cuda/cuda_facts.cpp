#include "device/cuda/cuda_facts.h"

#include <cstdio>

namespace salus::cuda {

std::string describe_device(int index, const std::string &name, int major, int minor,
                            uint64_t total_bytes) {
    const double gib = static_cast<double>(total_bytes) / (1024.0 * 1024.0 * 1024.0);
    char size[32];
    // Whole GiB as marketed sizes are; a decimal for small devices.
    std::snprintf(size, sizeof size, gib >= 10.0 ? "%.0f GiB" : "%.1f GiB", gib);
    return "cuda:" + std::to_string(index) + " " + name + " (sm_" + std::to_string(major) +
           std::to_string(minor) + ", " + size + ")";
}

} // namespace salus::cuda
