// Ops for tests only. The op table knows them only after enable_test_ops(),
// which salusd calls when started with SALUSD_TEST_FAULTS=1 (see salusd(8));
// a production daemon refuses graphs that use them as unknown ops.
//
// TestFault(X) -> Y fails its iteration as its `fault` attribute says:
//  - "error": a recoverable kernel error (on CUDA, a launch with an
//    impossible block size): the iteration fails, the session goes on;
//  - "sticky": an error that loses the device (on CUDA, a kernel that writes
//    to an illegal address; on the CPU, the same report through
//    device/health.h): the daemon fails every waiting request and exits.
#pragma once

#include "graph/ops.h"

namespace salus {

void enable_test_ops();
bool test_ops_enabled();
// The TestFault schema, whether enabled or not.
const OpSchema &test_fault_op();

} // namespace salus
