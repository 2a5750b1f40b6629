// salus_graph_export: the graph as the daemon receives it, for tools that
// store graphs or check them offline.
#include "error.h"
#include "graph_builder.h"

#include <cstdlib>
#include <cstring>

using namespace salus::client;

extern "C" {

int salus_graph_export(const salus_graph *graph, void **out, size_t *size) {
    return guard([&]() -> int {
        if (!graph) return fail(SALUS_EINVAL, "salus_graph_export: graph is NULL");
        if (!out || !size) return fail(SALUS_EINVAL, "salus_graph_export: out or size is NULL");
        size_t bound = graph_size_bound(*graph);
        if (bound >= FLATBUFFERS_MAX_BUFFER_SIZE) {
            return fail(SALUS_ETOOBIG, "salus_graph_export: the graph may need " +
                                           std::to_string(bound) + " bytes, over 2 GiB");
        }
        flatbuffers::FlatBufferBuilder fbb(bound);
        serialize_graph(*graph, &fbb);
        void *buf = std::malloc(fbb.GetSize());
        if (!buf) return fail(SALUS_ENOMEM, "salus_graph_export: out of memory");
        std::memcpy(buf, fbb.GetBufferPointer(), fbb.GetSize());
        *out = buf;
        *size = fbb.GetSize();
        return SALUS_OK;
    });
}

void salus_buffer_free(void *buffer) {
    std::free(buffer);
}

} // extern "C"
