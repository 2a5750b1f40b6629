// Every CUDA, cuBLAS and cuDNN status, turned into a Status: OK, or SALUS_EEXEC
// "<what>: <the library's description> (<error name>)". A sticky error
// (cuda_errors.h) also reports the device lost (device/health.h), so that
// the daemon fails everything waiting and restarts instead of running on a
// poisoned context.
#pragma once

#include "common/status.h"

#include <cublas_v2.h>
#include <cudnn.h>
#include <cuda_runtime_api.h>

namespace salus::cuda {

Status check(cudaError_t err, const char *what);
Status check(cublasStatus_t status, const char *what);
Status check(cudnnStatus_t status, const char *what);
// After a kernel launch: its own error (a bad launch configuration), or an
// earlier asynchronous one that surfaced now.
Status check_launch(const char *kernel);

} // namespace salus::cuda
