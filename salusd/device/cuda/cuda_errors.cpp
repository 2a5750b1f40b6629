#include "device/cuda/cuda_errors.h"

namespace salus::cuda {

bool is_sticky_error(int code) {
    for (const StickyError &e : kStickyErrors) {
        if (e.code == code) return true;
    }
    return false;
}

} // namespace salus::cuda
