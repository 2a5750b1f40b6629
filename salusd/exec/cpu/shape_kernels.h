// The CPU kernels of the shape family (ops/shape.cpp) and what they share:
// data movement takes every dtype, so its loops are written once over an
// unsigned integer of the element's size.
#pragma once

#include "exec/cuda/shape_device.h"
#include "exec/kernel.h"

#include <cstdint>

namespace salus::cpu {

// shape.cpp: Concat, Split, Slice, SliceGrad, Tile, TileGrad.
Status concat(const KernelContext &ctx);
Status split(const KernelContext &ctx);
Status slice(const KernelContext &ctx);
Status slice_grad(const KernelContext &ctx);
Status tile(const KernelContext &ctx);
Status tile_grad(const KernelContext &ctx);

// gather.cpp
Status gather(const KernelContext &ctx);
Status gather_grad(const KernelContext &ctx);
Status gather_elements(const KernelContext &ctx);
Status gather_elements_grad(const KernelContext &ctx);

// Calls fn(E{}) with E the unsigned integer of `bytes` bytes (1, 2, 4 or 8);
// false for any other size.
template <typename Fn>
bool with_element(size_t bytes, Fn &&fn) {
    switch (bytes) {
    case 1:
        fn(uint8_t{});
        return true;
    case 2:
        fn(uint16_t{});
        return true;
    case 4:
        fn(uint32_t{});
        return true;
    case 8:
        fn(uint64_t{});
        return true;
    default:
        return false;
    }
}

// Element i of an i32 or i64 index tensor.
inline int64_t index_at(const TensorView &t, int64_t i) {
    return t.dtype == DType::I64 ? static_cast<const int64_t *>(t.data)[i]
                                 : static_cast<const int32_t *>(t.data)[i];
}

// One rule for indices on both backends.
using cuda::normalize_index;

} // namespace salus::cpu
