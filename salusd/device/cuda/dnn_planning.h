// The cuDNN handle that sessions are prepared with. cuDNN's algorithm
// heuristics need a handle on the device, and sessions are prepared on
// threads that own no lane's stream, so the device keeps one handle of its
// own for them: created when the device is opened (before the pool is
// claimed), never bound to a stream nor given work, and used by one caller at
// a time (a handle is not to be shared by threads at once).
#pragma once

#include "device/device.h"

#include <cudnn.h>

#include <mutex>

namespace salus::cuda {

class PlanningDnn {
  public:
    PlanningDnn() = default;
    PlanningDnn(std::unique_lock<std::mutex> lock, cudnnHandle_t handle)
        : lock_(std::move(lock)), handle_(handle) {}
    // Null when there is no handle to plan with.
    cudnnHandle_t handle() const { return handle_; }

  private:
    std::unique_lock<std::mutex> lock_;
    cudnnHandle_t handle_ = nullptr;
};

// device's planning handle, held for the caller while the result lives; no
// handle when device is null or not a CUDA device.
PlanningDnn planning_dnn(Device *device);

} // namespace salus::cuda
