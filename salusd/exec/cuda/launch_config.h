// Grid and block sizes of the CUDA kernels: plain C++ (no CUDA types) so the
// unit tests check them on every build.
//
// Elementwise kernels walk their elements with a grid-stride loop; line
// kernels (softmax, cross-entropy, reductions) give each line (or output
// element) one block whose threads split the line and combine their partial
// results in shared memory, which needs a power-of-two block.
#pragma once

#include <stdint.h>

namespace salus::cuda {

struct LaunchConfig {
    unsigned blocks = 0; // 0: nothing to launch
    unsigned threads = 0;
};

constexpr unsigned kElementwiseThreads = 256;
constexpr unsigned kMaxLineThreads = 256; // the line kernels' shared arrays
constexpr unsigned kMinLineThreads = 32;  // one warp
// Enough blocks to fill any current GPU many times over; a grid-stride loop
// covers the rest.
constexpr int64_t kMaxBlocks = 65536;

inline LaunchConfig elementwise_launch(int64_t elements) {
    if (elements <= 0) return {};
    const int64_t blocks = (elements + kElementwiseThreads - 1) / kElementwiseThreads;
    return {static_cast<unsigned>(blocks < kMaxBlocks ? blocks : kMaxBlocks), kElementwiseThreads};
}

// One block per line: as many threads as the line has elements, rounded up
// to a power of two within [kMinLineThreads, kMaxLineThreads].
inline LaunchConfig line_launch(int64_t lines, int64_t line_length) {
    if (lines <= 0) return {};
    unsigned threads = kMinLineThreads;
    while (threads < kMaxLineThreads && threads < line_length) threads *= 2;
    return {static_cast<unsigned>(lines < kMaxBlocks ? lines : kMaxBlocks), threads};
}

} // namespace salus::cuda
