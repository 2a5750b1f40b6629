// Exits 0 when a CUDA device is present; otherwise says why and exits 77:
// if_gpu.sh runs the daemon-level GPU tests only then.
#include "gpu_check.h"

int main(int argc, char **argv) {
    return salus::test::require_gpu(argc > 1 ? argv[1] : "GPU test");
}
