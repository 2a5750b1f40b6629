// Ops whose CUDA device code is checked against their CPU kernels by their
// family's own test (test_kernels_<family>.cpp) rather than on the shared
// catalogue of kernel_cases.h; the catalogue's coverage check skips them, as
// it skips the ops awaiting a CUDA kernel (awaiting_cuda.h) and those whose
// CUDA kernel is a library's (kLibraryKernels).
#pragma once

#include <set>
#include <string>

namespace salus::test {

inline const std::set<std::string> kDeviceCodeTestedByFamily = {
    // conv: test_kernels_conv.cpp
    "AveragePool",
    "AveragePoolGrad",
    "DepthToSpace",
    "GlobalAveragePool",
    "MaxPool",
    "MaxPoolGrad",
    "Pad",
    "PadGrad",
    "SpaceToDepth",
    "Upsample",
    "UpsampleGrad",
    // norm: test_kernels_norm.cpp
    "BatchNormalization",
    "BatchNormalizationTraining",
    "BatchNormalizationGrad",
    "BatchNormalizationInferenceGrad",
    "LayerNormalization",
    "LayerNormalizationGrad",
    "InstanceNormalization",
    "InstanceNormalizationGrad",
    "GroupNormalization",
    "GroupNormalizationGrad",
    "Dropout",
    "DropoutGrad",
};

// Ops whose CUDA kernel is cuDNN's: no device code of our own to emulate; the
// cuda suite compares them with the CPU kernels on a GPU.
inline const std::set<std::string> kLibraryKernels = {"Conv", "ConvGradWeight", "ConvTranspose"};

} // namespace salus::test
