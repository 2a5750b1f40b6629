// Ops whose CUDA device code is checked against their CPU kernels by their
// family's own test (test_kernels_<family>.cpp) rather than on the shared
// catalogue of kernel_cases.h; the catalogue's coverage check skips them, as
// it skips the ops awaiting a CUDA kernel (awaiting_cuda.h).
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

} // namespace salus::test
