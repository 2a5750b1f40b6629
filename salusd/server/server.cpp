#include "server/server.h"

#include "server/clock.h"
#include "server/log.h"
#include "server/notify.h"

#include <salus/salus.h>

#include <csignal>
#include <vector>

namespace salus::server {

namespace {

using ull = unsigned long long;

const char *signal_name(int signum) {
    switch (signum) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    }
    return "a signal";
}

void on_signal(uv_signal_t *handle, int signum) {
    auto *server = static_cast<Server *>(handle->data);
    if (signum == SIGHUP) {
        server->reload();
    } else {
        server->stop(signal_name(signum));
    }
}

EngineOptions engine_options(const Options &options) {
    EngineOptions e;
    e.pool_bytes = options.pool_bytes;
    e.pool_reserve = options.pool_reserve;
    e.mode = options.admission;
    e.admission.max_lanes = options.max_lanes;
    e.admission.max_overtakes = options.max_overtakes;
    e.policy = options.policy;
    e.hold_max_ns = options.hold_max_us * 1000ull;
    return e;
}

} // namespace

Server::Server(uv_loop_t *loop, const Options &options, const Options &configured, Device *device,
               ConfigLoader load_config)
    : loop_(loop), options_(options), configured_(configured), load_config_(std::move(load_config)),
      pool_(loop, options.workers),
      dispatcher_(device, &pool_, &options_.limits,
                  [this](uint64_t id) { return find_open_connection(id); }),
      engine_(
          loop, device, engine_options(options),
          [this](IterationDone &done) { dispatcher_.on_iteration_done(done); },
          [this](const SessionPtr &session) { dispatcher_.on_admitted(session); },
          [this](const std::string &message, LostWork &work) { on_device_lost(message, work); }) {
    dispatcher_.set_engine(&engine_);
    dispatcher_.access().set_rules(options.access);
    for (uv_signal_t *s : {&sigint_, &sigterm_, &sighup_}) {
        uv_signal_init(loop_, s);
        s->data = this;
    }
}

Server::~Server() {
    pool_.join();
    engine_.join();
    listener_.unlink_socket();
}

bool Server::start(std::string *error) {
    auto on_connection = [](uv_stream_t *listener, int status) {
        auto *self = static_cast<Server *>(listener->data);
        if (status < 0) {
            // Out of descriptors, libuv closes the connection: log once in a while.
            self->refusals_.refused(Connection::kUnknownUid, monotonic_ns(),
                                    std::string("cannot accept a connection: ") +
                                        uv_strerror(status));
            return;
        }
        self->accept_connection(listener);
    };
    fd_limit_ = raise_fd_limit();
    if (!options_.event_log.empty()) {
        event_log_ = EventLog::open(options_.event_log, error);
        if (!event_log_) {
            close_handles();
            return false;
        }
        engine_.set_event_log(event_log_.get());
    }
    Status st = engine_.start();
    if (!st.ok()) {
        *error = "cannot claim the device memory pool: " + st.message();
        close_handles();
        return false;
    }
    // Signals first: once the socket exists a supervisor (or a test) that saw
    // it may send SIGTERM at once, which must stop the daemon cleanly, not
    // kill it with the default action.
    uv_signal_start(&sigint_, on_signal, SIGINT);
    uv_signal_start(&sigterm_, on_signal, SIGTERM);
    uv_signal_start(&sighup_, on_signal, SIGHUP);
    if (!listener_.open(loop_, options_.socket_path, on_connection, this, error)) {
        close_handles();
        return false;
    }
    // uv_listen() has run: connections are accepted from here on.
    notify_ready();
    return true;
}

const char *Server::admission_note() const {
    if (dispatcher_.shutting_down()) return "shutting down";
    if (dispatcher_.draining()) return "draining";
    return "";
}

void Server::accept_connection(uv_stream_t *listener) {
    uint64_t id = next_connection_id_++;
    ConnectionHandler *handler = this;
    // A reload of max-frame-bytes applies from the next connection on.
    auto owned = std::make_unique<Connection>(loop_, id, options_.max_frame_bytes, &options_.limits,
                                              handler);
    Connection *c = owned.get();
    connections_.emplace(id, std::move(owned));
    c->accept_from(listener);
    if (c->closing()) return;
    if (std::string why = connection_refusal(*c); !why.empty()) {
        refusals_.refused(c->peer_uid(), monotonic_ns(), why);
        c->refuse(SALUS_ERESOURCE, why);
        return;
    }
    c->counted = true;
    connections_per_uid_.add(c->peer_uid());
    SALUS_LOG_INFO("connection %llu opened (pid %d, uid %u)", static_cast<ull>(id), c->peer_pid(),
                   c->peer_uid());
}

std::string Server::connection_refusal(const Connection &c) const {
    const Limits &limits = options_.limits;
    uint32_t uid = c.peer_uid();
    // Root is never refused, so that an administrator can always look.
    if (uid == 0) return "";
    // Descriptors are handed out lowest first: the socket's is about how many are open.
    if (c.fd() >= 0 && static_cast<uint64_t>(c.fd()) + limits.fd_reserve >= fd_limit_) {
        return limit_message("the daemon has " + std::to_string(c.fd()) + " of its " +
                                 std::to_string(fd_limit_) +
                                 " file descriptors open and keeps the rest for root",
                             limits.fd_reserve, "fd-reserve");
    }
    uint32_t open = connections_per_uid_.count(uid);
    if (open >= limits.connections_per_uid) {
        return limit_message("uid " + std::to_string(uid) + " has " + std::to_string(open) +
                                 " connections open",
                             limits.connections_per_uid, "connections-per-uid");
    }
    return "";
}

void Server::on_frame(Connection &connection, RequestFramePtr frame, uint64_t arrival_ns) {
    dispatcher_.handle(connection, std::move(frame), arrival_ns);
}

void Server::on_closed(Connection &connection) {
    // Refusals are logged at their own rate.
    if (!connection.refused())
        SALUS_LOG_INFO("connection %llu closed (pid %d): %s", static_cast<ull>(connection.id()),
                       connection.peer_pid(), connection.close_reason().c_str());
    dispatcher_.drop_connection(connection);
    if (connection.counted) connections_per_uid_.remove(connection.peer_uid());
    connections_.erase(connection.id()); // deletes it
    if (drained_ && connections_.empty()) on_connections_gone();
}

Connection *Server::find_open_connection(uint64_t id) {
    auto it = connections_.find(id);
    if (it == connections_.end() || it->second->closing()) return nullptr;
    return it->second.get();
}

void Server::close_handles() {
    if (handles_closed_) return;
    handles_closed_ = true;
    listener_.close();
    pool_.stop();
    engine_.stop();
    for (uv_signal_t *s : {&sigint_, &sigterm_, &sighup_}) {
        uv_close(reinterpret_cast<uv_handle_t *>(s), nullptr);
    }
}

bool Server::finish(std::chrono::milliseconds grace) {
    pool_.join();
    if (!engine_.wait_idle(grace)) {
        listener_.unlink_socket();
        return false;
    }
    engine_.join();
    listener_.unlink_socket();
    return true;
}

} // namespace salus::server
