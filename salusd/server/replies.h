// Builders of the daemon's reply bodies (finished salus.wire.Message
// buffers, without the 4-byte length that Connection::send() prepends).
#pragma once

#include "exec/executable.h"
#include "server/reply.h"
#include "server/session.h"
#include "wire_generated.h"

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <string_view>

namespace salus::server {

Reply error_reply(uint64_t request_id, int code, std::string_view message);
Reply hello_reply(uint64_t request_id, uint32_t max_frame_bytes);
Reply create_session_reply(uint64_t request_id, const Session &session);
// Copies every graph output of the last run straight into the reply.
Reply iteration_reply(uint64_t request_id, uint64_t session_id, uint64_t iteration,
                      const Executable &exe, uint64_t queued_ns, uint64_t run_ns);
Reply add_graph_reply(uint64_t request_id, uint64_t session_id, uint32_t graph,
                      const Executable &exe);
// Reads the persistent tensors `ids` of `exe` on `stream` into the reply;
// *status says whether they could be read (else the reply is empty).
Reply read_variables_reply(uint64_t request_id, uint64_t session_id, const Executable &exe,
                           Stream *stream, const std::vector<uint32_t> &ids, Status *status);
Reply write_variables_reply(uint64_t request_id, uint64_t session_id, uint32_t written);
Reply close_session_reply(uint64_t request_id, uint64_t session_id, uint64_t iterations);
// Sent with a CreateSession's id while the session waits for memory.
Reply session_queued_event(uint64_t request_id, uint32_t position);
// Pushed (id 0) to every client when the daemon begins to shut down.
Reply shutting_down_event(std::string_view reason, uint64_t timeout_ns, uint64_t deadline_ns);

// Wraps a finished body into a Message with the request's id.
Reply finish_message(flatbuffers::FlatBufferBuilder &fbb, uint64_t request_id, wire::Body type,
                     flatbuffers::Offset<void> body);

// Total bytes of the graph outputs, i.e. of the data in every iteration reply.
uint64_t output_bytes_total(const Executable &exe);
// The most an iteration's reply of this graph may take, header included.
uint64_t iteration_reply_bound(const Executable &exe);
// Byte overhead of a reply beyond the tensor data, per tensor and overall,
// generously rounded up.
constexpr uint64_t kReplyOverheadBytes = 1024;
constexpr uint64_t kReplyOverheadPerOutput = 256;

} // namespace salus::server
