// salus_session and salus_pending: a session opened on the daemon and one
// iteration submitted to it.
#pragma once

#include "connection.h"

#include <salus/salus.h>

#include <cstdint>
#include <memory>
#include <vector>

struct salus_session {
    std::shared_ptr<salus::client::Connection> conn;
    uint64_t id = 0;
    uint64_t persistent_bytes = 0;
    uint64_t ephemeral_bytes = 0;
    size_t n_outputs = 0;
};

struct salus_pending {
    std::shared_ptr<salus::client::Connection> conn;
    std::shared_ptr<salus::client::Slot> slot;
    uint64_t request_id = 0;
    uint64_t session_id = 0;
    size_t n_outputs = 0;
    uint64_t iteration = 0; // set by the successful wait
    bool consumed = false;
};
