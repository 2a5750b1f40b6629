// The CUDA backend's device: one GPU, its memory claimed with cudaMalloc,
// pinned host memory for staging, streams with their cuBLAS and cuDNN
// handles, and a cuDNN handle to prepare sessions with (dnn_planning.h).
#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_facts.h"
#include "device/cuda/cuda_stream.h"
#include "device/cuda/dnn_planning.h"
#include "device/cuda/move_plan.h"
#include "device/device.h"

#include <cuda_runtime_api.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace salus {
namespace {

// A move that would take more copies than this goes through host memory.
constexpr size_t kMaxMoveCopies = 256;

std::string bytes_str(uint64_t bytes) {
    return std::to_string(bytes >> 20) + " MiB";
}

// The driver loads every kernel module when the context is created, not at
// a kernel's first launch (CUDA 12's default is lazy loading): a module
// loaded while serving would take device memory after the pool was claimed.
// Must run before the first CUDA call of the process.
void load_modules_eagerly() {
    setenv("CUDA_MODULE_LOADING", "EAGER", 1);
}

// Copies between iterations (initial values, re-partitioning moves) run on a
// stream of the device's own and are waited for: cudaMemcpy would run them on
// the legacy default stream, which the lanes' non-blocking streams do not
// wait for, and returns before a device-to-device (or pageable
// host-to-device) copy has landed.
class CudaDevice final : public Device {
  public:
    CudaDevice(int index, const cudaDeviceProp &props, cudaStream_t copies, cudnnHandle_t dnn)
        : index_(index), name_(props.name), major_(props.major), minor_(props.minor),
          total_bytes_(props.totalGlobalMem), copies_(copies), dnn_(dnn) {}

    ~CudaDevice() override {
        if (cudaSetDevice(index_) != cudaSuccess) return;
        (void)cudnnDestroy(dnn_);
        (void)cudaStreamDestroy(copies_);
    }

    // cuDNN works on the calling thread's current device: make it this one.
    cuda::PlanningDnn planning_dnn() {
        if (cudaSetDevice(index_) != cudaSuccess) return {};
        return cuda::PlanningDnn(std::unique_lock<std::mutex>(dnn_mutex_), dnn_);
    }

    DeviceType type() const override { return DeviceType::CUDA; }

    std::string description() const override {
        return cuda::describe_device(index_, name_, major_, minor_, total_bytes_);
    }

    DeviceFacts facts() const override {
        DeviceFacts f;
        f.name = name_;
        f.index = index_;
        f.total_bytes = total_bytes_;
        size_t free = 0, total = 0;
        if (cudaSetDevice(index_) == cudaSuccess && cudaMemGetInfo(&free, &total) == cudaSuccess) {
            f.free_bytes = free;
        }
        return f;
    }

    // What the driver says is free now, less the reserve.
    uint64_t default_pool_bytes(uint64_t reserve, Status *status) const override {
        size_t free = 0, total = 0;
        *status = cuda::check(cudaSetDevice(index_), "cudaSetDevice");
        if (status->ok()) *status = cuda::check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
        if (!status->ok()) return 0;
        if (free <= reserve) {
            *status = Status(SALUS_ERESOURCE,
                             "cuda:" + std::to_string(index_) + " has " + bytes_str(free) +
                                 " free, no more than the pool reserve of " + bytes_str(reserve) +
                                 " (see --pool-reserve and --pool-bytes)");
            return 0;
        }
        return free - reserve;
    }

    bool host_visible() const override { return false; }

    void *allocate(size_t bytes, Status *status) override {
        *status = {};
        if (bytes == 0) return nullptr;
        void *p = nullptr;
        *status = cuda::check(cudaSetDevice(index_), "cudaSetDevice");
        if (status->ok()) *status = cuda::check(cudaMalloc(&p, bytes), "cudaMalloc");
        if (status->ok()) {
            *status = cuda::check(cudaMemsetAsync(p, 0, bytes, copies_), "cudaMemsetAsync");
        }
        if (status->ok()) *status = wait_for_copies();
        if (!status->ok()) {
            if (p) (void)cudaFree(p);
            *status = Status(SALUS_ERESOURCE, "cannot allocate " + std::to_string(bytes) +
                                                  " bytes of device memory: " + status->message());
            return nullptr;
        }
        return p;
    }

    void release(void *ptr, size_t /*bytes*/) override {
        if (ptr && cudaSetDevice(index_) == cudaSuccess) (void)cudaFree(ptr);
    }

    void *allocate_staging(size_t bytes, Status *status) override {
        *status = {};
        if (bytes == 0) return nullptr;
        void *p = nullptr;
        *status = cuda::check(cudaSetDevice(index_), "cudaSetDevice");
        if (status->ok()) {
            *status = cuda::check(cudaHostAlloc(&p, bytes, cudaHostAllocDefault), "cudaHostAlloc");
        }
        if (!status->ok()) {
            *status =
                Status(SALUS_ENOMEM, "cannot allocate " + std::to_string(bytes) +
                                         " bytes of pinned staging memory: " + status->message());
            return nullptr;
        }
        std::memset(p, 0, bytes);
        return p;
    }

    void release_staging(void *ptr, size_t /*bytes*/) override {
        if (ptr) (void)cudaFreeHost(ptr);
    }

    std::unique_ptr<Stream> create_stream(Status *status) override {
        return cuda::CudaStream::create(index_, ++streams_, status);
    }

    Status copy_to_device(void *dst, const void *src, size_t bytes) override {
        if (bytes == 0) return {};
        SALUS_RETURN_IF_ERROR(cuda::check(cudaSetDevice(index_), "cudaSetDevice"));
        SALUS_RETURN_IF_ERROR(
            cuda::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, copies_),
                        "copying to the device"));
        return wait_for_copies();
    }

    Status copy_to_host(void *dst, const void *src, size_t bytes) override {
        if (bytes == 0) return {};
        SALUS_RETURN_IF_ERROR(cuda::check(cudaSetDevice(index_), "cudaSetDevice"));
        SALUS_RETURN_IF_ERROR(
            cuda::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, copies_),
                        "copying to the host"));
        return wait_for_copies();
    }

    Status move_within(void *dst, const void *src, size_t bytes) override {
        SALUS_RETURN_IF_ERROR(cuda::check(cudaSetDevice(index_), "cudaSetDevice"));
        std::vector<cuda::Copy> copies;
        if (cuda::plan_device_move(reinterpret_cast<uintptr_t>(dst),
                                   reinterpret_cast<uintptr_t>(src), bytes, kMaxMoveCopies,
                                   &copies)) {
            // In order on one stream: a copy never starts before the one
            // that frees its destination has finished.
            for (const cuda::Copy &c : copies) {
                SALUS_RETURN_IF_ERROR(
                    cuda::check(cudaMemcpyAsync(reinterpret_cast<void *>(c.dst),
                                                reinterpret_cast<void *>(c.src), c.bytes,
                                                cudaMemcpyDeviceToDevice, copies_),
                                "moving within the device"));
            }
            return wait_for_copies();
        }
        // A long block moved by a short distance: through the host, once.
        std::vector<uint8_t> bounce(bytes);
        SALUS_RETURN_IF_ERROR(copy_to_host(bounce.data(), src, bytes));
        return copy_to_device(dst, bounce.data(), bytes);
    }

  private:
    Status wait_for_copies() {
        return cuda::check(cudaStreamSynchronize(copies_), "waiting for a copy");
    }

    const int index_;
    const std::string name_;
    const int major_;
    const int minor_;
    const uint64_t total_bytes_;
    cudaStream_t copies_; // copies between iterations (loop thread, or at start)
    cudnnHandle_t dnn_;   // to prepare sessions with
    std::mutex dnn_mutex_;
    int streams_ = 0; // created so far: numbers them
};

} // namespace

namespace cuda {

PlanningDnn planning_dnn(Device *device) {
    auto *cuda = dynamic_cast<CudaDevice *>(device);
    return cuda ? cuda->planning_dnn() : PlanningDnn();
}

} // namespace cuda

int cuda_device_count(std::string *why) {
    load_modules_eagerly();
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        *why = std::string(cudaGetErrorString(err)) + " (" + cudaGetErrorName(err) + ")";
        return 0;
    }
    if (count == 0) *why = "the driver sees no CUDA device";
    return count;
}

Status open_cuda_device(int index, std::unique_ptr<Device> *out) {
    std::string why;
    const int count = cuda_device_count(&why);
    if (count == 0) return Status(SALUS_ERESOURCE, "no CUDA device: " + why);
    if (index >= count) {
        return Status(SALUS_EINVAL, "cuda:" + std::to_string(index) +
                                        ": no such device (the driver sees " +
                                        std::to_string(count) + ")");
    }
    cudaDeviceProp props;
    SALUS_RETURN_IF_ERROR(
        cuda::check(cudaGetDeviceProperties(&props, index), "cudaGetDeviceProperties"));
    SALUS_RETURN_IF_ERROR(cuda::check(cudaSetDevice(index), "cudaSetDevice"));
    // Creates the context (and, loading eagerly, every kernel module) now.
    SALUS_RETURN_IF_ERROR(cuda::check(cudaFree(nullptr), "creating the CUDA context"));
    cudaStream_t copies = nullptr;
    SALUS_RETURN_IF_ERROR(cuda::check(cudaStreamCreateWithFlags(&copies, cudaStreamNonBlocking),
                                      "cudaStreamCreateWithFlags"));
    cudnnHandle_t dnn = nullptr;
    if (Status st = cuda::check(cudnnCreate(&dnn), "cudnnCreate"); !st.ok()) {
        (void)cudaStreamDestroy(copies);
        return st;
    }
    *out = std::make_unique<CudaDevice>(index, props, copies, dnn);
    return {};
}

} // namespace salus
