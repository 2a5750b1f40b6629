// Host-side plans of the shape family's CUDA kernels: shape checks and the
// index plans of shape_device.h, from a node's KernelContext. Plain C++ built
// everywhere, so the unit tests run them with the device code on the CPU.
#pragma once

#include "exec/cuda/shape_device.h"
#include "exec/kernel.h"

namespace salus::cuda {

// Concat and Split as 2-D copies: the whole tensor is `rows` rows of
// `row_bytes`; piece p owns `piece_bytes[p]` of each row, the pieces in order.
struct PiecesPlan {
    int64_t rows = 0;
    int64_t row_bytes = 0;
};
// piece_bytes(ctx, join, p): the bytes piece p owns in each row.
Status plan_pieces(const KernelContext &ctx, bool join, PiecesPlan *plan);
int64_t piece_bytes(const KernelContext &ctx, bool join, size_t piece);

// Slice: operand 0 walks the contiguous slice, operand 1 the sliced tensor
// `x` from its element *base. SliceGrad uses it with dX as `x`.
Status plan_slice(const KernelContext &ctx, const Shape &x, const Shape &y, StridedIndex *ix,
                  int64_t *base);
// Tile (x the input) and TileGrad (x the gradient's shape).
Status plan_tile(const KernelContext &ctx, const Shape &x, const Shape &y, TilePlan *plan);
// Gather and GatherGrad around the node's axis of `data` (GatherGrad: dX).
Status plan_gather(const KernelContext &ctx, const Shape &data, GatherPlan *plan);
Status plan_elements(const KernelContext &ctx, const Shape &data, ElementsPlan *plan);
// The Gather family's scratch: the IndexVerdict of its index check.
size_t index_check_workspace(const KernelInit &init);
// Gemm's C broadcast to Y: operand 0 Y, operand 1 C.
Status plan_gemm_c(const KernelContext &ctx, StridedIndex *ix);

} // namespace salus::cuda
