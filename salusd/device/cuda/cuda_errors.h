// Which CUDA runtime errors poison the device context ("sticky" errors):
// after one, every later CUDA call of the process fails the same way and only
// a new process can use the device again. The others fail one call and leave
// the context usable.
//
// Plain C++ over the numeric codes of cudaError_t (CUDA 13, driver_types.h)
// so that every build, with or without the toolkit, tests it; cuda_check.cpp
// checks each code against the toolkit's enum at compile time.
#pragma once

#include <cstddef>

namespace salus::cuda {

struct StickyError {
    int code;
    const char *name;
};

// Documented by CUDA as leaving "the process in an inconsistent state" (the
// kernel faults), or as hardware and context failures that the process
// cannot recover from. cudaErrorUnknown is counted in: after an error nobody
// can explain, trusting the context would risk wrong results silently.
inline constexpr StickyError kStickyErrors[] = {
    {214, "cudaErrorECCUncorrectable"},
    {220, "cudaErrorNvlinkUncorrectable"},
    {226, "cudaErrorContained"},
    {700, "cudaErrorIllegalAddress"},
    {702, "cudaErrorLaunchTimeout"},
    {709, "cudaErrorContextIsDestroyed"},
    {710, "cudaErrorAssert"},
    {714, "cudaErrorHardwareStackError"},
    {715, "cudaErrorIllegalInstruction"},
    {716, "cudaErrorMisalignedAddress"},
    {717, "cudaErrorInvalidAddressSpace"},
    {718, "cudaErrorInvalidPc"},
    {719, "cudaErrorLaunchFailure"},
    {721, "cudaErrorTensorMemoryLeak"},
    {911, "cudaErrorExternalDevice"},
    {999, "cudaErrorUnknown"},
};

bool is_sticky_error(int code);

} // namespace salus::cuda
