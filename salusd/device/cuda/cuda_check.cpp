#include "device/cuda/cuda_check.h"

#include "device/cuda/cuda_errors.h"
#include "device/health.h"

#include <iterator>
#include <string>

namespace salus::cuda {
namespace {

// cuda_errors.h lists codes as numbers: they must be the toolkit's.
constexpr bool table_matches(size_t i, int code) {
    return i < std::size(kStickyErrors) && kStickyErrors[i].code == code;
}
static_assert(table_matches(0, cudaErrorECCUncorrectable));
static_assert(table_matches(1, cudaErrorNvlinkUncorrectable));
static_assert(table_matches(2, cudaErrorContained));
static_assert(table_matches(3, cudaErrorIllegalAddress));
static_assert(table_matches(4, cudaErrorLaunchTimeout));
static_assert(table_matches(5, cudaErrorContextIsDestroyed));
static_assert(table_matches(6, cudaErrorAssert));
static_assert(table_matches(7, cudaErrorHardwareStackError));
static_assert(table_matches(8, cudaErrorIllegalInstruction));
static_assert(table_matches(9, cudaErrorMisalignedAddress));
static_assert(table_matches(10, cudaErrorInvalidAddressSpace));
static_assert(table_matches(11, cudaErrorInvalidPc));
static_assert(table_matches(12, cudaErrorLaunchFailure));
static_assert(table_matches(13, cudaErrorTensorMemoryLeak));
static_assert(table_matches(14, cudaErrorExternalDevice));
static_assert(table_matches(15, cudaErrorUnknown));
static_assert(std::size(kStickyErrors) == 16);

} // namespace

Status check(cudaError_t err, const char *what) {
    if (err == cudaSuccess) return {};
    // The runtime also keeps a failed call's error as the thread's "last
    // error", which the next launch's cudaGetLastError() would report again:
    // this one is handled here. (A sticky error stays whatever is done.)
    (void)cudaGetLastError();
    std::string message =
        std::string(what) + ": " + cudaGetErrorString(err) + " (" + cudaGetErrorName(err) + ")";
    if (is_sticky_error(static_cast<int>(err))) report_device_lost(message);
    return Status(SALUS_EEXEC, std::move(message));
}

Status check(cublasStatus_t status, const char *what) {
    if (status == CUBLAS_STATUS_SUCCESS) return {};
    std::string message = std::string(what) + ": " + cublasGetStatusString(status) + " (" +
                          cublasGetStatusName(status) + ")";
    // cuBLAS reports a failed kernel as EXECUTION_FAILED: the runtime knows
    // whether the context went with it.
    if (status == CUBLAS_STATUS_EXECUTION_FAILED) {
        const cudaError_t cause = cudaPeekAtLastError();
        if (cause != cudaSuccess) {
            Status st = check(cause, what);
            return Status(SALUS_EEXEC, message + "; " + st.message());
        }
    }
    return Status(SALUS_EEXEC, std::move(message));
}

Status check(cudnnStatus_t status, const char *what) {
    if (status == CUDNN_STATUS_SUCCESS) return {};
    std::string message = std::string(what) + ": " + cudnnGetErrorString(status);
    // As with cuBLAS: a failed kernel may have taken the context with it.
    // cuDNN 9 numbers its statuses by category: 5000-5999 are failed executions.
    const int code = static_cast<int>(status);
    if (code / 1000 == CUDNN_STATUS_EXECUTION_FAILED / 1000) {
        const cudaError_t cause = cudaPeekAtLastError();
        if (cause != cudaSuccess) {
            Status st = check(cause, what);
            return Status(SALUS_EEXEC, message + "; " + st.message());
        }
    }
    return Status(SALUS_EEXEC, std::move(message));
}

Status check_launch(const char *kernel) {
    return check(cudaGetLastError(), kernel);
}

} // namespace salus::cuda
