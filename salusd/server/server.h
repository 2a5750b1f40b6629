// The daemon's event loop side: the listener, the connections, the signals
// (SIGTERM and SIGINT stop it, SIGHUP reloads the configuration), and the
// dispatcher and workers behind them.
#pragma once

#include "device/device.h"
#include "server/connection.h"
#include "server/dispatcher.h"
#include "server/engine.h"
#include "server/listener.h"
#include "server/options.h"
#include "server/uid_limits.h"
#include "server/worker_pool.h"

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace salus::server {

class Server : private ConnectionHandler {
  public:
    // Reads the configuration again (SIGHUP): fills *out, values not
    // resolved, or returns the errors.
    using ConfigLoader = std::function<std::vector<std::string>(Options *out)>;

    // `options` are resolved (resolve_options()); `configured` is what the
    // file and the flags said, which a reload compares against.
    Server(uv_loop_t *loop, const Options &options, const Options &configured, Device *device,
           ConfigLoader load_config);
    ~Server() override;
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // Binds the socket and installs the signal handlers. On failure
    // everything is closed again: run the loop to completion and return.
    bool start(std::string *error);

    // SIGTERM (shutdown.cpp): stops accepting, refuses new sessions and
    // iterations, tells every client, lets the queued and running
    // iterations finish within drain-timeout, answers what is left with
    // SALUS_ESHUTDOWN and closes every connection and handle, so that the
    // loop ends. Called again while draining, it ends the drain at once.
    void stop(const char *reason);
    // After the loop ended: waits up to `grace` for iterations still running
    // (the drain timeout abandoned them), then frees every session and
    // removes the socket file. False when some still run: the socket file is
    // removed, nothing else is freed, and the caller should exit at once.
    bool finish(std::chrono::milliseconds grace);

    // SIGHUP (reload.cpp): reads the configuration again and applies the
    // keys that may change while running; a bad file changes nothing.
    void reload();

    Engine &engine() { return engine_; }
    // For the STATUS= line: "draining", "shutting down", or "" when the
    // daemon admits sessions.
    const char *admission_note() const;
    // What salusd exits with once the loop ended: 0, or kExitDeviceLost.
    int exit_status() const { return exit_status_; }

  private:
    void on_frame(Connection &connection, RequestFramePtr frame, uint64_t arrival_ns) override;
    void on_closed(Connection &connection) override;
    void accept_connection(uv_stream_t *listener);
    // Why a new connection is refused ([limits] connections-per-uid,
    // fd-reserve), or "".
    std::string connection_refusal(const Connection &c) const;
    // The device is lost: fail what is left, stop serving, exit non-zero.
    void on_device_lost(const std::string &message, LostWork &work);
    Connection *find_open_connection(uint64_t id);
    // Closes the listener, the workers, the engine and the signal handles;
    // connections are left to the caller.
    void close_handles();

    // shutdown.cpp
    void check_drained();
    void end_drain(bool timed_out);
    void on_connections_gone();
    // Closes every handle and then every connection once its replies are
    // out (or after a grace period): the end of a drain or of a lost device.
    void close_all(const std::string &reason);

    uv_loop_t *loop_;
    Options options_;    // in effect: resolved, reloadable keys updated
    Options configured_; // as configured, reloadable keys updated
    ConfigLoader load_config_;
    Listener listener_;
    WorkerPool pool_;
    Dispatcher dispatcher_;
    // Before the engine, which records into it until its threads are joined.
    std::unique_ptr<EventLog> event_log_;
    Engine engine_;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
    uint64_t next_connection_id_ = 1;
    UidCounter connections_per_uid_;
    RefusalLog refusals_;
    uint64_t fd_limit_ = 0; // RLIMIT_NOFILE, raised at start
    uv_signal_t sigint_;
    uv_signal_t sigterm_;
    uv_signal_t sighup_;
    bool handles_closed_ = false;
    int exit_status_ = 0;

    // Shutting down: stop() began it, drained_ once nothing is left to wait
    // for. drain_timer_ ends an overlong drain; drain_check_ looks after every
    // loop iteration whether it is over; close_timer_ closes connections
    // whose clients do not read their last replies.
    bool stopping_ = false;
    bool drained_ = false;
    uv_timer_t drain_timer_;
    uv_check_t drain_check_;
    uv_timer_t close_timer_;
    bool close_timer_open_ = false;
};

// salusd's exit status after its device was lost (e.g. a CUDA sticky error):
// non-zero, so that systemd's Restart=on-failure starts a fresh daemon.
constexpr int kExitDeviceLost = 3;

} // namespace salus::server
