// The daemon's event loop side: the listener, the connections, the signals
// that stop it, and the dispatcher and workers behind them.
#pragma once

#include "device/device.h"
#include "server/connection.h"
#include "server/dispatcher.h"
#include "server/engine.h"
#include "server/listener.h"
#include "server/options.h"
#include "server/worker_pool.h"

#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace salus::server {

class Server : private ConnectionHandler {
  public:
    Server(uv_loop_t *loop, const Options &options, Device *device);
    ~Server() override;
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;

    // Binds the socket and installs the SIGINT/SIGTERM handlers. On failure
    // everything is closed again: run the loop to completion and return.
    bool start(std::string *error);
    // Closes the listener, every connection and every handle, so the loop
    // ends; what is in flight on the workers is left to finish(). With
    // `flush`, each connection closes only once its queued replies are out.
    void shutdown(bool flush = false);
    // After the loop ended: waits for the iterations in flight, frees every
    // session and removes the socket file.
    void finish();

    unsigned workers() const { return pool_.size(); }
    Engine &engine() { return engine_; }
    // What salusd exits with once the loop ended: 0, or kExitDeviceLost.
    int exit_status() const { return exit_status_; }

  private:
    void on_frame(Connection &connection, RequestFramePtr frame, uint64_t arrival_ns) override;
    void on_closed(Connection &connection) override;
    void accept_connection(uv_stream_t *listener);
    // The device is lost: fail what is left, stop serving, exit non-zero.
    void on_device_lost(const std::string &message, LostWork &work);
    Connection *find_open_connection(uint64_t id);

    uv_loop_t *loop_;
    Options options_;
    Listener listener_;
    WorkerPool pool_;
    Dispatcher dispatcher_;
    Engine engine_;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>> connections_;
    uint64_t next_connection_id_ = 1;
    uv_signal_t sigint_;
    uv_signal_t sigterm_;
    bool shutting_down_ = false;
    int exit_status_ = 0;
};

// salusd's exit status after its device was lost (e.g. a CUDA sticky error):
// non-zero, so that systemd's Restart=on-failure starts a fresh daemon.
constexpr int kExitDeviceLost = 3;

} // namespace salus::server
