// The [limits] of salusd against clients that try to exhaust it, each on a
// real daemon with small limits: a client that never reads its replies, partial
// frames and silent connections, a flood of connections from one uid, and
// the session, in-flight and graph size limits. TAP output.
#include "../capi/wire_io.h"

extern "C" {
#include "../capi/daemon_fixture.h"
}
#include "../capi/proc_status.h"

#include <salus/salus.h>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using namespace salus;
using namespace salus::test;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::string diagnostic; // why the current case failed

bool check(bool ok, const std::string &why) {
    if (!ok && diagnostic.empty()) diagnostic = why;
    return ok;
}

void sleep_ms(int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

std::string mib(uint64_t bytes) {
    return std::to_string(bytes / kMiB) + " MiB";
}

// The exported bytes of g when rc is 0, else none; frees g.
std::vector<uint8_t> finish_graph(salus_graph *g, int rc) {
    std::vector<uint8_t> bytes;
    void *buf = nullptr;
    size_t size = 0;
    if (rc == 0 && salus_graph_export(g, &buf, &size) == 0) {
        bytes.assign(static_cast<uint8_t *>(buf), static_cast<uint8_t *>(buf) + size);
        salus_buffer_free(buf);
    }
    salus_graph_free(g);
    return bytes;
}

// A graph of one variable of `n` floats (zeros) whose Relu is the output,
// so an iteration without inputs replies 4n bytes.
std::vector<uint8_t> relu_graph(int64_t n) {
    salus_graph *g = nullptr;
    uint32_t v = 0, y = 0;
    if (salus_graph_new(&g) != 0) return {};
    int rc = salus_graph_add_variable(g, "v", SALUS_DTYPE_F32, &n, 1, nullptr, 0, &v);
    if (rc == 0) rc = salus_graph_add_node(g, "Relu", nullptr, &v, 1, 1, &y, nullptr);
    if (rc == 0) rc = salus_graph_add_output(g, y);
    return finish_graph(g, rc);
}

// A graph whose iteration takes a while: `length` MatMuls of a 512x512
// variable, summed.
std::vector<uint8_t> matmul_graph(uint32_t length) {
    salus_graph *g = nullptr;
    const int64_t shape[2] = {512, 512};
    uint32_t w = 0, sum = 0, node = 0;
    if (salus_graph_new(&g) != 0) return {};
    int rc = salus_graph_add_variable(g, "w", SALUS_DTYPE_F32, shape, 2, nullptr, 0, &w);
    uint32_t h = w;
    for (uint32_t i = 0; rc == 0 && i < length; ++i) {
        const uint32_t inputs[2] = {h, w};
        rc = salus_graph_add_node(g, "MatMul", nullptr, inputs, 2, 1, &h, nullptr);
    }
    if (rc == 0) rc = salus_graph_add_node(g, "ReduceSum", "sum", &h, 1, 1, &sum, &node);
    if (rc == 0) rc = salus_graph_set_attr_int(g, node, "keepdims", 0);
    if (rc == 0) rc = salus_graph_add_output(g, sum);
    return finish_graph(g, rc);
}

// Creates a session of `graph` on a raw connection: its id, or 0.
uint64_t create_session(int fd, const std::vector<uint8_t> &graph) {
    flatbuffers::FlatBufferBuilder fbb;
    fbb.ForceVectorAlignment(graph.size(), 1, 8);
    auto bytes = fbb.CreateVector(graph);
    auto body = wire::CreateCreateSession(fbb, bytes);
    if (!send_message(fd, fbb, 2, wire::Body::CreateSession, body.Union())) return 0;
    std::vector<uint64_t> storage;
    const wire::Message *reply = recv_message(fd, &storage);
    if (!reply || reply->body_type() != wire::Body::CreateSessionReply) return 0;
    return reply->body_as_CreateSessionReply()->session_id();
}

// The bytes of a RunIteration of `session` without inputs.
std::vector<uint8_t> run_frame(uint64_t id, uint64_t session) {
    flatbuffers::FlatBufferBuilder fbb;
    auto body = wire::CreateRunIteration(fbb, session);
    return frame_message(fbb, id, wire::Body::RunIteration, body.Union());
}

// Whether the daemon closes fd within timeout_ms (end of stream, maybe
// after an Error frame, which lands in *error_code).
bool closed_within(int fd, int timeout_ms, int *error_code = nullptr) {
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::vector<uint64_t> storage;
    for (;;) {
        uint8_t header[frame::kHeaderBytes];
        ssize_t r = recv(fd, header, sizeof header, MSG_PEEK);
        if (r == 0) return true;
        if (r < 0) return errno == ECONNRESET;
        const wire::Message *m = recv_message(fd, &storage);
        if (!m) return true;
        if (error_code && m->body_type() == wire::Body::Error) {
            *error_code = m->body_as_Error()->code();
        }
    }
}

// A client of the C API on the daemon runs `n` iterations of a small graph.
bool serves(const char *path, int n, std::string *why) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = path;
    salus_client *client = nullptr;
    if (salus_connect(&opts, &client) != 0) {
        *why = std::string("connect: ") + salus_last_error();
        return false;
    }
    salus_graph *g = nullptr;
    const int64_t shape[1] = {4};
    uint32_t x = 0, y = 0;
    salus_session *s = nullptr;
    int rc = salus_graph_new(&g);
    if (rc == 0) rc = salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 1, &x);
    if (rc == 0) rc = salus_graph_add_node(g, "Relu", nullptr, &x, 1, 1, &y, nullptr);
    if (rc == 0) rc = salus_graph_add_output(g, y);
    if (rc == 0) rc = salus_session_create(client, g, nullptr, &s);
    salus_graph_free(g);
    const float in[4] = {-1, 2, -3, 4};
    salus_tensor *xv = nullptr;
    if (rc == 0) rc = salus_tensor_new(SALUS_DTYPE_F32, shape, 1, in, &xv);
    const salus_tensor *inputs[1] = {xv};
    for (int i = 0; rc == 0 && i < n; ++i) {
        salus_tensor *out = nullptr;
        rc = salus_session_run(s, &x, inputs, 1, &out, 1);
        salus_tensor_free(out);
    }
    if (rc != 0) *why = salus_client_last_error(client);
    salus_tensor_free(xv);
    if (s) salus_session_close(s);
    salus_disconnect(client);
    return rc == 0;
}

// Runs `fn` in a child under `uid`; its exit status is fn's result.
pid_t as_user(uid_t uid, const std::function<int()> &fn) {
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(uid) != 0 || setuid(uid) != 0) _exit(99);
        _exit(fn());
    }
    return pid;
}

int wait_child(pid_t pid) {
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A daemon started with `args` (a NULL-ended list is built here).
struct Daemon {
    daemon_fixture f{};
    bool ok = false;
    explicit Daemon(std::vector<const char *> args) {
        args.push_back(nullptr);
        ok = daemon_start_logged(&f, args.data()) == 0;
    }
    ~Daemon() { daemon_stop(&f); }
};

// Problem 2: 400 iterations with 1 MiB replies sent and none read. The
// daemon stops reading the client once its replies would pass
// reply-backlog: its RSS stays bounded, another client is served, and once
// the reader reads it gets every reply it was promised.
bool slow_reader() {
    Daemon d({"--reply-backlog", "8M"});
    if (!check(d.ok, "daemon did not start")) return false;
    const char *path = d.f.socket_path;
    int fd = hello(path);
    uint64_t session = fd >= 0 ? create_session(fd, relu_graph(256 * 1024)) : 0;
    if (!check(session != 0, "no session")) return false;
    uint64_t before = proc_status_bytes(d.f.pid, "VmRSS");

    // Send without blocking: once the daemon stops reading, the socket fills.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    constexpr int kIterations = 400;
    int sent = 0;
    std::vector<uint8_t> pending;
    for (int i = 0; i < kIterations; ++i) {
        std::vector<uint8_t> f = run_frame(100 + static_cast<uint64_t>(i), session);
        ssize_t w = send(fd, f.data(), f.size(), MSG_NOSIGNAL);
        if (w < 0) break;
        if (static_cast<size_t>(w) < f.size()) { // the rest later, blocking
            pending.assign(f.begin() + w, f.end());
            ++sent;
            break;
        }
        ++sent;
    }
    sleep_ms(1500); // the daemon runs what it read
    uint64_t stalled = proc_status_bytes(d.f.pid, "VmRSS");
    std::printf("# slow reader: %d of %d iterations sent; daemon RSS %s before, %s while the "
                "reader stalls\n",
                sent, kIterations, mib(before).c_str(), mib(stalled).c_str());
    bool ok = check(stalled < before + 64 * kMiB,
                    "daemon RSS grew from " + mib(before) + " to " + mib(stalled));

    std::string why;
    ok = check(serves(path, 20, &why), "another client was not served: " + why) && ok;

    // Reading now: every iteration sent is answered, none dropped.
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    std::thread writer([&] {
        if (!pending.empty()) io_all(fd, pending.data(), pending.size(), true);
    });
    int answered = 0;
    std::vector<uint64_t> storage;
    for (int i = 0; i < sent; ++i) {
        const wire::Message *m = recv_message(fd, &storage);
        if (!m || m->body_type() != wire::Body::RunIterationReply) break;
        ++answered;
    }
    writer.join();
    ok = check(answered == sent,
               std::to_string(answered) + " of " + std::to_string(sent) + " iterations answered") &&
         ok;
    close(fd);
    return ok;
}

// Problem 3: a connection that never says Hello, and one that starts a
// frame and stops, are closed after their timeouts; headers declaring
// huge frames reserve nothing.
bool partial_frames() {
    Daemon d({"--hello-timeout", "1s", "--frame-timeout", "1s"});
    if (!check(d.ok, "daemon did not start")) return false;
    const char *path = d.f.socket_path;
    uint64_t vm_before = proc_status_bytes(d.f.pid, "VmSize");
    uint64_t rss_before = proc_status_bytes(d.f.pid, "VmRSS");

    // Greeted connections that declare 250 MiB frames and send 1000 bytes.
    constexpr int kPartial = 50;
    std::vector<int> fds;
    for (int i = 0; i < kPartial; ++i) {
        int fd = hello(path);
        if (fd < 0) break;
        std::vector<uint8_t> bytes(frame::kHeaderBytes + 1000, 0);
        frame::write_length(bytes.data(), 250u << 20);
        io_all(fd, bytes.data(), bytes.size(), true);
        fds.push_back(fd);
    }
    bool ok = check(fds.size() == kPartial, "cannot open the connections");
    int silent = connect_unix(path);
    // Before Hello, a header declaring 250 MiB is refused at once.
    int big_first = connect_unix(path);
    uint8_t header[frame::kHeaderBytes];
    frame::write_length(header, 250u << 20);
    io_all(big_first, header, sizeof header, true);
    int code = 0;
    ok = check(closed_within(big_first, 500, &code) && code == SALUS_ETOOBIG,
               "a 250 MiB first frame was not refused with SALUS_ETOOBIG") &&
         ok;
    sleep_ms(200);
    uint64_t vm_held = proc_status_bytes(d.f.pid, "VmSize");
    uint64_t rss_held = proc_status_bytes(d.f.pid, "VmRSS");
    std::printf("# %d partial 250 MiB frames: daemon VmSize %s -> %s, VmRSS %s -> %s\n", kPartial,
                mib(vm_before).c_str(), mib(vm_held).c_str(), mib(rss_before).c_str(),
                mib(rss_held).c_str());
    ok = check(vm_held < vm_before + 256 * kMiB,
               "partial frames reserved " + mib(vm_held - vm_before) + " of address space") &&
         ok;

    auto start = std::chrono::steady_clock::now();
    ok = check(closed_within(silent, 3000), "a connection without Hello stayed open") && ok;
    for (int fd : fds) {
        ok = check(closed_within(fd, 3000), "a partial frame's connection stayed open") && ok;
        close(fd);
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("# closed after %.1f s\n", s);
    ok = check(daemon_log_contains(&d.f, "[limits] hello-timeout", 1000) == 1,
               "no log line for the Hello timeout") &&
         ok;
    ok = check(daemon_log_contains(&d.f, "[limits] frame-timeout", 1000) == 1,
               "no log line for the frame timeout") &&
         ok;
    close(silent);
    close(big_first);
    return ok;
}

// Two throwaway users, removed at the end.
struct Users {
    uid_t a = 0, b = 0;
    bool ok = false;
    Users() {
        std::system("userdel salus-lim-a >/dev/null 2>&1; userdel salus-lim-b >/dev/null 2>&1");
        ok = std::system("useradd -M -U salus-lim-a && useradd -M -U salus-lim-b") == 0;
        // getpwnam returns static storage: copy each uid at once.
        struct passwd *pa = ok ? getpwnam("salus-lim-a") : nullptr;
        if (pa) a = pa->pw_uid;
        struct passwd *pb = ok ? getpwnam("salus-lim-b") : nullptr;
        if (pb) b = pb->pw_uid;
        ok = ok && pa && pb && a != b;
    }
    ~Users() {
        std::system("userdel salus-lim-a >/dev/null 2>&1; userdel salus-lim-b >/dev/null 2>&1");
    }
};

// Opens n connections to path and holds them until hold_fd reaches its end;
// returns how many were accepted (not refused), for the exit status.
int flood(const char *path, int n, int hold_fd) {
    std::vector<int> fds;
    for (int i = 0; i < n; ++i) {
        int fd = connect_unix(path);
        if (fd >= 0) fds.push_back(fd);
    }
    sleep_ms(300);
    int refused = 0;
    for (int fd : fds) {
        // A refused connection has its Error and end of stream waiting.
        uint8_t b;
        if (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) >= 0) ++refused;
    }
    uint8_t b;
    if (read(hold_fd, &b, 1) < 0) return 255; // until the parent says go
    return static_cast<int>(fds.size()) - refused;
}

// A child under `uid` floods path with n connections and holds them until
// *release is closed; give it a second to connect.
pid_t start_flood(uid_t uid, const char *path, int n, int *release) {
    int go[2];
    if (pipe(go) != 0) return -1;
    pid_t pid = as_user(uid, [&] {
        close(go[1]);
        return flood(path, n, go[0]);
    });
    close(go[0]);
    *release = go[1];
    sleep_ms(1000);
    return pid;
}

// Problem 4: one uid opens 200 idle connections on a daemon with 160 file
// descriptors: it gets connections-per-uid of them; another uid and root
// still connect; once the rest of the descriptors are used up, only root.
bool connection_flood() {
    Users users;
    if (!check(users.ok, "cannot create the test users")) return false;
    // The daemon inherits a small descriptor limit (root raises it back).
    rlimit saved{};
    getrlimit(RLIMIT_NOFILE, &saved);
    rlimit small{160, 160};
    setrlimit(RLIMIT_NOFILE, &small);
    Daemon d({"--connections-per-uid", "64", "--fd-reserve", "40"});
    setrlimit(RLIMIT_NOFILE, &saved);
    if (!check(d.ok, "daemon did not start")) return false;
    const char *path = d.f.socket_path;
    chmod(d.f.dir, 0755);
    chmod(path, 0666);

    int release_a = -1, release_b = -1;
    pid_t flooder = start_flood(users.a, path, 200, &release_a);
    std::string why;
    pid_t other = as_user(users.b, [&] {
        std::string w;
        bool served = serves(path, 3, &w);
        if (!served) std::fprintf(stderr, "# uid b: %s\n", w.c_str());
        return served ? 0 : 1;
    });
    bool ok = check(wait_child(other) == 0, "another uid could not connect during the flood");
    ok = check(serves(path, 3, &why), "root could not connect during the flood: " + why) && ok;

    // uid b now takes what is left above the reserve: root still connects.
    pid_t second = start_flood(users.b, path, 60, &release_b);
    ok = check(serves(path, 3, &why),
               "root could not connect with the descriptors used up: " + why) &&
         ok;
    close(release_a);
    close(release_b);
    int accepted_a = wait_child(flooder);
    int accepted_b = wait_child(second);
    std::printf("# uid a: %d of 200 connections accepted; uid b: %d of 60\n", accepted_a,
                accepted_b);
    ok = check(accepted_a == 64, "uid a got " + std::to_string(accepted_a) +
                                     " connections, not connections-per-uid (64)") &&
         ok;
    ok = check(accepted_b < 60, "uid b was not stopped by fd-reserve") && ok;
    ok = check(daemon_log_contains(&d.f, "[limits] connections-per-uid", 1000) == 1,
               "the refusal was not logged") &&
         ok;
    // Once per uid per interval, not once per attempt.
    std::ifstream log(d.f.log_path);
    std::string line;
    int lines = 0;
    while (std::getline(log, line)) lines += line.find("refused:") != std::string::npos ? 1 : 0;
    std::printf("# %d refusal lines logged\n", lines);
    ok = check(lines <= 4, std::to_string(lines) + " refusal lines: not rate-limited") && ok;
    return ok;
}

// The session, in-flight and graph size limits answer with the error, the
// limit and its key.
bool session_limits() {
    Daemon d({"--sessions-per-connection", "2", "--sessions-per-uid", "3",
              "--iterations-per-session", "2", "--iterations-per-connection", "3", "--graph-nodes",
              "20"});
    if (!check(d.ok, "daemon did not start")) return false;
    const char *path = d.f.socket_path;
    std::vector<uint8_t> small = relu_graph(4);
    int c1 = hello(path), c2 = hello(path);
    bool ok = check(create_session(c1, small) != 0 && create_session(c1, small) != 0,
                    "two sessions refused");
    // The third on this connection, then the fourth of the uid.
    auto refused = [](int fd, const std::vector<uint8_t> &graph, int code, const char *key) {
        flatbuffers::FlatBufferBuilder fbb;
        fbb.ForceVectorAlignment(graph.size(), 1, 8);
        auto bytes = fbb.CreateVector(graph);
        auto body = wire::CreateCreateSession(fbb, bytes);
        std::vector<uint64_t> storage;
        const wire::Message *m = nullptr;
        if (send_message(fd, fbb, 9, wire::Body::CreateSession, body.Union()))
            m = recv_message(fd, &storage);
        if (!m || m->body_type() != wire::Body::Error) return false;
        const wire::Error *e = m->body_as_Error();
        std::printf("# %s\n", e->message()->c_str());
        return e->code() == code && std::strstr(e->message()->c_str(), key) != nullptr;
    };
    ok = check(refused(c1, small, SALUS_ERESOURCE, "sessions-per-connection"),
               "no sessions-per-connection refusal") &&
         ok;
    ok = check(refused(c2, matmul_graph(30), SALUS_ETOOBIG, "graph-nodes"),
               "no graph-nodes refusal") &&
         ok;
    uint64_t heavy = create_session(c2, matmul_graph(8));
    ok = check(heavy != 0, "the uid's third session refused") && ok;
    ok = check(refused(c2, small, SALUS_ERESOURCE, "sessions-per-uid"),
               "no sessions-per-uid refusal") &&
         ok;

    // Four iterations at once: the last two are over iterations-per-session.
    std::vector<uint8_t> batch;
    for (uint64_t id = 20; id < 24; ++id) {
        std::vector<uint8_t> f = run_frame(id, heavy);
        batch.insert(batch.end(), f.begin(), f.end());
    }
    io_all(c2, batch.data(), batch.size(), true);
    int done = 0, over = 0;
    std::vector<uint64_t> storage;
    for (int i = 0; i < 4; ++i) {
        const wire::Message *m = recv_message(c2, &storage);
        if (!m) break;
        if (m->body_type() == wire::Body::RunIterationReply) ++done;
        if (m->body_type() == wire::Body::Error && m->body_as_Error()->code() == SALUS_ERESOURCE &&
            std::strstr(m->body_as_Error()->message()->c_str(), "iterations-per-session")) {
            ++over;
        }
    }
    ok = check(done == 2 && over == 2, std::to_string(done) + " iterations ran and " +
                                           std::to_string(over) +
                                           " were refused, expected 2 and 2") &&
         ok;
    close(c1);
    close(c2);
    return ok;
}

// A reload (SIGHUP) applies a new limit at once, to an open connection.
bool reload_limit() {
    char config[] = "/tmp/salus-limits-XXXXXX";
    int cfd = mkstemp(config);
    if (!check(cfd >= 0, "mkstemp")) return false;
    auto write_config = [&](const char *text) { std::ofstream(config, std::ios::trunc) << text; };
    write_config("[limits]\nsessions-per-connection = 1\n");
    bool ok;
    {
        Daemon d({"--config", config});
        if (!check(d.ok, "daemon did not start")) return false;
        std::vector<uint8_t> small = relu_graph(4);
        int fd = hello(d.f.socket_path);
        ok = check(create_session(fd, small) != 0, "the first session was refused");
        ok = check(create_session(fd, small) == 0, "a second session went over the limit of 1") &&
             ok;
        write_config("[limits]\nsessions-per-connection = 2\n");
        kill(d.f.pid, SIGHUP);
        ok = check(daemon_log_contains(&d.f, "sessions-per-connection 1 -> 2", 5000) == 1,
                   "the reload did not apply sessions-per-connection") &&
             ok;
        ok = check(create_session(fd, small) != 0, "the reloaded limit did not apply") && ok;
        close(fd);
    }
    close(cfd);
    unlink(config);
    return ok;
}

} // namespace

int main() {
    if (geteuid() != 0) {
        std::printf("1..0 # SKIP needs root (test users, descriptor limits)\n");
        return 0;
    }
    struct Case {
        const char *name;
        bool (*fn)();
    };
    const Case cases[] = {
        {"a slow reader does not grow the daemon", slow_reader},
        {"partial frames and silent connections time out", partial_frames},
        {"a connection flood from one uid leaves room for others", connection_flood},
        {"session, in-flight and graph limits refuse with their key", session_limits},
        {"a reload applies a new limit at once", reload_limit},
    };
    std::printf("1..%zu\n", sizeof cases / sizeof cases[0]);
    int failed = 0;
    int n = 0;
    for (const Case &c : cases) {
        diagnostic.clear();
        bool ok = c.fn();
        std::printf("%s %d - %s\n", ok ? "ok" : "not ok", ++n, c.name);
        if (!ok) {
            std::printf("# %s\n", diagnostic.c_str());
            ++failed;
        }
        std::fflush(stdout);
    }
    return failed == 0 ? 0 : 1;
}
