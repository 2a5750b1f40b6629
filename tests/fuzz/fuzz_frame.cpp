// libFuzzer target: bytes as a frame's body -> frame::verify -> what the
// dispatcher reads of a valid message before it needs a session or a
// device: a CreateSession's or AddGraph's graph goes through import,
// validation and planning; every other body's fields are read as the
// handlers read them, so that a verifier gap shows up under ASan.
#include "frame.h"
#include "graph_pipeline.h"

#include <cstring>
#include <memory>

namespace {

using namespace salus;

// The nested graph, as dispatcher.cpp hands it to a worker.
void run_graph(const flatbuffers::Vector<uint8_t> *graph) {
    if (!graph) return;
    if (!flatbuffers::BufferHasIdentifier(graph->data(), ir::GraphIdentifier())) return;
    fuzz::run_graph_pipeline(graph->data(), graph->size(), true);
}

// Reads a tensor value as to_feed() and check_value() do.
size_t touch_value(const wire::TensorValue &value) {
    size_t sum = value.id() + static_cast<size_t>(value.dtype());
    // to_feed() refuses a misaligned shape (only a hand-made frame has one)
    // before anything reads it.
    if (const auto *shape = value.shape();
        shape && reinterpret_cast<uintptr_t>(shape->data()) % alignof(int64_t) == 0) {
        for (int64_t d : *shape) sum += static_cast<size_t>(d);
    }
    if (const auto *data = value.data()) sum += data->size() ? data->Get(data->size() - 1) : 0;
    if (const auto *name = value.name()) sum += name->str().size();
    return sum;
}

size_t touch_values(const flatbuffers::Vector<flatbuffers::Offset<wire::TensorValue>> *values) {
    size_t sum = 0;
    if (values) {
        for (const wire::TensorValue *value : *values) sum += touch_value(*value);
    }
    return sum;
}

size_t handle(const wire::Message &message) {
    if (!message.body()) return 0; // refused: a union type without its table
    switch (message.body_type()) {
    case wire::Body::Hello: {
        const auto *name = message.body_as_Hello()->client_name();
        return name ? name->str().size() : 0;
    }
    case wire::Body::CreateSession: {
        const wire::CreateSession &request = *message.body_as_CreateSession();
        if (const auto *options = request.options(); options && options->name()) {
            (void)options->name()->str();
        }
        run_graph(request.graph());
        return 0;
    }
    case wire::Body::AddGraph: {
        const wire::AddGraph &request = *message.body_as_AddGraph();
        if (request.name()) (void)request.name()->str();
        run_graph(request.graph());
        return 0;
    }
    case wire::Body::RunIteration:
        return touch_values(message.body_as_RunIteration()->inputs());
    case wire::Body::WriteVariables:
        return touch_values(message.body_as_WriteVariables()->values());
    case wire::Body::ReadVariables: {
        size_t sum = 0;
        if (const auto *names = message.body_as_ReadVariables()->names()) {
            for (const flatbuffers::String *name : *names) sum += name ? name->str().size() : 0;
        }
        return sum;
    }
    default:
        return 0;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    // The connection reads every body into a buffer aligned to kMaxAlignment.
    std::unique_ptr<uint64_t[]> body(new uint64_t[(size + 7) / 8 + 1]);
    if (size > 0) std::memcpy(body.get(), data, size);
    const auto *bytes = reinterpret_cast<const uint8_t *>(body.get());
    if (const wire::Message *message = frame::verify(bytes, size)) {
        volatile size_t sink = handle(*message);
        (void)sink;
    }
    return 0;
}
