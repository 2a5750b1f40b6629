#include "server/replies.h"

#include "server/names.h"
#include "server/version.h"

#include <salus/salus.h>

#include <string>
#include <vector>

namespace salus::server {

Reply finish_message(flatbuffers::FlatBufferBuilder &fbb, uint64_t request_id, wire::Body type,
                     flatbuffers::Offset<void> body) {
    wire::MessageBuilder message(fbb);
    message.add_id(request_id);
    message.add_body(body);
    message.add_body_type(type);
    wire::FinishMessageBuffer(fbb, message.Finish());
    return fbb.Release();
}

namespace {

// Graph output i as a TensorValue without data: id, dtype, inferred shape.
flatbuffers::Offset<wire::TensorValue>
output_shape_value(flatbuffers::FlatBufferBuilder &fbb, const Executable &exe, size_t i,
                   flatbuffers::Offset<flatbuffers::Vector<uint8_t>> data) {
    uint32_t id = exe.graph().outputs[i];
    const TensorDesc &tensor = exe.graph().tensors[id];
    auto shape = fbb.CreateVector(tensor.shape);
    wire::TensorValueBuilder value(fbb);
    value.add_id(id);
    value.add_dtype(static_cast<ir::DType>(tensor.dtype));
    value.add_shape(shape);
    if (!data.IsNull()) value.add_data(data);
    return value.Finish();
}

std::vector<flatbuffers::Offset<wire::TensorValue>>
output_shapes(flatbuffers::FlatBufferBuilder &fbb, const Executable &exe) {
    std::vector<flatbuffers::Offset<wire::TensorValue>> outputs;
    outputs.reserve(exe.graph().outputs.size());
    for (size_t i = 0; i < exe.graph().outputs.size(); ++i) {
        outputs.push_back(output_shape_value(fbb, exe, i, 0));
    }
    return outputs;
}

} // namespace

Reply error_reply(uint64_t request_id, int code, std::string_view message) {
    // Messages quote what clients sent (names of variables, graphs, ops):
    // they reach the client as valid UTF-8, one line, and a few hundred
    // bytes however long the names were.
    std::string text_printable = printable_bounded(message);
    flatbuffers::FlatBufferBuilder fbb(64 + text_printable.size());
    auto text = fbb.CreateString(text_printable);
    auto body = wire::CreateError(fbb, code, text);
    return finish_message(fbb, request_id, wire::Body::Error, body.Union());
}

Reply hello_reply(uint64_t request_id, uint32_t max_frame_bytes) {
    flatbuffers::FlatBufferBuilder fbb(128);
    auto name = fbb.CreateString(std::string("salusd ") + kSalusdVersion);
    // No optional features yet: the intersection with the client's is empty.
    auto body = wire::CreateHelloReply(fbb, SALUS_PROTOCOL_VERSION, 0, name, max_frame_bytes);
    return finish_message(fbb, request_id, wire::Body::HelloReply, body.Union());
}

Reply create_session_reply(uint64_t request_id, const Session &session) {
    const Executable &exe = *session.exe;
    flatbuffers::FlatBufferBuilder fbb(256);
    std::vector<flatbuffers::Offset<wire::TensorValue>> outputs = output_shapes(fbb, exe);
    auto body = wire::CreateCreateSessionReplyDirect(fbb, session.id, exe.plan().persistent_bytes,
                                                     exe.plan().ephemeral_bytes, &outputs);
    return finish_message(fbb, request_id, wire::Body::CreateSessionReply, body.Union());
}

Reply iteration_reply(uint64_t request_id, uint64_t session_id, uint64_t iteration,
                      const Executable &exe, uint64_t queued_ns, uint64_t run_ns) {
    size_t n = exe.graph().outputs.size();
    // Room for every output up front: the builder never grows (and copies).
    flatbuffers::FlatBufferBuilder fbb(static_cast<size_t>(output_bytes_total(exe)) + 256 +
                                       128 * n);
    std::vector<flatbuffers::Offset<wire::TensorValue>> outputs;
    outputs.reserve(n);
    for (size_t i = 0; i < n; ++i) {
        size_t bytes = exe.output_bytes(i);
        uint8_t *dst = nullptr;
        // Matches `force_align: 16` of TensorValue.data in the schema.
        fbb.ForceVectorAlignment(bytes, 1, 16);
        auto data = fbb.CreateUninitializedVector(bytes, 1, &dst);
        // dst is valid only until the builder's next allocation: fill it now.
        if (bytes > 0) exe.read_output(i, dst);
        outputs.push_back(output_shape_value(fbb, exe, i, data));
    }
    auto body = wire::CreateRunIterationReplyDirect(fbb, session_id, iteration, &outputs, queued_ns,
                                                    run_ns);
    return finish_message(fbb, request_id, wire::Body::RunIterationReply, body.Union());
}

Reply add_graph_reply(uint64_t request_id, uint64_t session_id, uint32_t graph,
                      const Executable &exe) {
    flatbuffers::FlatBufferBuilder fbb(256);
    std::vector<flatbuffers::Offset<wire::TensorValue>> outputs = output_shapes(fbb, exe);
    auto body = wire::CreateAddGraphReplyDirect(fbb, session_id, graph, exe.plan().ephemeral_bytes,
                                                &outputs);
    return finish_message(fbb, request_id, wire::Body::AddGraphReply, body.Union());
}

Reply read_variables_reply(uint64_t request_id, uint64_t session_id, const Executable &exe,
                           Stream *stream, const std::vector<uint32_t> &ids, Status *status) {
    size_t total = 256;
    for (uint32_t id : ids) {
        const TensorDesc &t = exe.graph().tensors[id];
        total += t.nbytes() + t.name.size() + 128;
    }
    flatbuffers::FlatBufferBuilder fbb(total);
    std::vector<flatbuffers::Offset<wire::TensorValue>> values;
    values.reserve(ids.size());
    for (uint32_t id : ids) {
        const TensorDesc &t = exe.graph().tensors[id];
        uint8_t *dst = nullptr;
        fbb.ForceVectorAlignment(t.nbytes(), 1, 16);
        auto data = fbb.CreateUninitializedVector(t.nbytes(), 1, &dst);
        *status = exe.read_persistent(stream, id, dst);
        if (!status->ok()) {
            *status = Status(status->code(), "reading \"" + t.name + "\": " + status->message());
            return Reply();
        }
        auto shape = fbb.CreateVector(t.shape);
        auto name = fbb.CreateString(t.name);
        values.push_back(
            wire::CreateTensorValue(fbb, id, static_cast<ir::DType>(t.dtype), shape, data, name));
    }
    auto body = wire::CreateReadVariablesReplyDirect(fbb, session_id, &values);
    return finish_message(fbb, request_id, wire::Body::ReadVariablesReply, body.Union());
}

Reply write_variables_reply(uint64_t request_id, uint64_t session_id, uint32_t written) {
    flatbuffers::FlatBufferBuilder fbb(64);
    auto body = wire::CreateWriteVariablesReply(fbb, session_id, written);
    return finish_message(fbb, request_id, wire::Body::WriteVariablesReply, body.Union());
}

Reply close_session_reply(uint64_t request_id, uint64_t session_id, uint64_t iterations) {
    flatbuffers::FlatBufferBuilder fbb(64);
    auto body = wire::CreateCloseSessionReply(fbb, session_id, iterations);
    return finish_message(fbb, request_id, wire::Body::CloseSessionReply, body.Union());
}

Reply session_queued_event(uint64_t request_id, uint32_t position) {
    flatbuffers::FlatBufferBuilder fbb(64);
    auto body = wire::CreateSessionQueued(fbb, position);
    return finish_message(fbb, request_id, wire::Body::SessionQueued, body.Union());
}

Reply shutting_down_event(std::string_view reason, uint64_t timeout_ns, uint64_t deadline_ns) {
    flatbuffers::FlatBufferBuilder fbb(128);
    auto text = fbb.CreateString(reason.data(), reason.size());
    auto body = wire::CreateShuttingDown(fbb, text, timeout_ns, deadline_ns);
    return finish_message(fbb, 0, wire::Body::ShuttingDown, body.Union());
}

uint64_t output_bytes_total(const Executable &exe) {
    uint64_t total = 0;
    for (size_t i = 0; i < exe.graph().outputs.size(); ++i) total += exe.output_bytes(i);
    return total;
}

uint64_t iteration_reply_bound(const Executable &exe) {
    return output_bytes_total(exe) + kReplyOverheadBytes +
           kReplyOverheadPerOutput * exe.graph().outputs.size();
}

} // namespace salus::server
