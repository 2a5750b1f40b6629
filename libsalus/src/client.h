// salus_client: the handle of one connection to the daemon.
#pragma once

#include "connection.h"

#include <memory>

struct salus_client {
    std::shared_ptr<salus::client::Connection> conn;
};

namespace salus::client {

// What a request for the daemon's state does: sends the finished message
// `id` in fbb, waits, checks the reply type (`what` names the request in
// errors). The reply stays in *slot.
int admin_request(Connection *conn, flatbuffers::FlatBufferBuilder &fbb, uint64_t id,
                  wire::Body reply_type, const char *what, std::shared_ptr<Slot> *slot);

} // namespace salus::client
