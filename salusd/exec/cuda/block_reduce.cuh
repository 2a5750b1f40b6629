// What the CUDA kernel files share: the grid-stride loop over elements, and
// for line kernels a block per line whose threads combine their partial
// results in shared memory.
#pragma once

#include "exec/cuda/launch_config.h"

namespace salus::cuda {

// Grid-stride loop over [0, n).
#define SALUS_FOR_EACH(i, n)                                                                       \
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < (n);         \
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Every block of a line kernel walks the same lines, so all its threads reach
// every __syncthreads() together.
#define SALUS_FOR_EACH_LINE(line, lines)                                                           \
    for (int64_t line = blockIdx.x; line < (lines); line += gridDim.x)

// The threads of a block combine their values; every thread gets the result.
// blockDim.x is a power of two no larger than kMaxLineThreads (line_launch()).
__device__ inline double block_sum(double v, double *shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
        __syncthreads();
    }
    const double result = shared[0];
    __syncthreads(); // before shared is written again
    return result;
}

__device__ inline float block_max(float v, double *shared) {
    shared[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s /= 2) {
        if (threadIdx.x < s)
            shared[threadIdx.x] = fmax(shared[threadIdx.x], shared[threadIdx.x + s]);
        __syncthreads();
    }
    const float result = static_cast<float>(shared[0]);
    __syncthreads();
    return result;
}

} // namespace salus::cuda
