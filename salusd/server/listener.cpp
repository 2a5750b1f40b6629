#include "server/listener.h"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace salus::server {

namespace {

constexpr int kBacklog = 128;

// Whether a daemon accepts connections on the socket file at path.
bool socket_answers(const std::string &path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int rc = connect(fd, reinterpret_cast<const sockaddr *>(&addr), sizeof addr);
    int err = errno;
    ::close(fd);
    // EAGAIN: the backlog is full, so someone is listening.
    return rc == 0 || err == EAGAIN;
}

// Makes room for a bind at path: nothing there, or a socket nobody answers.
bool clear_stale_socket(const std::string &path, std::string *error) {
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return true;
        *error = "cannot inspect " + path + ": " + std::strerror(errno);
        return false;
    }
    if (!S_ISSOCK(st.st_mode)) {
        *error = path + " exists and is not a socket";
        return false;
    }
    if (socket_answers(path)) {
        *error = "another salusd is serving " + path;
        return false;
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        *error = "cannot remove the stale socket " + path + ": " + std::strerror(errno);
        return false;
    }
    return true;
}

} // namespace

bool Listener::open(uv_loop_t *loop, const std::string &path, uv_connection_cb on_connection,
                    void *data, std::string *error) {
    // libuv silently truncates longer paths to fit sun_path.
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
        *error = "socket path is " + std::to_string(path.size()) + " bytes, over the limit of " +
                 std::to_string(sizeof(sockaddr_un::sun_path) - 1) + ": " + path;
        return false;
    }
    if (!clear_stale_socket(path, error)) return false;

    uv_pipe_init(loop, &pipe_, 0);
    pipe_.data = data;
    open_ = true;
    // The socket is born 0660 (no window with a wider mode); chmod below
    // makes the mode independent of the caller's umask.
    mode_t old_umask = umask(0117);
    int rc = uv_pipe_bind(&pipe_, path.c_str());
    umask(old_umask);
    if (rc < 0) {
        *error = "cannot bind " + path + ": " + uv_strerror(rc);
        close();
        return false;
    }
    path_ = path;
    struct stat st;
    if (chmod(path.c_str(), 0660) != 0 || stat(path.c_str(), &st) != 0) {
        *error = "cannot set the mode of " + path + ": " + std::strerror(errno);
        close();
        unlink(path.c_str());
        return false;
    }
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    rc = uv_listen(reinterpret_cast<uv_stream_t *>(&pipe_), kBacklog, on_connection);
    if (rc < 0) {
        *error = "cannot listen on " + path + ": " + uv_strerror(rc);
        close();
        unlink_socket();
        return false;
    }
    return true;
}

void Listener::close() {
    if (!open_) return;
    open_ = false;
    uv_close(reinterpret_cast<uv_handle_t *>(&pipe_), nullptr);
}

void Listener::unlink_socket() {
    if (path_.empty()) return;
    struct stat st;
    // A newer daemon may have replaced it: leave that one alone.
    if (lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
        unlink(path_.c_str());
    }
    path_.clear();
}

} // namespace salus::server
