// salusd: parses the options, starts the server on its event loop, and
// stops cleanly on SIGINT/SIGTERM.
#include "device/device.h"
#include "server/log.h"
#include "server/options.h"
#include "server/server.h"
#include "server/version.h"

#include <cblas.h>
#include <uv.h>

#include <csignal>
#include <memory>
#include <string>

using namespace salus;
using namespace salus::server;

int main(int argc, char **argv) {
    Options options;
    int exit_code = parse_options(argc, argv, &options);
    if (exit_code >= 0) return exit_code;
    set_verbose_logging(options.verbose);

    std::string error;
    if (!resolve_socket_path(&options, &error)) {
        SALUS_LOG_ERROR("%s", error.c_str());
        return 1;
    }
    // Parallelism comes from the lanes; BLAS threads would oversubscribe.
    openblas_set_num_threads(options.blas_threads);
    // A client that disconnects mid-write must not kill the daemon.
    std::signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<Device> device = make_cpu_device();
    uv_loop_t loop;
    uv_loop_init(&loop);
    bool started;
    {
        Server server(&loop, options, device.get());
        started = server.start(&error);
        if (started) {
            SALUS_LOG_INFO("salusd %s listening on %s (%s backend, pool %llu MiB, up to %u "
                           "lanes, policy %s, %s admission)",
                           kSalusdVersion, options.socket_path.c_str(),
                           device_type_name(device->type()),
                           static_cast<unsigned long long>(options.pool_bytes >> 20),
                           options.max_lanes, sched::policy_name(options.policy),
                           lanes::admission_mode_name(options.admission));
        } else {
            SALUS_LOG_ERROR("%s", error.c_str());
        }
        // Until shutdown() closes the last handle; at once after a failed start.
        uv_run(&loop, UV_RUN_DEFAULT);
        server.finish();
    }
    uv_loop_close(&loop);
    if (!started) return 1;
    SALUS_LOG_INFO("salusd stopped");
    return 0;
}
