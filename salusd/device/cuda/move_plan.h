// How the CUDA device moves a block of device memory to a range that may
// overlap it (re-partitioning compacts blocks towards lower addresses, or
// shifts them up): cudaMemcpy has no memmove semantics, so the move is cut
// into copies that each read and write disjoint ranges, in an order that
// never overwrites bytes a later copy still has to read. Plain C++ so that
// every build tests it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace salus::cuda {

struct Copy {
    uint64_t dst;
    uint64_t src;
    uint64_t bytes;
};

// The copies for memmove(dst, src, bytes), in order (addresses as integers).
// Empty when there is nothing to do. When the ranges overlap, each copy
// moves as many bytes as the distance between them; false when that takes
// more than max_copies copies (the caller then bounces through the host).
bool plan_device_move(uint64_t dst, uint64_t src, uint64_t bytes, size_t max_copies,
                      std::vector<Copy> *copies);

} // namespace salus::cuda
