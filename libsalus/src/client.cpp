// Connecting to and disconnecting from the daemon.
#include "client.h"

#include "error.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>

using namespace salus::client;

namespace {

// Where salusd.service listens.
constexpr const char *kSystemSocket = "/run/salus/salusd.sock";

// The tenant to name in Hello: the options', else $SALUS_TENANT's.
int resolve_tenant(const salus_connect_options *opts, uint32_t *tenant) {
    *tenant = opts && opts->version >= 2 ? opts->tenant : 0;
    if (*tenant != 0) return SALUS_OK;
    const char *env = std::getenv("SALUS_TENANT");
    if (!env || !*env) return SALUS_OK;
    char *end = nullptr;
    errno = 0;
    unsigned long long value = std::strtoull(env, &end, 10);
    if (errno != 0 || *end != '\0' || *env == '-' || value == 0 || value > UINT32_MAX) {
        return fail(SALUS_EINVAL, std::string("SALUS_TENANT=\"") + env +
                                      "\" is not a tenant id (a job id from 1 to 4294967295)");
    }
    *tenant = static_cast<uint32_t>(value);
    return SALUS_OK;
}

} // namespace

extern "C" {

int salus_connect_options_init(salus_connect_options *opts, unsigned int version) {
    return guard([&]() -> int {
        if (!opts) return fail(SALUS_EINVAL, "salus_connect_options_init: opts is NULL");
        if (version == 0 || version > SALUS_CONNECT_OPTIONS_VERSION) {
            return fail(SALUS_EINVAL,
                        "salus_connect_options_init: unknown version " + std::to_string(version));
        }
        std::memset(opts, 0, sizeof(*opts));
        opts->version = version;
        return SALUS_OK;
    });
}

int salus_connect(const salus_connect_options *opts, salus_client **out) {
    return guard([&]() -> int {
        if (!out) return fail(SALUS_EINVAL, "salus_connect: out is NULL");
        if (opts && (opts->version == 0 || opts->version > SALUS_CONNECT_OPTIONS_VERSION)) {
            return fail(SALUS_EINVAL,
                        "salus_connect: unknown options version " + std::to_string(opts->version));
        }
        std::string path;
        const char *env = std::getenv("SALUS_SOCKET");
        if (opts && opts->socket_path) {
            path = opts->socket_path;
        } else if (env && *env) {
            path = env;
        } else {
            char buf[256];
            int n = salus_default_socket_path(buf, sizeof(buf));
            if (n < 0) return n;
            path = buf;
            // A user without a daemon of their own reaches the system one
            // (whose socket's group decides who may connect).
            struct stat st;
            if (path != kSystemSocket && lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
                path = kSystemSocket;
            }
        }
        std::string name =
            opts && opts->client_name ? opts->client_name : program_invocation_short_name;

        uint32_t tenant = 0;
        if (int rc = resolve_tenant(opts, &tenant); rc != SALUS_OK) return rc;

        auto client = std::make_unique<salus_client>();
        int rc = Connection::open(path, name, tenant, &client->conn);
        if (rc != SALUS_OK) return rc;
        *out = client.release();
        return SALUS_OK;
    });
}

void salus_disconnect(salus_client *client) {
    if (!client) return;
    client->conn->shutdown();
    delete client;
}

const char *salus_client_last_error(const salus_client *client) {
    if (!client) return "";
    try {
        return thread_copy(client->conn->last_error());
    } catch (...) {
        return "";
    }
}

} // extern "C"
