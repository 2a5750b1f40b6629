// Where each ephemeral buffer of a plan goes in the arena: two strategies
// behind one call. Greedy by size (largest first, at the lowest offset clear
// of every placed buffer whose lifetime meets its own) gives the tightest
// peaks, but looks at every placed buffer for each one: quadratic, 23 s at
// 200,000 nodes. By step (an allocator replayed over the order: best fit
// among freed blocks, coalesced, else the top of the arena) costs
// O(n log n) at a somewhat higher peak. Auto uses greedy up to
// kGreedyPlacementMaxBuffers buffers, so every model of ordinary size gets
// the tight plan, and by step beyond, so no graph can hold the planner for
// long.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace salus {

enum class Placement { Auto, BySize, ByStep };

constexpr size_t kGreedyPlacementMaxBuffers = 4096;

// One buffer of the arena: size (aligned to kPlanAlignment), live from step
// `first` to `last` inclusive; `offset` is the result.
struct PlacedBuffer {
    uint64_t size;
    uint32_t first;
    uint32_t last;
    size_t id; // the caller's: ties break by it, so placement is deterministic
    uint64_t offset;
};

// Sets every buffer's offset (aligned, since sizes are) so that no two
// buffers with overlapping lifetimes overlap in memory; returns the peak.
uint64_t place_buffers(std::vector<PlacedBuffer> *buffers, Placement how = Placement::Auto);

} // namespace salus
