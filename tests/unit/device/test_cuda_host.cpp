// What the CUDA device decides without a driver: which errors lose the
// device, how it is described, and how an overlapping move is cut into
// copies that cudaMemcpy may run.
#include "device/cuda/cuda_errors.h"
#include "device/cuda/cuda_facts.h"
#include "device/cuda/move_plan.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <random>
#include <vector>

namespace salus::cuda {
namespace {

TEST(CudaErrors, KernelFaultsAndHardwareErrorsAreSticky) {
    // cudaErrorIllegalAddress, LaunchFailure, IllegalInstruction,
    // MisalignedAddress, HardwareStackError, InvalidPc, ECCUncorrectable,
    // Assert, LaunchTimeout, Unknown.
    for (int code : {700, 719, 715, 716, 714, 718, 214, 710, 702, 999}) {
        EXPECT_TRUE(is_sticky_error(code)) << code;
    }
}

TEST(CudaErrors, CallErrorsLeaveTheContextUsable) {
    // Success, InvalidValue, MemoryAllocation, InvalidConfiguration,
    // InsufficientDriver, NoDevice, InvalidDevice, NoKernelImageForDevice,
    // NotReady, LaunchOutOfResources.
    for (int code : {0, 1, 2, 9, 35, 100, 101, 209, 600, 701}) {
        EXPECT_FALSE(is_sticky_error(code)) << code;
    }
}

TEST(CudaErrors, TableHasNoDuplicates) {
    for (size_t i = 0; i < std::size(kStickyErrors); ++i) {
        for (size_t j = i + 1; j < std::size(kStickyErrors); ++j) {
            EXPECT_NE(kStickyErrors[i].code, kStickyErrors[j].code) << kStickyErrors[i].name;
        }
    }
}

TEST(CudaFacts, DescriptionNamesIndexModelArchitectureAndMemory) {
    EXPECT_EQ(describe_device(0, "NVIDIA H100 80GB HBM3", 9, 0, 85'045'215'232ull),
              "cuda:0 NVIDIA H100 80GB HBM3 (sm_90, 79 GiB)");
    EXPECT_EQ(describe_device(3, "NVIDIA A100-SXM4-40GB", 8, 0, 42'505'273'344ull),
              "cuda:3 NVIDIA A100-SXM4-40GB (sm_80, 40 GiB)");
    EXPECT_EQ(describe_device(1, "Small", 8, 6, 6ull << 29), "cuda:1 Small (sm_86, 3.0 GiB)");
}

// Applies the copies to a host buffer, checking that no copy overlaps
// itself, and compares with memmove.
void expect_moves_like_memmove(uint64_t dst, uint64_t src, uint64_t bytes, size_t max_copies) {
    std::vector<uint8_t> want(4096), got;
    for (size_t i = 0; i < want.size(); ++i) want[i] = static_cast<uint8_t>(i * 7 + 3);
    got = want;
    std::memmove(want.data() + dst, want.data() + src, bytes);
    std::vector<Copy> copies;
    ASSERT_TRUE(plan_device_move(dst, src, bytes, max_copies, &copies));
    uint64_t total = 0;
    for (const Copy &c : copies) {
        ASSERT_TRUE(c.dst + c.bytes <= c.src || c.src + c.bytes <= c.dst)
            << "a copy overlaps itself: " << c.dst << " " << c.src << " " << c.bytes;
        std::memcpy(got.data() + c.dst, got.data() + c.src, c.bytes);
        total += c.bytes;
    }
    EXPECT_EQ(total, dst == src ? 0 : bytes);
    EXPECT_EQ(got, want) << "dst " << dst << " src " << src << " bytes " << bytes;
}

TEST(CudaMovePlan, MovesLikeMemmoveWithCopiesThatNeverOverlap) {
    expect_moves_like_memmove(0, 1000, 500, 1); // disjoint: one copy
    expect_moves_like_memmove(1000, 0, 500, 1);
    expect_moves_like_memmove(100, 100, 500, 1); // nowhere to go
    expect_moves_like_memmove(0, 64, 1000, 64);  // down, overlapping
    expect_moves_like_memmove(64, 0, 1000, 64);  // up, overlapping
    expect_moves_like_memmove(0, 1, 3000, 3000); // down by one byte
    expect_moves_like_memmove(1, 0, 3000, 3000);
    std::mt19937 rng(5);
    for (int i = 0; i < 2000; ++i) {
        const uint64_t bytes = rng() % 2048;
        const uint64_t src = rng() % (4096 - bytes + 1), dst = rng() % (4096 - bytes + 1);
        expect_moves_like_memmove(dst, src, bytes, 4096);
        if (testing::Test::HasFailure()) return;
    }
}

TEST(CudaMovePlan, TooManyCopiesAsksForABounce) {
    std::vector<Copy> copies;
    EXPECT_FALSE(plan_device_move(0, 64, 1 << 20, 256, &copies));  // 16384 copies
    EXPECT_TRUE(plan_device_move(0, 4096, 1 << 20, 256, &copies)); // 256 copies
    EXPECT_EQ(copies.size(), 256u);
}

} // namespace
} // namespace salus::cuda
