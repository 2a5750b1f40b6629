// Whether the GPU tests can run: this build has the CUDA backend and the
// driver sees a device. Tests that cannot run exit 77 (meson's skip) after
// saying why.
#pragma once

#include <string>

namespace salus::test {

constexpr int kSkip = 77;

// True when a CUDA device is present; otherwise *why says what is missing.
bool gpu_present(std::string *why);

// Returns 0 when a GPU is present; otherwise prints "SKIP: <test>: ..." and
// returns kSkip, for main() to return.
int require_gpu(const char *test);

} // namespace salus::test
