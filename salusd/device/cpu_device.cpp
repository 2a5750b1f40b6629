// The CPU backend's device: host memory mapped per request, so a region is
// page-aligned, zero-filled and returned to the system when released.
#include "device/device.h"

#include <cerrno>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

namespace salus {
namespace {

class CpuDevice final : public Device {
  public:
    DeviceType type() const override { return DeviceType::CPU; }

    std::string description() const override {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        return "cpu (" + std::to_string(cores > 0 ? cores : 1) + " cores)";
    }

    void *allocate(size_t bytes, Status *status) override {
        *status = {};
        if (bytes == 0) return nullptr;
        // Pages are committed when first touched: a large pool costs nothing
        // until sessions use it.
        void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            *status = Status(SALUS_ERESOURCE, "cannot map " + std::to_string(bytes) +
                                                  " bytes of device memory: " +
                                                  std::strerror(errno));
            return nullptr;
        }
        return p;
    }

    void release(void *ptr, size_t bytes) override {
        if (ptr) munmap(ptr, bytes);
    }

    void copy_to_device(void *dst, const void *src, size_t bytes) override {
        std::memcpy(dst, src, bytes);
    }

    void copy_to_host(void *dst, const void *src, size_t bytes) override {
        std::memcpy(dst, src, bytes);
    }

    void move_within(void *dst, const void *src, size_t bytes) override {
        std::memmove(dst, src, bytes);
    }
};

} // namespace

std::unique_ptr<Device> make_cpu_device() { return std::make_unique<CpuDevice>(); }

} // namespace salus
