// TestFault (graph/test_ops.h) on the CPU: the same failures as on CUDA,
// through the same paths, so the daemon's handling of both kinds is tested
// on every build.
#include "device/health.h"
#include "exec/cpu/cpu_kernels.h"

namespace salus::cpu {

Status test_fault(const KernelContext &ctx) {
    const AttrValue *fault = ctx.node->attr("fault");
    if (fault && fault->s == "sticky") {
        const std::string why = "TestFault: injected error that loses the device";
        report_device_lost(why);
        return Status(SALUS_EEXEC, why);
    }
    return Status(SALUS_EEXEC, "TestFault: injected error");
}

} // namespace salus::cpu
