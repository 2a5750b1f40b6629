// libFuzzer target: bytes as a salus.ir.Graph buffer -> verify -> import ->
// validate -> plan.
#include "graph_pipeline.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    salus::fuzz::run_graph_pipeline(data, size, false);
    return 0;
}
