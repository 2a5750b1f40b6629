// Checks of dtypes and shapes shared by host tensors, the graph builder and
// decoded replies.
#pragma once

#include <salus/salus.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace salus::client {

// The value of a dtype argument. C callers may pass any int, and reading an
// out-of-range value as a C++ salus_dtype is undefined: copy the bytes.
inline int raw_dtype(const salus_dtype &dtype) {
    static_assert(sizeof(salus_dtype) == sizeof(int), "salus_dtype is an int in C");
    int value;
    std::memcpy(&value, &dtype, sizeof(value));
    return value;
}

// Bytes per element, or 0 for a dtype this library does not know.
size_t dtype_size(int dtype);

// Validates dims (which may be NULL only when rank is 0) and computes the
// byte size of a dense tensor. On failure returns a SALUS_E... code and sets
// the thread's last error with `what` naming the tensor.
int shape_nbytes(int dtype, const int64_t *dims, size_t rank, const std::string &what,
                 size_t *nbytes);

} // namespace salus::client
