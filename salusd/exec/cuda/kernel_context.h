// What every CUDA kernel function does with its context: queue on the lane's
// stream, and report a launch's status under the node's op.
#pragma once

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/kernel.h"

#include <string>

namespace salus::cuda {

inline cudaStream_t stream_of(const KernelContext &ctx) {
    return lane_stream(ctx.stream).handle();
}

inline Status launched(const KernelContext &ctx, cudaError_t err) {
    return check(err, (ctx.node->op + " kernel").c_str());
}

} // namespace salus::cuda
