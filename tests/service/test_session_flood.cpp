// Issue 14's session flood on a real daemon: while one client creates
// thousands of sessions as fast as it can, another client's small iterations
// keep their latency, and creating a session costs the same however many are
// open; a client that leaves while its sessions are being created leaves
// the workers no work. TAP output.
#include "../capi/wire_io.h"

extern "C" {
#include "../capi/daemon_fixture.h"
}

#include <salus/salus.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace salus;

namespace {

using Clock = std::chrono::steady_clock;

// Sessions the flood creates: about 5 s on a quiet 2-core VM, and enough for
// work proportional to the open sessions to show (it took 17 s for the 4th
// thousand alone before issue 14's fix). SESSION_FLOOD_SESSIONS sets another
// count, for bench/README.md's figure at 10,000. Under $SALUSD_WRAPPER
// (valgrind: slower, its threads serialized) the timings are not judged.
const bool kWrapped = daemon_fixture_wrapped() != 0;
int sessions_to_create() {
    const char *env = std::getenv("SESSION_FLOOD_SESSIONS");
    return env && std::atoi(env) > 0 ? std::atoi(env) : 6000;
}
const int kSessions = sessions_to_create();
constexpr int kChunk = 1000;
// Bystander iterations measured alone, for its baseline.
constexpr int kBaselineIterations = 2000;
const char *const kTimingSkip = kWrapped ? " # SKIP timing under $SALUSD_WRAPPER" : "";

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double p99(std::vector<double> v) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) * 99 / 100];
}

// A graph of one 16-float variable whose Relu is the output: P and T of a
// few bytes, an iteration of microseconds.
salus_graph *small_graph() {
    salus_graph *g = nullptr;
    const int64_t n = 16;
    uint32_t v = 0, y = 0;
    if (salus_graph_new(&g) != 0) return nullptr;
    int rc = salus_graph_add_variable(g, "v", SALUS_DTYPE_F32, &n, 1, nullptr, 0, &v);
    if (rc == 0) rc = salus_graph_add_node(g, "Relu", nullptr, &v, 1, 1, &y, nullptr);
    if (rc == 0) rc = salus_graph_add_output(g, y);
    if (rc != 0) {
        salus_graph_free(g);
        return nullptr;
    }
    return g;
}

salus_client *connect(const daemon_fixture &d, const char *name) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = d.socket_path;
    opts.client_name = name;
    salus_client *client = nullptr;
    return salus_connect(&opts, &client) == 0 ? client : nullptr;
}

// One iteration's round trip in ms, or a negative value on failure.
double run_once(salus_session *s) {
    salus_tensor *out = nullptr;
    Clock::time_point t0 = Clock::now();
    int rc = salus_session_run(s, nullptr, nullptr, 0, &out, 1);
    double ms = ms_since(t0);
    salus_tensor_free(out);
    return rc == 0 ? ms : -1;
}

struct Flood {
    std::vector<double> chunk_ms; // per kChunk sessions, in order
    int created = 0;
    std::string error;
};

// Creates kSessions sessions on a connection of its own, one after another.
void flood(const daemon_fixture &d, const salus_graph *g, Flood *out, std::atomic<bool> *done) {
    salus_client *client = connect(d, "flood");
    if (!client) {
        out->error = "the flood cannot connect";
        done->store(true);
        return;
    }
    std::vector<salus_session *> sessions;
    sessions.reserve(kSessions);
    Clock::time_point t0 = Clock::now();
    for (int i = 0; i < kSessions; ++i) {
        salus_session *s = nullptr;
        if (salus_session_create(client, g, nullptr, &s) != 0) {
            out->error = "session " + std::to_string(i) + ": " + salus_last_error();
            break;
        }
        sessions.push_back(s);
        ++out->created;
        if ((i + 1) % kChunk == 0) {
            out->chunk_ms.push_back(ms_since(t0));
            t0 = Clock::now();
        }
    }
    done->store(true);
    // The daemon closes them with the connection; then each handle is only
    // freed (SALUS_ECONNECT), with no round trip.
    salus_disconnect(client);
    for (salus_session *s : sessions) (void)salus_session_close(s);
}

// A chain of `length` Relus from a 16-float input: its validation and
// planning take the workers a while, its frame is small.
salus_graph *chain_graph(uint32_t length) {
    salus_graph *g = nullptr;
    const int64_t n = 16;
    uint32_t h = 0;
    if (salus_graph_new(&g) != 0) return nullptr;
    int rc = salus_graph_add_input(g, "x", SALUS_DTYPE_F32, &n, 1, &h);
    for (uint32_t i = 0; rc == 0 && i < length; ++i) {
        uint32_t next = 0;
        rc = salus_graph_add_node(g, "Relu", nullptr, &h, 1, 1, &next, nullptr);
        h = next;
    }
    if (rc == 0) rc = salus_graph_add_output(g, h);
    if (rc != 0) {
        salus_graph_free(g);
        return nullptr;
    }
    return g;
}

// How long creating (and closing) a session of g takes, in ms; < 0 on failure.
double create_ms(salus_client *client, const salus_graph *g) {
    salus_session *s = nullptr;
    Clock::time_point t0 = Clock::now();
    if (salus_session_create(client, g, nullptr, &s) != 0) return -1;
    double ms = ms_since(t0);
    salus_session_close(s);
    return ms;
}

// A client pipelines kCancelled CreateSessions of a slow graph and leaves
// once the daemon has read them all: another client's session must then be
// created without waiting for the workers to build the abandoned ones.
bool creations_cancelled(const daemon_fixture &d, salus_client *other, std::string *why) {
    constexpr int kCancelled = 100;
    salus_graph *g = chain_graph(3000);
    void *bytes = nullptr;
    size_t size = 0;
    if (!g || salus_graph_export(g, &bytes, &size) != 0) {
        *why = "cannot build the graph";
        salus_graph_free(g);
        return false;
    }
    std::vector<double> alone;
    for (int i = 0; i < 3; ++i) alone.push_back(create_ms(other, g));
    std::sort(alone.begin(), alone.end());
    const double one = alone[1]; // the median

    flatbuffers::FlatBufferBuilder fbb;
    fbb.ForceVectorAlignment(size, 1, 8);
    auto graph = fbb.CreateVector(static_cast<const uint8_t *>(bytes), size);
    wire::FinishMessageBuffer(fbb,
                              wire::CreateMessage(fbb, 2, wire::Body::CreateSession,
                                                  wire::CreateCreateSession(fbb, graph).Union()));
    salus_buffer_free(bytes);
    int fd = test::hello(d.socket_path);
    bool sent = fd >= 0;
    for (int i = 0; sent && i < kCancelled; ++i) {
        sent = test::send_frame(fd, fbb.GetBufferPointer(), fbb.GetSize());
    }
    // Requests of a connection are handled in order: once this one is
    // answered, every CreateSession before it is on the workers' queue.
    flatbuffers::FlatBufferBuilder list;
    sent = sent && test::send_message(fd, list, 3, wire::Body::ListSessions,
                                      wire::CreateListSessions(list).Union());
    std::vector<uint64_t> storage;
    const wire::Message *reply = nullptr;
    while (sent && (reply = test::recv_message(fd, &storage)) &&
           reply->body_type() != wire::Body::ListSessionsReply) {
    }
    if (fd >= 0) close(fd);
    const double after = create_ms(other, g);
    salus_graph_free(g);
    // Built anyway, the abandoned graphs would hold the 2 workers for about
    // kCancelled / 2 creations; cancelled, at most the 2 begun ones finish.
    const double bound = kCancelled / 4.0 * one;
    *why = "a session took " + std::to_string(one) + " ms alone, " + std::to_string(after) +
           " ms after the client left (bound " + std::to_string(bound) + " ms)";
    return reply && one > 0 && after > 0 && (after <= bound || kWrapped) &&
           daemon_log_contains(&d, "session creation(s) cancelled",
                               5000 * daemon_fixture_slowdown());
}

} // namespace

int main() {
    std::printf("1..4\n");
    daemon_fixture d{};
    const std::string limit = std::to_string(kSessions + 1);
    const char *args[] = {"--sessions-per-uid", limit.c_str(), "--sessions-per-connection",
                          limit.c_str(), nullptr};
    salus_graph *g = small_graph();
    salus_client *bystander = nullptr;
    salus_session *mine = nullptr;
    if (!g || daemon_start_logged(&d, args) != 0 || !(bystander = connect(d, "bystander")) ||
        salus_session_create(bystander, g, nullptr, &mine) != 0) {
        std::printf("Bail out! cannot start the daemon and the bystander's session\n");
        return 1;
    }

    std::vector<double> alone;
    for (int i = 0; i < kBaselineIterations + 100; ++i) {
        double ms = run_once(mine);
        if (i >= 100 && ms >= 0) alone.push_back(ms); // the first ones warm up
    }

    Flood result;
    std::atomic<bool> done{false};
    std::thread flooder(flood, std::cref(d), g, &result, &done);
    std::vector<double> during;
    int failed_runs = 0;
    while (!done.load()) {
        double ms = run_once(mine);
        if (ms < 0) {
            ++failed_runs;
        } else {
            during.push_back(ms);
        }
    }
    flooder.join();

    int failed = 0;
    auto report = [&](bool ok, int n, const char *name, const char *skip = "") {
        std::printf("%s %d - %s%s\n", ok ? "ok" : "not ok", n, name, skip);
        failed += ok ? 0 : 1;
    };
    report(result.created == kSessions && failed_runs == 0, 1,
           "the flood creates every session while the bystander's iterations succeed");
    std::printf("# %d of %d sessions created%s%s; %d bystander iterations failed\n", result.created,
                kSessions, result.error.empty() ? "" : ": ", result.error.c_str(), failed_runs);

    // Its p99 within 2x of its baseline, or at least baseline + 5 ms: the
    // baseline (~0.2 ms quiet) is scheduler noise on a loaded 2-core CI VM,
    // and during the flood its client, the loop and the workers keep both
    // cores busy, so the bystander's threads wait for a time slice (a few ms)
    // whatever the daemon does: measured here, 0.4-11 ms with the fix under
    // other load, against 187 ms at 6000 sessions with work proportional to
    // the open sessions on the loop.
    const double base = p99(alone);
    const double flooded = p99(during);
    const double bound = std::max(2 * base, base + 5.0);
    report(!during.empty() && (flooded <= bound || kWrapped), 2,
           "the bystander's iteration p99 stays within max(2x, +5 ms) of its baseline",
           kTimingSkip);
    std::printf("# bystander p99: %.3f ms alone (%zu iterations), %.3f ms during the flood (%zu); "
                "bound %.3f ms\n",
                base, alone.size(), flooded, during.size(), bound);

    // Creation work proportional to the open sessions makes each thousand
    // slower than the one before (the last took 16x the first before the fix).
    const bool linear =
        result.chunk_ms.size() >= 2 && result.chunk_ms.back() <= 2 * result.chunk_ms.front();
    report(linear || kWrapped, 3, "the last 1000 sessions take at most 2x the first 1000",
           kTimingSkip);
    std::printf("# ms per 1000 sessions:");
    for (double ms : result.chunk_ms) std::printf(" %.0f", ms);
    std::printf("\n");

    std::string why;
    report(creations_cancelled(d, bystander, &why), 4,
           "creations a client leaves behind are not built");
    std::printf("# %s\n", why.c_str());

    salus_session_close(mine);
    salus_disconnect(bystander);
    salus_graph_free(g);
    if (daemon_stop(&d) != 0) {
        std::printf("# the daemon did not stop cleanly\n");
        ++failed;
    }
    return failed == 0 ? 0 : 1;
}
