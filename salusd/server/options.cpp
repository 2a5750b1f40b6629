#include "server/options.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace salus::server {

namespace {

unsigned online_cpus() {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) return 1;
    return static_cast<unsigned>(std::min<long>(n, static_cast<long>(kMaxThreads)));
}

bool make_dir(const std::string &path, mode_t mode, std::string *error) {
    if (mkdir(path.c_str(), mode) == 0 || errno == EEXIST) {
        struct stat st;
        if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
        *error = path + " exists and is not a directory";
        return false;
    }
    *error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
}

// The default socket's directory and the mode it is created with.
std::string default_socket_dir(mode_t *mode, std::string *error) {
    // systemd's RuntimeDirectory= (colon-separated when there are several):
    // the service's own directory, whoever it runs as.
    const char *runtime_dirs = std::getenv("RUNTIME_DIRECTORY");
    if (runtime_dirs && runtime_dirs[0] == '/') {
        *mode = 0755;
        return std::string(runtime_dirs, std::strcspn(runtime_dirs, ":"));
    }
    if (geteuid() == 0) {
        // World-searchable: the socket's own mode (0660) decides who connects.
        *mode = 0755;
        return "/run/salus";
    }
    const char *runtime = std::getenv("XDG_RUNTIME_DIR");
    if (!runtime || runtime[0] != '/') {
        *error = "XDG_RUNTIME_DIR is not set to an absolute path; set socket in the "
                 "configuration or pass --socket PATH";
        return "";
    }
    *mode = 0700;
    return std::string(runtime) + "/salus";
}

} // namespace

std::string default_socket_path(std::string *error) {
    mode_t mode = 0;
    std::string dir = default_socket_dir(&mode, error);
    return dir.empty() ? "" : dir + "/salusd.sock";
}

bool resolve_options(Options *options, std::string *error) {
    if (options->socket_path.empty()) {
        mode_t mode = 0;
        std::string dir = default_socket_dir(&mode, error);
        if (dir.empty() || !make_dir(dir, mode, error)) return false;
        options->socket_path = dir + "/salusd.sock";
    }
    if (options->workers == 0) options->workers = online_cpus();
    if (options->max_lanes == 0) options->max_lanes = online_cpus();
    return true;
}

} // namespace salus::server
