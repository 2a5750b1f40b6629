// Executable::run on a stream: on the CPU feeds land in the arena and outputs
// are read from it with no staging at all; on a device that is not
// host-visible (CUDA), feeds and outputs pass through the session's staging
// buffer and outputs are read only after the stream was waited for.
//
// The second case runs here on a device that keeps host memory but declares
// itself not host-visible and queues device-to-host copies until
// synchronize(), as a CUDA stream would finish them: the executor's staging
// path is otherwise reachable only on a GPU (the cuda suite runs it there).
#include "device/device.h"
#include "exec/executable.h"
#include "graph_helpers.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

namespace salus {
namespace {

using test::float_attr;
using test::GraphBuilder;

struct Range {
    const uint8_t *begin = nullptr;
    size_t bytes = 0;
    bool holds(const void *p, size_t n) const {
        auto *q = static_cast<const uint8_t *>(p);
        return q >= begin && q + n <= begin + bytes;
    }
};

// Host memory behind a device interface that is not host-visible.
class StagedStream final : public Stream {
  public:
    Status attach_thread() override { return {}; }
    std::string name() const override { return "staged"; }
    Status copy_to_device(void *dst, const void *src, size_t bytes) override {
        to_device.push_back(src);
        std::memcpy(dst, src, bytes);
        return {};
    }
    Status copy_to_host(void *dst, const void *src, size_t bytes) override {
        to_host.push_back(dst);
        pending.push_back({dst, src, bytes});
        return {};
    }
    Status synchronize() override {
        for (const Copy &c : pending) std::memcpy(c.dst, c.src, c.bytes);
        pending.clear();
        ++synchronized;
        return {};
    }

    struct Copy {
        void *dst;
        const void *src;
        size_t bytes;
    };
    std::vector<Copy> pending;
    std::vector<const void *> to_device, to_host;
    int synchronized = 0;
};

class StagedDevice final : public Device {
  public:
    DeviceType type() const override { return DeviceType::CUDA; } // plans as CUDA would
    std::string description() const override { return "staged"; }
    DeviceFacts facts() const override { return {}; }
    uint64_t default_pool_bytes(uint64_t, Status *status) const override {
        *status = {};
        return 0;
    }
    bool host_visible() const override { return false; }
    void *allocate(size_t bytes, Status *status) override { return cpu_->allocate(bytes, status); }
    void release(void *ptr, size_t bytes) override { cpu_->release(ptr, bytes); }
    void *allocate_staging(size_t bytes, Status *status) override {
        void *p = cpu_->allocate_staging(bytes, status);
        staging = {static_cast<const uint8_t *>(p), bytes};
        return p;
    }
    void release_staging(void *ptr, size_t bytes) override { cpu_->release_staging(ptr, bytes); }
    std::unique_ptr<Stream> create_stream(Status *status) override {
        *status = {};
        return std::make_unique<StagedStream>();
    }
    Status copy_to_device(void *dst, const void *src, size_t bytes) override {
        return cpu_->copy_to_device(dst, src, bytes);
    }
    Status copy_to_host(void *dst, const void *src, size_t bytes) override {
        return cpu_->copy_to_host(dst, src, bytes);
    }
    Status move_within(void *dst, const void *src, size_t bytes) override {
        return cpu_->move_within(dst, src, bytes);
    }

    Range staging;

  private:
    std::unique_ptr<Device> cpu_ = make_cpu_device();
};

// y = relu(x + b) for x [2, 3] fed, b [3] a variable; also outputs b and x.
Graph small_graph(uint32_t *x_id) {
    GraphBuilder g;
    const uint32_t x = g.input("x", {2, 3});
    const uint32_t b = g.variable("b", {3});
    const float init[3] = {0.5f, -1.0f, 2.0f};
    std::memcpy(g.graph().tensors[b].init.data(), init, sizeof init);
    const uint32_t y = g.op("Relu", {g.op("Add", {x, b})});
    g.output(y).output(b).output(x);
    *x_id = x;
    return g.graph();
}

const float kX[6] = {1, 2, 3, -4, 5, -6};
const float kY[6] = {1.5f, 1, 5, 0, 4, 0};

Feed feed_x(uint32_t id) {
    static const int64_t shape[2] = {2, 3};
    return {id, DType::F32, shape, 2, kX, sizeof kX};
}

void expect_outputs(const Executable &exe) {
    const auto *y = static_cast<const float *>(exe.output_host(0));
    const auto *b = static_cast<const float *>(exe.output_host(1));
    for (int i = 0; i < 6; ++i) EXPECT_EQ(y[i], kY[i]) << i;
    EXPECT_EQ(b[0], 0.5f);
    EXPECT_EQ(b[2], 2.0f);
    float x[6];
    exe.read_output(2, x);
    EXPECT_EQ(std::memcmp(x, kX, sizeof x), 0);
}

TEST(Executable, CpuRunsWithoutStaging) {
    std::unique_ptr<Device> device = make_cpu_device();
    Status st;
    std::unique_ptr<Stream> stream = device->create_stream(&st);
    ASSERT_TRUE(st.ok());
    uint32_t x = 0;
    std::unique_ptr<Executable> exe;
    ASSERT_TRUE(Executable::create(device.get(), default_kernels(), small_graph(&x), &exe).ok());
    EXPECT_EQ(exe->staging_bytes(), 0u);
    const Feed f = feed_x(x);
    ASSERT_TRUE(exe->check_feeds(&f, 1).ok());
    ASSERT_TRUE(exe->run(stream.get(), &f, 1).ok());
    expect_outputs(*exe);
    // The fed input is read back from where the kernels read it: the arena.
    EXPECT_NE(exe->output_host(2), static_cast<const void *>(kX));
}

TEST(Executable, StagedDeviceCopiesThroughStagingAndReadsAfterTheWait) {
    StagedDevice device;
    Status st;
    std::unique_ptr<Stream> owned = device.create_stream(&st);
    auto &stream = static_cast<StagedStream &>(*owned);
    // The CPU kernels stand in for the device's: the memory is host memory.
    KernelRegistry kernels;
    for (const char *op : {"Add", "Relu"}) {
        kernels.add(DeviceType::CUDA, op, default_kernels().find(DeviceType::CPU, op)->fn);
    }
    uint32_t x = 0;
    std::unique_ptr<Executable> exe;
    ASSERT_TRUE(Executable::create(&device, kernels, small_graph(&x), &exe).ok());
    // One input and three outputs, each 64-byte aligned.
    EXPECT_EQ(exe->staging_bytes(), 64u * 4);
    EXPECT_EQ(device.staging.bytes, exe->staging_bytes());

    const Feed f = feed_x(x);
    ASSERT_TRUE(exe->run(&stream, &f, 1).ok());
    EXPECT_EQ(stream.synchronized, 1);
    ASSERT_EQ(stream.to_device.size(), 1u);
    EXPECT_TRUE(device.staging.holds(stream.to_device[0], sizeof kX)); // not the client's bytes
    ASSERT_EQ(stream.to_host.size(), 3u);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(stream.to_host[i], exe->output_host(i));
        EXPECT_TRUE(device.staging.holds(exe->output_host(i), exe->output_bytes(i)));
    }
    expect_outputs(*exe);
}

TEST(Executable, AFailedStepStillWaitsForTheStream) {
    StagedDevice device;
    Status st;
    std::unique_ptr<Stream> owned = device.create_stream(&st);
    auto &stream = static_cast<StagedStream &>(*owned);
    GraphBuilder g;
    const uint32_t x = g.input("x", {2, 3});
    g.output(g.op("Relu", {x}));
    // A Relu kernel that refuses to run, after the feed's copy was queued.
    KernelRegistry refusing;
    refusing.add(DeviceType::CUDA, "Relu", [](const KernelContext &ctx) {
        return Status(SALUS_EEXEC, ctx.node->op + ": refused");
    });
    std::unique_ptr<Executable> exe;
    ASSERT_TRUE(Executable::create(&device, refusing, g.graph(), &exe).ok());
    const Feed f = feed_x(x);
    const Status run = exe->run(&stream, &f, 1);
    EXPECT_EQ(run.code(), SALUS_EEXEC);
    EXPECT_NE(run.message().find("(Relu): Relu: refused"), std::string::npos) << run.message();
    // Whatever was queued is done before the next iteration reuses the buffers.
    EXPECT_EQ(stream.synchronized, 1);
    EXPECT_TRUE(stream.pending.empty());
}

} // namespace
} // namespace salus
