// salus_session and salus_pending: a session opened on the daemon and one
// iteration submitted to it.
#pragma once

#include "connection.h"

#include <salus/salus.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

struct salus_session {
    std::shared_ptr<salus::client::Connection> conn;
    uint64_t id = 0;
    uint64_t persistent_bytes = 0;
    uint64_t ephemeral_bytes = 0;

    // Outputs per graph, graph 0 first; salus_session_add_graph appends
    // while other threads may submit.
    size_t output_count(uint32_t graph) const {
        std::lock_guard<std::mutex> lock(mu);
        return graph < graph_outputs.size() ? graph_outputs[graph] : 0;
    }
    size_t graph_count() const {
        std::lock_guard<std::mutex> lock(mu);
        return graph_outputs.size();
    }
    void set_output_count(uint32_t graph, size_t n) {
        std::lock_guard<std::mutex> lock(mu);
        if (graph >= graph_outputs.size()) graph_outputs.resize(graph + 1, 0);
        graph_outputs[graph] = n;
    }

  private:
    mutable std::mutex mu;
    std::vector<size_t> graph_outputs;
};

namespace salus::client {

using TensorPtr = std::unique_ptr<salus_tensor, void (*)(salus_tensor *)>;

// A tensor received from the daemon, checked against its shape; `what`
// names it in errors.
int decode_tensor(Connection *conn, const wire::TensorValue &tv, const std::string &what,
                  TensorPtr *out);

} // namespace salus::client

struct salus_pending {
    std::shared_ptr<salus::client::Connection> conn;
    std::shared_ptr<salus::client::Slot> slot;
    uint64_t request_id = 0;
    uint64_t session_id = 0;
    size_t n_outputs = 0;
    uint64_t iteration = 0; // set by the successful wait
    bool consumed = false;
};
