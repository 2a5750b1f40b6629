// The listening Unix socket: the one systemd passed (socket activation), or
// else PATH bound here (taking over a stale socket file left by a dead
// daemon, never a live one), mode 0660.
#pragma once

#include <uv.h>

#include <string>
#include <sys/types.h>

namespace salus::server {

class Listener {
  public:
    // Listens on the socket systemd passed when there is exactly one
    // listening Unix stream socket, else binds path; on_connection gets
    // `data` in the handle's data. False with *error set on failure (the
    // handle is then closed).
    bool open(uv_loop_t *loop, const std::string &path, uv_connection_cb on_connection, void *data,
              std::string *error);
    // Stops accepting. The socket file stays until unlink_socket().
    void close();
    // Removes the socket file if it is still the one this listener bound;
    // never one that systemd passed.
    void unlink_socket();

    // The bound path; empty for a passed socket until unlink_socket().
    const std::string &path() const { return path_; }
    // Whether the socket came from systemd.
    bool activated() const { return activated_; }
    // Where it listens, for the log: the path, or the passed socket's address.
    const std::string &address() const { return address_; }

  private:
    // The fd systemd passed, or -1 (and a log line on why it is unusable).
    static int activation_fd();
    bool open_fd(uv_loop_t *loop, int fd, uv_connection_cb on_connection, void *data,
                 std::string *error);

    uv_pipe_t pipe_;
    bool activated_ = false;
    std::string address_;
    bool open_ = false;
    std::string path_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

} // namespace salus::server
