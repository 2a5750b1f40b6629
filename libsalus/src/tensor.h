// salus_tensor: a dense row-major host tensor that owns its bytes, or a view
// of the caller's bytes (salus_tensor_wrap).
#pragma once

#include <salus/salus.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

struct salus_tensor {
    struct FreeDeleter {
        void operator()(void *p) const { std::free(p); }
    };

    salus_dtype dtype = SALUS_DTYPE_F32;
    std::vector<int64_t> shape;
    size_t nbytes = 0;
    // The elements: `owned`, or the caller's memory for a view. Never null.
    uint8_t *bytes = nullptr;
    // 64-byte aligned so users may load the data with any SIMD width; null
    // for a view.
    std::unique_ptr<uint8_t, FreeDeleter> owned;
};

namespace salus::client {

// Allocates a tensor; data (may be NULL: zero-filled) holds nbytes bytes.
// The shape must already be validated and nbytes computed from it.
int make_tensor(salus_dtype dtype, const int64_t *shape, size_t rank, size_t nbytes,
                const void *data, salus_tensor **out);

} // namespace salus::client
