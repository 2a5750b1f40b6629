// The listening Unix socket: binds PATH (taking over a stale socket file
// left by a dead daemon, never a live one), mode 0660.
#pragma once

#include <uv.h>

#include <string>
#include <sys/types.h>

namespace salus::server {

class Listener {
  public:
    // Binds and listens; on_connection gets `data` in the handle's data.
    // False with *error set on failure (the handle is then closed).
    bool open(uv_loop_t *loop, const std::string &path, uv_connection_cb on_connection, void *data,
              std::string *error);
    // Stops accepting. The socket file stays until unlink_socket().
    void close();
    // Removes the socket file if it is still the one this listener bound.
    void unlink_socket();

    const std::string &path() const { return path_; }

  private:
    uv_pipe_t pipe_;
    bool open_ = false;
    std::string path_;
    dev_t dev_ = 0;
    ino_t ino_ = 0;
};

} // namespace salus::server
