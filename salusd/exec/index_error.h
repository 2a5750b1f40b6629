// The error of a Gather-family index out of range, word for word the same
// from every device's kernel (the tests match it).
#pragma once

#include "exec/kernel.h"

#include <cstdint>
#include <string>

namespace salus {

inline Status index_out_of_range(const KernelContext &ctx, int64_t position, int64_t index,
                                 int64_t extent) {
    return Status(SALUS_EEXEC, ctx.node->op + ": index " + std::to_string(index) +
                                   " (indices element " + std::to_string(position) +
                                   ") is out of range for an axis of extent " +
                                   std::to_string(extent));
}

} // namespace salus
