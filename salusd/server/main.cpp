// salusd: parses the options, starts the server on its event loop, and
// stops cleanly on SIGINT/SIGTERM.
#include "device/device.h"
#include "graph/test_ops.h"
#include "server/log.h"
#include "server/notify.h"
#include "server/options.h"
#include "server/server.h"
#include "server/version.h"

#include <cblas.h>
#include <uv.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace salus;
using namespace salus::server;

namespace {

// One line for the service manager, e.g. "3 sessions, 2 lanes, pool 1.2 GiB
// free of 11.8 GiB, policy pack".
std::string status_summary(Engine &engine) {
    EngineStatus st = engine.status();
    size_t sessions = st.queued.size();
    for (const LaneInfo &lane : st.lanes) sessions += lane.sessions.size();
    constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
    char line[160];
    std::snprintf(line, sizeof line,
                  "%zu session%s, %zu lane%s, pool %.1f GiB free of %.1f GiB, "
                  "policy %s",
                  sessions, sessions == 1 ? "" : "s", st.lanes.size(),
                  st.lanes.size() == 1 ? "" : "s", static_cast<double>(st.free_bytes) / kGiB,
                  static_cast<double>(st.pool_bytes) / kGiB, sched::policy_name(engine.policy()));
    return line;
}

} // namespace

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
    // Only for tests (salusd(8)): the TestFault op, which fails iterations
    // on purpose, up to losing the device.
    if (const char *faults = std::getenv("SALUSD_TEST_FAULTS");
        faults && std::string(faults) == "1") {
        enable_test_ops();
        SALUS_LOG_WARNING("SALUSD_TEST_FAULTS=1: the TestFault op is enabled; for tests only");
    }
    // Parallelism comes from the lanes; BLAS threads would oversubscribe.
    openblas_set_num_threads(options.blas_threads);
    // A client that disconnects mid-write must not kill the daemon.
    std::signal(SIGPIPE, SIG_IGN);

    std::unique_ptr<Device> device;
    std::string why;
    if (Status st = open_device(options.device, &device, &why); !st.ok()) {
        SALUS_LOG_ERROR("%s", st.message().c_str());
        return 1;
    }
    SALUS_LOG_INFO("device %s (%s)", device->description().c_str(), why.c_str());
    uv_loop_t loop;
    uv_loop_init(&loop);
    bool started;
    int exit_status = 0;
    Notifier notifier;
    {
        Server server(&loop, options, device.get());
        // Streams first, then the pool: its default is measured after them.
        started = server.start(&error);
        if (started) {
            // The summary reads status() and policy() on the loop thread.
            Engine &engine = server.engine();
            notifier.start(&loop, [&engine] { return status_summary(engine); });
            // The listener has logged which socket: bound or passed by systemd.
            SALUS_LOG_INFO("salusd %s started (%s backend, pool %llu MiB, up to %u "
                           "lanes, policy %s, %s admission)",
                           kSalusdVersion, device_type_name(device->type()),
                           static_cast<unsigned long long>(engine.pool_bytes() >> 20),
                           options.max_lanes, sched::policy_name(options.policy),
                           lanes::admission_mode_name(options.admission));
        } else {
            SALUS_LOG_ERROR("%s", error.c_str());
        }
        // Until shutdown() closes the last handle; at once after a failed start.
        // The notifier's timers are unreferenced: they do not keep it running.
        uv_run(&loop, UV_RUN_DEFAULT);
        notifier.stop();
        uv_run(&loop, UV_RUN_DEFAULT);
        server.finish();
        exit_status = server.exit_status();
    }
    uv_loop_close(&loop);
    if (!started) return 1;
    if (exit_status != 0) {
        SALUS_LOG_ERROR("salusd stopped: its device is lost (exit status %d)", exit_status);
        return exit_status;
    }
    SALUS_LOG_INFO("salusd stopped");
    return 0;
}
