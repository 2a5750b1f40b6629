#include "server/server.h"

#include "server/log.h"
#include "server/notify.h"

#include <csignal>
#include <vector>

namespace salus::server {

namespace {

using ull = unsigned long long;

void on_signal(uv_signal_t *handle, int signum) {
    SALUS_LOG_INFO("received %s, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    notify_stopping();
    static_cast<Server *>(handle->data)->shutdown();
}

EngineOptions engine_options(const Options &options) {
    EngineOptions e;
    e.pool_bytes = options.pool_bytes;
    e.pool_reserve = options.pool_reserve;
    e.mode = options.admission;
    e.admission.max_lanes = options.max_lanes;
    e.admission.max_overtakes = options.max_overtakes;
    e.policy = options.policy;
    return e;
}

} // namespace

Server::Server(uv_loop_t *loop, const Options &options, Device *device)
    : loop_(loop), options_(options), pool_(loop, options.workers),
      dispatcher_(device, &pool_, options.max_frame_bytes,
                  [this](uint64_t id) { return find_open_connection(id); }),
      engine_(
          loop, device, engine_options(options),
          [this](IterationDone &done) { dispatcher_.on_iteration_done(done); },
          [this](const SessionPtr &session) { dispatcher_.on_admitted(session); },
          [this](const std::string &message, LostWork &work) { on_device_lost(message, work); }) {
    dispatcher_.set_engine(&engine_);
    uv_signal_init(loop_, &sigint_);
    uv_signal_init(loop_, &sigterm_);
    sigint_.data = this;
    sigterm_.data = this;
}

Server::~Server() {
    finish();
}

bool Server::start(std::string *error) {
    auto on_connection = [](uv_stream_t *listener, int status) {
        auto *self = static_cast<Server *>(listener->data);
        if (status < 0) {
            SALUS_LOG_WARNING("cannot accept a connection: %s", uv_strerror(status));
            return;
        }
        self->accept_connection(listener);
    };
    Status st = engine_.start();
    if (!st.ok()) {
        *error = "cannot claim the device memory pool: " + st.message();
        shutdown();
        return false;
    }
    if (!listener_.open(loop_, options_.socket_path, on_connection, this, error)) {
        shutdown();
        return false;
    }
    uv_signal_start(&sigint_, on_signal, SIGINT);
    uv_signal_start(&sigterm_, on_signal, SIGTERM);
    // uv_listen() has run: connections are accepted from here on.
    notify_ready();
    return true;
}

void Server::accept_connection(uv_stream_t *listener) {
    uint64_t id = next_connection_id_++;
    ConnectionHandler *handler = this;
    auto owned = std::make_unique<Connection>(loop_, id, options_.max_frame_bytes, handler);
    Connection *c = owned.get();
    connections_.emplace(id, std::move(owned));
    c->accept_from(listener);
    if (!c->closing()) {
        SALUS_LOG_INFO("connection %llu opened (pid %d)", static_cast<ull>(id), c->peer_pid());
    }
}

void Server::on_frame(Connection &connection, RequestFramePtr frame, uint64_t arrival_ns) {
    dispatcher_.handle(connection, std::move(frame), arrival_ns);
}

void Server::on_closed(Connection &connection) {
    SALUS_LOG_INFO("connection %llu closed (pid %d): %s", static_cast<ull>(connection.id()),
                   connection.peer_pid(), connection.close_reason().c_str());
    dispatcher_.drop_connection(connection);
    connections_.erase(connection.id()); // deletes it
}

Connection *Server::find_open_connection(uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second->closing()) return nullptr;
    return it->second.get();
}

void Server::on_device_lost(const std::string &message, LostWork &work) {
    SALUS_LOG_ERROR("%s; failing %zu queued iteration(s) and %zu waiting session(s), then "
                    "stopping",
                    message.c_str(), work.iterations.size(), work.waiting.size());
    dispatcher_.fail_lost(message, work);
    exit_status_ = kExitDeviceLost;
    notify_stopping();
    shutdown(true);
}

void Server::shutdown(bool flush) {
    if (shutting_down_) return;
    shutting_down_ = true;
    listener_.close();
    // close() only starts closing; the map shrinks in on_closed().
    std::vector<Connection *> open;
    for (auto &entry : connections_) open.push_back(entry.second.get());
    for (Connection *c : open) {
        if (flush) {
            c->finish("the daemon is stopping: its device is lost");
        } else {
            c->close("the daemon is shutting down");
        }
    }
    pool_.stop();
    engine_.stop();
    uv_close(reinterpret_cast<uv_handle_t *>(&sigint_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t *>(&sigterm_), nullptr);
}

void Server::finish() {
    pool_.join();
    engine_.join();
    listener_.unlink_socket();
}

} // namespace salus::server
