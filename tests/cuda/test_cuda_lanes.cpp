// Two lanes' iterations overlap on the GPU, seen with CUDA events. Two
// sessions' executables run from two threads, each on a stream the device
// created up front, as two lane threads of the engine run theirs; events
// recorded on each stream before and after its iteration time both on the
// device's clock. (test_cuda_daemon.c checks the same through a live
// salusd's lanes, by wall clock.)
//
// The graph is a chain of Softmax nodes over one long line, so every kernel
// is a single block: the GPU has room for both lanes at once, and their
// kernels overlap unless something serializes the streams (one shared
// stream, the legacy default stream, a device-wide synchronization, a lock
// in the executor). Exits 77 without a GPU.
#include "device/cuda/cuda_stream.h"
#include "device/device.h"
#include "exec/executable.h"
#include "gpu_check.h"
#include "graph_helpers.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

namespace salus::test {
namespace {

constexpr int64_t kLine = int64_t{1} << 20;
constexpr int kChain = 100;

Graph softmax_chain(uint32_t *x) {
    GraphBuilder g;
    *x = g.input("x", {1, kLine});
    uint32_t t = *x;
    for (int i = 0; i < kChain; ++i) t = g.op("Softmax", {t}, {{"axis", int_attr(1)}});
    g.output(t);
    return g.graph();
}

struct Lane {
    std::unique_ptr<Stream> stream;
    std::unique_ptr<Executable> exe;
    uint32_t x = 0;
    std::vector<float> input = std::vector<float>(kLine, 0.5f);
    cudaEvent_t begin = nullptr, end = nullptr;

    cudaStream_t handle() const { return cuda::lane_stream(stream.get()).handle(); }

    // One iteration between two events on the lane's stream.
    void run() {
        const int64_t shape[2] = {1, kLine};
        const Feed f = {x, DType::F32, shape, 2, input.data(), input.size() * sizeof(float)};
        ASSERT_EQ(cudaEventRecord(begin, handle()), cudaSuccess);
        const Status st = exe->run(stream.get(), &f, 1);
        ASSERT_TRUE(st.ok()) << st.message();
        ASSERT_EQ(cudaEventRecord(end, handle()), cudaSuccess);
        ASSERT_EQ(cudaEventSynchronize(end), cudaSuccess);
    }
};

float ms_between(cudaEvent_t a, cudaEvent_t b) {
    float ms = 0;
    EXPECT_EQ(cudaEventElapsedTime(&ms, a, b), cudaSuccess);
    return ms;
}

TEST(CudaLanes, IterationsOfTwoLanesOverlapOnTheDevice) {
    std::unique_ptr<Device> device;
    ASSERT_TRUE(open_cuda_device(0, &device).ok());
    Lane lanes[2];
    for (Lane &lane : lanes) {
        Status st;
        lane.stream = device->create_stream(&st);
        ASSERT_TRUE(st.ok()) << st.message();
        ASSERT_TRUE(lane.stream->attach_thread().ok());
        ASSERT_TRUE(
            Executable::create(device.get(), default_kernels(), softmax_chain(&lane.x), &lane.exe)
                .ok());
        ASSERT_EQ(cudaEventCreate(&lane.begin), cudaSuccess);
        ASSERT_EQ(cudaEventCreate(&lane.end), cudaSuccess);
    }
    EXPECT_NE(lanes[0].handle(), lanes[1].handle());

    // Alone, after a warm-up.
    float solo[2];
    for (int i = 0; i < 2; ++i) {
        lanes[i].run();
        lanes[i].run();
        solo[i] = ms_between(lanes[i].begin, lanes[i].end);
    }

    // Together, from two threads, as two lane threads.
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (Lane &lane : lanes) {
        threads.emplace_back([&lane, &ready] {
            ASSERT_TRUE(lane.stream->attach_thread().ok());
            ready.fetch_add(1);
            while (ready.load() < 2) {
            }
            lane.run();
        });
    }
    for (std::thread &t : threads) t.join();
    ASSERT_FALSE(testing::Test::HasFailure());

    // Both intervals on the device's clock, from lane 0's start.
    const float b0 = 0, e0 = ms_between(lanes[0].begin, lanes[0].end);
    const float b1 = ms_between(lanes[0].begin, lanes[1].begin);
    const float e1 = ms_between(lanes[0].begin, lanes[1].end);
    const float overlap = std::min(e0, e1) - std::max(b0, b1);
    const float d0 = e0 - b0, d1 = e1 - b1;
    std::printf("solo %.2f ms and %.2f ms; together [%.2f, %.2f] and [%.2f, %.2f] ms, "
                "overlapping %.2f ms\n",
                solo[0], solo[1], b0, e0, b1, e1, overlap);
    EXPECT_GT(solo[0], 1.0f); // long enough to measure
    // Overlapping for most of the shorter one...
    EXPECT_GE(overlap, 0.5f * std::min(d0, d1));
    // ...and truly running at once: neither waits for the other's kernels.
    EXPECT_LE(d0, 1.5f * solo[0]);
    EXPECT_LE(d1, 1.5f * solo[1]);

    for (Lane &lane : lanes) {
        cudaEventDestroy(lane.begin);
        cudaEventDestroy(lane.end);
    }
}

} // namespace
} // namespace salus::test

int main(int argc, char **argv) {
    if (int rc = salus::test::require_gpu("cuda-lanes")) return rc;
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
