// Where the daemon listens by default.
#include "error.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

extern "C" {

int salus_default_socket_path(char *buf, size_t size) {
    using salus::client::fail;
    return salus::client::guard([&]() -> int {
        if (!buf) return fail(SALUS_EINVAL, "salus_default_socket_path: buf is NULL");
        std::string path;
        const char *runtime = std::getenv("XDG_RUNTIME_DIR");
        if (::geteuid() == 0) {
            path = "/run/salus/salusd.sock";
        } else if (runtime && *runtime) {
            path = std::string(runtime) + "/salus/salusd.sock";
        } else {
            // What pam_systemd would have set XDG_RUNTIME_DIR to.
            path = "/run/user/" + std::to_string(::geteuid()) + "/salus/salusd.sock";
        }
        if (path.size() >= size) {
            return fail(SALUS_ETOOBIG, "salus_default_socket_path: " + path + " needs " +
                                           std::to_string(path.size() + 1) + " bytes");
        }
        std::memcpy(buf, path.c_str(), path.size() + 1);
        return static_cast<int>(path.size());
    });
}

} // extern "C"
