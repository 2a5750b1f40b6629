// The CPU backend's device: host memory mapped per request, so a region is
// page-aligned, zero-filled and returned to the system when released.
#include "device/cpu_threads.h"
#include "device/device.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/mman.h>
#include <unistd.h>

namespace salus {
namespace {

uint64_t physical_bytes() {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages < 1 || page < 1) return 0;
    return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

// MemAvailable counts reclaimable caches, which is what a job could get;
// the free page count is the fallback on kernels without it.
uint64_t available_bytes() {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    unsigned long long kib;
    while (meminfo >> key >> kib) {
        if (key == "MemAvailable:") return static_cast<uint64_t>(kib) * 1024;
        meminfo.ignore(64, '\n');
    }
    long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages < 1 || page < 1) return 0;
    return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
}

// "model name" of /proc/cpuinfo, or "cpu" where it has none (some arm64).
std::string cpu_model() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (line.rfind("model name", 0) != 0) continue;
        size_t colon = line.find(':');
        if (colon == std::string::npos) break;
        size_t start = line.find_first_not_of(" \t", colon + 1);
        if (start != std::string::npos) return line.substr(start);
    }
    return "cpu";
}

// Everything runs at once on the calling thread: a copy is a memcpy, and
// there is never anything to wait for.
class CpuStream final : public Stream {
  public:
    Status attach_thread() override {
        attach_cpu_math_threads();
        return {};
    }
    std::string name() const override { return {}; }
    Status copy_to_device(void *dst, const void *src, size_t bytes) override {
        std::memcpy(dst, src, bytes);
        return {};
    }
    Status copy_to_host(void *dst, const void *src, size_t bytes) override {
        std::memcpy(dst, src, bytes);
        return {};
    }
    Status synchronize() override { return {}; }
};

class CpuDevice final : public Device {
  public:
    DeviceType type() const override { return DeviceType::CPU; }

    std::string description() const override {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        return "cpu (" + std::to_string(cores > 0 ? cores : 1) + " cores)";
    }

    DeviceFacts facts() const override {
        DeviceFacts f;
        f.name = cpu_model();
        f.total_bytes = physical_bytes();
        f.free_bytes = available_bytes();
        return f;
    }

    // Half the physical memory: pages are committed only when used, so a
    // large pool costs nothing until sessions fill it. The reserve is for
    // devices whose memory is claimed eagerly.
    uint64_t default_pool_bytes(uint64_t /*reserve*/, Status *status) const override {
        *status = {};
        uint64_t total = physical_bytes();
        return total ? total / 2 : 1ull << 30;
    }

    bool host_visible() const override { return true; }

    void *allocate(size_t bytes, Status *status) override {
        *status = {};
        if (bytes == 0) return nullptr;
        // Pages are committed when first touched: a large pool costs nothing
        // until sessions use it.
        void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            *status =
                Status(SALUS_ERESOURCE, "cannot map " + std::to_string(bytes) +
                                            " bytes of device memory: " + std::strerror(errno));
            return nullptr;
        }
        return p;
    }

    void release(void *ptr, size_t bytes) override {
        if (ptr) munmap(ptr, bytes);
    }

    // Device memory is host memory: iterations never stage through this,
    // but it honours the contract for code that does.
    void *allocate_staging(size_t bytes, Status *status) override {
        *status = {};
        if (bytes == 0) return nullptr;
        const size_t rounded = (bytes + 63) / 64 * 64;
        void *p = std::aligned_alloc(64, rounded);
        if (p) std::memset(p, 0, rounded);
        if (!p) {
            *status = Status(SALUS_ENOMEM, "cannot allocate " + std::to_string(bytes) +
                                               " bytes of staging memory");
        }
        return p;
    }

    void release_staging(void *ptr, size_t /*bytes*/) override { std::free(ptr); }

    std::unique_ptr<Stream> create_stream(Status *status) override {
        *status = {};
        return std::make_unique<CpuStream>();
    }

    Status copy_to_device(void *dst, const void *src, size_t bytes) override {
        std::memcpy(dst, src, bytes);
        return {};
    }

    Status copy_to_host(void *dst, const void *src, size_t bytes) override {
        std::memcpy(dst, src, bytes);
        return {};
    }

    Status move_within(void *dst, const void *src, size_t bytes) override {
        std::memmove(dst, src, bytes);
        return {};
    }
};

} // namespace

std::unique_ptr<Device> make_cpu_device() {
    return std::make_unique<CpuDevice>();
}

} // namespace salus
