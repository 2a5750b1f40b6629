// The ops that run on the CPU only so far. A CUDA build refuses a graph
// using one of them at session creation (SALUS_ENOTSUP naming the node).
// The catalogue (doc/ops.md) marks them, and the registry test
// (tests/unit/kernels) keeps this list exact both ways: remove an op here
// when its CUDA kernel lands.
#pragma once

#include <set>
#include <string>

namespace salus {

inline const std::set<std::string> kAwaitingCudaKernel = {};

} // namespace salus::test
