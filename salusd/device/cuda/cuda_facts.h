// How a CUDA device is described to operators, from what the driver reports.
// Plain C++ so that every build tests it.
#pragma once

#include <cstdint>
#include <string>

namespace salus::cuda {

// e.g. "cuda:0 NVIDIA H100 80GB HBM3 (sm_90, 80 GiB)"
std::string describe_device(int index, const std::string &name, int major, int minor,
                            uint64_t total_bytes);

} // namespace salus::cuda
