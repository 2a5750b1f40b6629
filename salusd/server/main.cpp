// salusd: reads its configuration (the config file, then the flags), starts
// the server on its event loop, and stops cleanly on SIGINT/SIGTERM.
#include "device/cpu_threads.h"
#include "device/device.h"
#include "graph/test_ops.h"
#include "server/command_line.h"
#include "server/config_write.h"
#include "server/log.h"
#include "server/notify.h"
#include "server/options.h"
#include "server/server.h"
#include "server/version.h"

#include <uv.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>

using namespace salus;
using namespace salus::server;

namespace {

// How long iterations that outlasted the drain timeout get to end on their
// own before salusd exits without them.
constexpr std::chrono::milliseconds kAbandonGrace{1000};

// One line for the service manager, e.g. "3 sessions, 2 lanes, pool 1.2 GiB
// free of 11.8 GiB, policy pack", then ", draining" or ", shutting down".
std::string status_summary(Server &server) {
    Engine &engine = server.engine();
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
    std::string summary = line;
    if (*server.admission_note()) summary += std::string(", ") + server.admission_note();
    return summary;
}

// --check-config: every error on stderr, a verdict on stdout.
int check_config(const CommandLine &cl, const std::vector<std::string> &errors, bool found) {
    for (const std::string &e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    if (!errors.empty()) {
        std::fprintf(stderr, "salusd: %zu error%s in the configuration\n", errors.size(),
                     errors.size() == 1 ? "" : "s");
        return 1;
    }
    std::printf("%s: %s\n", cl.config_path.c_str(),
                found ? "valid" : "no such file; the defaults apply");
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    CommandLine cl;
    int exit_code = parse_command_line(argc, argv, &cl);
    if (exit_code >= 0) return exit_code;
    if (cl.action == Action::SampleConfig) {
        std::fputs(sample_config().c_str(), stdout);
        return 0;
    }
    Options configured;
    bool found = false;
    std::vector<std::string> errors = load_options(cl, &configured, &found);
    if (cl.action == Action::CheckConfig) return check_config(cl, errors, found);
    if (cl.action == Action::DumpConfig) {
        for (const std::string &e : errors) std::fprintf(stderr, "%s\n", e.c_str());
        if (!errors.empty()) return 1;
        std::fputs(dump_config(configured).c_str(), stdout);
        return 0;
    }
    if (!errors.empty()) {
        for (const std::string &e : errors) SALUS_LOG_ERROR("%s", e.c_str());
        SALUS_LOG_ERROR("invalid configuration: not starting (see salusd.conf(5))");
        return 1;
    }
    set_verbose_logging(configured.verbose);
    if (found) {
        SALUS_LOG_INFO("configuration read from %s", cl.config_path.c_str());
    } else {
        SALUS_LOG_INFO("no configuration file at %s: defaults and flags apply",
                       cl.config_path.c_str());
    }

    Options options = configured;
    std::string error;
    if (!resolve_options(&options, &error)) {
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
    set_cpu_math_threads(options.blas_threads);
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
    if (int rc = uv_loop_init(&loop); rc < 0) {
        SALUS_LOG_ERROR("cannot create the event loop: %s", uv_strerror(rc));
        return 1;
    }
    bool started;
    int exit_status = 0;
    Notifier notifier;
    {
        // SIGHUP reads the same file and flags again.
        auto load_config = [&cl](Options *out) {
            bool ignored = false;
            return load_options(cl, out, &ignored);
        };
        Server server(&loop, options, configured, device.get(), load_config);
        started = server.start(&error);
        if (started) {
            // The summary reads the server's state on the loop thread.
            notifier.start(&loop, [&server] { return status_summary(server); });
            // The listener has logged which socket: bound or passed by systemd.
            SALUS_LOG_INFO("salusd %s started (%s backend, pool %llu MiB, up to %u "
                           "lanes, policy %s, %s admission)",
                           kSalusdVersion, device_type_name(device->type()),
                           static_cast<unsigned long long>(server.engine().pool_bytes() >> 20),
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
        if (!server.finish(kAbandonGrace)) {
            // An iteration outlasted the drain timeout and its client has its
            // answer already: waiting on would keep the service manager waiting.
            SALUS_LOG_WARNING("an iteration is still running after the drain timeout: "
                              "exiting without waiting for it");
            exit_status = server.exit_status();
            if (exit_status != 0) _exit(exit_status);
            SALUS_LOG_INFO("salusd stopped");
            _exit(0);
        }
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
