#include "shape.h"

#include "error.h"

#include <limits>

namespace salus::client {

size_t dtype_size(int dtype) {
    switch (dtype) {
    case SALUS_DTYPE_F32:
        return 4;
    case SALUS_DTYPE_F16:
        return 2;
    case SALUS_DTYPE_BF16:
        return 2;
    case SALUS_DTYPE_I32:
        return 4;
    case SALUS_DTYPE_I64:
        return 8;
    case SALUS_DTYPE_BOOL:
        return 1;
    case SALUS_DTYPE_F64:
        return 8;
    default:
        return 0;
    }
}

int shape_nbytes(int dtype, const int64_t *dims, size_t rank, const std::string &what,
                 size_t *nbytes) {
    size_t elem = dtype_size(dtype);
    if (elem == 0) return fail(SALUS_EINVAL, what + ": unknown dtype " + std::to_string(dtype));
    if (rank > SALUS_MAX_RANK) {
        return fail(SALUS_EINVAL, what + ": rank " + std::to_string(rank) + " is over " +
                                      std::to_string(SALUS_MAX_RANK));
    }
    if (rank > 0 && !dims) return fail(SALUS_EINVAL, what + ": shape is NULL");
    // Checked in size_t, the unit of host allocations, so a product that
    // wraps can never under-allocate.
    size_t total = elem;
    for (size_t i = 0; i < rank; ++i) {
        if (dims[i] < 0) {
            return fail(SALUS_EINVAL, what + ": dimension " + std::to_string(i) + " is " +
                                          std::to_string(dims[i]));
        }
        auto d = static_cast<uint64_t>(dims[i]);
        if (d != 0 && total > std::numeric_limits<size_t>::max() / d) {
            return fail(SALUS_ETOOBIG, what + ": too many elements");
        }
        total *= static_cast<size_t>(d);
    }
    *nbytes = total;
    return SALUS_OK;
}

} // namespace salus::client
