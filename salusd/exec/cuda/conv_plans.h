// Host-side plans of the conv family's CUDA kernels: shapes and attributes
// turned into the index maps of conv_device.h. Plain C++, built everywhere,
// so the unit tests run the plans with the device code on the CPU.
#pragma once

#include "exec/cuda/conv_device.h"
#include "exec/kernel.h"

#include <vector>

namespace salus::cuda {

// Pad (Y from X) or, with grad, PadGrad (the map from dX onto dY), with the
// node's pads and mode.
Status plan_pad(const KernelContext &ctx, bool grad, ResampleMap *m);
// A constant pad's map from `small` into `big`, `before` elements before
// each axis (Pad's, and the explicit padding of cuDNN convolutions with
// asymmetric pads, dnn_conv_plans.h).
ResampleMap constant_pad_map(const Shape &big, const Shape &small,
                             const std::vector<int64_t> &before);
// Upsample (Y from X) or, with grad, UpsampleGrad (the map from dX onto dY).
Status plan_upsample(const KernelContext &ctx, bool grad, ResampleMap *m);
// A pooling node's window over X (its last input) [N, C, spatial...].
Status plan_pool(const NodeDesc &node, const Shape &x, PoolPlan *p);
// DepthToSpace (the output is the space tensor) or SpaceToDepth.
Status plan_depth_space(const KernelContext &ctx, DepthSpace *p);

} // namespace salus::cuda
