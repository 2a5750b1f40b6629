// Host tensors.
#include "tensor.h"

#include "error.h"
#include "shape.h"

#include <cstring>

namespace salus::client {

int make_tensor(salus_dtype dtype, const int64_t *shape, size_t rank, size_t nbytes,
                const void *data, salus_tensor **out) {
    constexpr size_t kAlign = 64;
    // aligned_alloc wants a multiple of the alignment, and a non-zero size so
    // that data() of an empty tensor is still a valid pointer.
    size_t padded = nbytes + (kAlign - nbytes % kAlign);
    if (padded < nbytes) return fail(SALUS_ETOOBIG, "tensor too large");
    auto t = std::make_unique<salus_tensor>();
    t->dtype = dtype;
    t->shape.assign(shape, shape + rank);
    t->nbytes = nbytes;
    t->owned.reset(static_cast<uint8_t *>(std::aligned_alloc(kAlign, padded)));
    if (!t->owned) {
        return fail(SALUS_ENOMEM, "cannot allocate " + std::to_string(nbytes) + " bytes");
    }
    t->bytes = t->owned.get();
    if (data) {
        std::memcpy(t->bytes, data, nbytes);
        std::memset(t->bytes + nbytes, 0, padded - nbytes);
    } else {
        std::memset(t->bytes, 0, padded);
    }
    *out = t.release();
    return SALUS_OK;
}

} // namespace salus::client

using namespace salus::client;

extern "C" {

int salus_tensor_new(salus_dtype dtype, const int64_t *shape, size_t rank, const void *data,
                     salus_tensor **out) {
    return guard([&]() -> int {
        if (!out) return fail(SALUS_EINVAL, "salus_tensor_new: out is NULL");
        size_t nbytes = 0;
        int dt = raw_dtype(dtype);
        int rc = shape_nbytes(dt, shape, rank, "salus_tensor_new", &nbytes);
        if (rc != SALUS_OK) return rc;
        return make_tensor(static_cast<salus_dtype>(dt), shape, rank, nbytes, data, out);
    });
}

int salus_tensor_wrap(salus_dtype dtype, const int64_t *shape, size_t rank, void *data,
                      size_t nbytes, salus_tensor **out) {
    return guard([&]() -> int {
        if (!out) return fail(SALUS_EINVAL, "salus_tensor_wrap: out is NULL");
        size_t expected = 0;
        int dt = raw_dtype(dtype);
        int rc = shape_nbytes(dt, shape, rank, "salus_tensor_wrap", &expected);
        if (rc != SALUS_OK) return rc;
        if (nbytes != expected) {
            return fail(SALUS_EINVAL, "salus_tensor_wrap: nbytes is " + std::to_string(nbytes) +
                                          " but the shape needs " + std::to_string(expected));
        }
        if (!data && nbytes > 0) return fail(SALUS_EINVAL, "salus_tensor_wrap: data is NULL");
        // A valid pointer even for an empty view, as for owned tensors.
        alignas(64) static uint8_t empty[1];
        auto t = std::make_unique<salus_tensor>();
        t->dtype = static_cast<salus_dtype>(dt);
        t->shape.assign(shape, shape + rank);
        t->nbytes = nbytes;
        t->bytes = data ? static_cast<uint8_t *>(data) : empty;
        *out = t.release();
        return SALUS_OK;
    });
}

void salus_tensor_free(salus_tensor *tensor) {
    delete tensor;
}

salus_dtype salus_tensor_dtype(const salus_tensor *tensor) {
    return tensor ? tensor->dtype : SALUS_DTYPE_F32;
}

size_t salus_tensor_rank(const salus_tensor *tensor) {
    return tensor ? tensor->shape.size() : 0;
}

int64_t salus_tensor_dim(const salus_tensor *tensor, size_t i) {
    return tensor && i < tensor->shape.size() ? tensor->shape[i] : -1;
}

size_t salus_tensor_nbytes(const salus_tensor *tensor) {
    return tensor ? tensor->nbytes : 0;
}

void *salus_tensor_data(salus_tensor *tensor) {
    return tensor ? tensor->bytes : nullptr;
}

const void *salus_tensor_const_data(const salus_tensor *tensor) {
    return tensor ? tensor->bytes : nullptr;
}

} // extern "C"
