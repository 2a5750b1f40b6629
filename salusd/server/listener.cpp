#include "server/listener.h"

#include "server/log.h"

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifdef SALUS_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

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

// The path a Unix socket listens at, or a note when it has none.
std::string socket_address(int fd) {
    sockaddr_un addr{};
    socklen_t len = sizeof addr;
    if (getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0 ||
        len <= offsetof(sockaddr_un, sun_path)) {
        return "an unnamed socket";
    }
    size_t n = len - offsetof(sockaddr_un, sun_path);
    if (addr.sun_path[0] == '\0') {
        return "@" + std::string(addr.sun_path + 1, n > 0 ? n - 1 : 0);
    }
    return std::string(addr.sun_path, strnlen(addr.sun_path, n));
}

} // namespace

int Listener::activation_fd() {
#ifdef SALUS_HAVE_SYSTEMD
    // Unsets LISTEN_FDS and LISTEN_PID: children do not inherit them.
    int n = sd_listen_fds(1);
    if (n < 0) {
        SALUS_LOG_WARNING("ignoring the sockets passed by systemd: %s", std::strerror(-n));
        return -1;
    }
    if (n == 0) return -1;
    if (n != 1) {
        SALUS_LOG_WARNING("systemd passed %d sockets, expected one: binding instead", n);
        return -1;
    }
    int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0) {
        SALUS_LOG_WARNING("the socket systemd passed is not a listening Unix stream socket: "
                          "binding instead");
        return -1;
    }
    return fd;
#else
    return -1;
#endif
}

bool Listener::open(uv_loop_t *loop, const std::string &path, uv_connection_cb on_connection,
                    void *data, std::string *error) {
    int fd = activation_fd();
    if (fd >= 0) {
        if (!open_fd(loop, fd, on_connection, data, error)) return false;
        SALUS_LOG_INFO("using the socket passed by systemd (%s)", address_.c_str());
        return true;
    }
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
    address_ = path;
    SALUS_LOG_INFO("bound %s", path.c_str());
    return true;
}

bool Listener::open_fd(uv_loop_t *loop, int fd, uv_connection_cb on_connection, void *data,
                       std::string *error) {
    uv_pipe_init(loop, &pipe_, 0);
    pipe_.data = data;
    open_ = true;
    activated_ = true;
    address_ = socket_address(fd);
    int rc = uv_pipe_open(&pipe_, fd);
    if (rc < 0) {
        *error = "cannot use the socket passed by systemd: " + std::string(uv_strerror(rc));
        close();
        return false;
    }
    rc = uv_listen(reinterpret_cast<uv_stream_t *>(&pipe_), kBacklog, on_connection);
    if (rc < 0) {
        *error = "cannot listen on the socket passed by systemd: " + std::string(uv_strerror(rc));
        close();
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
