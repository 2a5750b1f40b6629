// The algorithm of a planned cuDNN convolution and its workspace, chosen
// when the session is prepared without running anything on the GPU (there
// may be no GPU then: tools and tests that only size kernels):
//  - with a handle (the device's planning handle, device/cuda/dnn_planning.h),
//    cuDNN's heuristics (cudnnGet*Algorithm_v7) rank the algorithms; the
//    first that succeeds on FMA math, is a sum of products (GEMM-like or
//    direct) and needs a workspace of at most kDnnWorkspaceLimit is taken,
//    its workspace sized by cudnnGet*WorkspaceSize. FFT and Winograd
//    algorithms are passed over: their transforms round beyond the summation
//    bound that keeps results within the CPU's (tests/cuda), a price in
//    speed on 3x3 and large kernels. Timing algorithms (cudnnFind*) would
//    run them and need buffers: not at prepare.
//  - otherwise, or when none qualifies, the pass's algorithm that needs no
//    workspace: implicit GEMM forward (deterministic), and algorithm 0 of
//    each backward pass (atomic adds: not bitwise reproducible). With a
//    handle their workspace is still asked for, without one it is 0.
#pragma once

#include "exec/cuda/dnn_conv_descriptors.h"

#include <cstddef>

namespace salus::cuda {

// Each convolution's share of T is the session's own: a few algorithms ask
// for hundreds of MiB (FFT), more than is worth their speed when Salus packs
// many small jobs onto one GPU.
constexpr size_t kDnnWorkspaceLimit = size_t{64} << 20;

struct DnnConvAlgo {
    int algo = 0; // the pass's cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t
    size_t workspace = 0;
};

// handle may be null.
Status choose_dnn_conv_algo(cudnnHandle_t handle, const DnnConvPlan &p, const DnnConvDescriptors &d,
                            DnnConvAlgo *out);

} // namespace salus::cuda
