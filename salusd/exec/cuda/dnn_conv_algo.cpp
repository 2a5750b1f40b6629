#include "exec/cuda/dnn_conv_algo.h"

#include "device/cuda/cuda_check.h"

namespace salus::cuda {

namespace {

// What the three passes' heuristics and workspace queries look like, and
// which of their algorithms are sums of products (GEMM-like, direct), not
// FFT or Winograd transforms.
struct Forward {
    using Perf = cudnnConvolutionFwdAlgoPerf_t;
    static constexpr int kCount = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    static constexpr int kFallback = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
    static bool sums(int a) { return a <= CUDNN_CONVOLUTION_FWD_ALGO_DIRECT; }
    static cudnnStatus_t rank(cudnnHandle_t h, const DnnConvDescriptors &d, int *n, Perf *perf) {
        return cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, kCount, n, perf);
    }
    static cudnnStatus_t size(cudnnHandle_t h, const DnnConvDescriptors &d, int algo,
                              size_t *bytes) {
        return cudnnGetConvolutionForwardWorkspaceSize(
            h, d.x, d.w, d.conv, d.y, static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
    }
};

struct BackwardData {
    using Perf = cudnnConvolutionBwdDataAlgoPerf_t;
    static constexpr int kCount = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    static constexpr int kFallback = CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
    static bool sums(int a) { return a <= CUDNN_CONVOLUTION_BWD_DATA_ALGO_1; }
    static cudnnStatus_t rank(cudnnHandle_t h, const DnnConvDescriptors &d, int *n, Perf *perf) {
        return cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, kCount, n,
                                                           perf);
    }
    static cudnnStatus_t size(cudnnHandle_t h, const DnnConvDescriptors &d, int algo,
                              size_t *bytes) {
        return cudnnGetConvolutionBackwardDataWorkspaceSize(
            h, d.w, d.y, d.conv, d.x, static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
    }
};

struct BackwardFilter {
    using Perf = cudnnConvolutionBwdFilterAlgoPerf_t;
    static constexpr int kCount = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
    static constexpr int kFallback = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0;
    static bool sums(int a) {
        return a <= CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1 || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3;
    }
    static cudnnStatus_t rank(cudnnHandle_t h, const DnnConvDescriptors &d, int *n, Perf *perf) {
        return cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, kCount, n,
                                                             perf);
    }
    static cudnnStatus_t size(cudnnHandle_t h, const DnnConvDescriptors &d, int algo,
                              size_t *bytes) {
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(
            h, d.x, d.y, d.conv, d.w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
    }
};

bool tensor_op(cudnnMathType_t math) {
    return math == CUDNN_TENSOR_OP_MATH || math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
}

template <typename Pass>
Status choose(cudnnHandle_t h, const DnnConvDescriptors &d, DnnConvAlgo *out) {
    out->algo = Pass::kFallback;
    out->workspace = 0;
    if (!h) return {};
    typename Pass::Perf perf[Pass::kCount];
    int n = 0;
    SALUS_RETURN_IF_ERROR(check(Pass::rank(h, d, &n, perf), "cuDNN's algorithm heuristics"));
    for (int i = 0; i < n; ++i) {
        size_t bytes = 0;
        const int algo = static_cast<int>(perf[i].algo);
        if (perf[i].status != CUDNN_STATUS_SUCCESS || tensor_op(perf[i].mathType) ||
            !Pass::sums(algo) || Pass::size(h, d, algo, &bytes) != CUDNN_STATUS_SUCCESS ||
            bytes > kDnnWorkspaceLimit) {
            continue;
        }
        out->algo = algo;
        out->workspace = bytes;
        return {};
    }
    return check(Pass::size(h, d, out->algo, &out->workspace), "cuDNN's workspace size");
}

} // namespace

Status choose_dnn_conv_algo(cudnnHandle_t handle, const DnnConvPlan &p, const DnnConvDescriptors &d,
                            DnnConvAlgo *out) {
    switch (p.pass) {
    case DnnConvPass::Forward:
        return choose<Forward>(handle, d, out);
    case DnnConvPass::BackwardData:
        return choose<BackwardData>(handle, d, out);
    case DnnConvPass::BackwardFilter:
        return choose<BackwardFilter>(handle, d, out);
    }
    return Status(SALUS_EINTERNAL, "unknown cuDNN convolution pass");
}

} // namespace salus::cuda
