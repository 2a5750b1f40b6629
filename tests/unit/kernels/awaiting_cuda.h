// The ops that run on the CPU only so far. A CUDA build refuses a graph
// using one of them at session creation (SALUS_ENOTSUP naming the node); the
// registry test keeps this list exact both ways. Remove an op here when its
// CUDA kernel lands.
#pragma once

#include <set>
#include <string>

namespace salus::test {

inline const std::set<std::string> kAwaitingCudaKernel = {
    "Conv",
    "ConvGradWeight",
    "ConvTranspose",
};

} // namespace salus::test
