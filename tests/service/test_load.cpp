// The daemon under load with clients killed (issue 14). 64 client processes
// each run 1,000 pipelined iterations whose inputs carry the client and the
// iteration, while the parent SIGKILLs a tenth of them at random moments:
// every iteration a client got an answer for arrived exactly once with the
// right value, and the pool and the session count return to where they were.
// Before that, sessions created and closed in rounds cost the fresh daemon
// no memory each; five load rounds on it then leave its RSS flat. TAP
// output; $SALUS_LOAD_SEED repeats a run's kills.
extern "C" {
#include "../capi/daemon_fixture.h"
}
#include "../capi/proc_status.h"

#include <salus/salus.h>

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

// Under $SALUSD_WRAPPER (valgrind) the same run with longer timeouts and
// no RSS verdict.
const bool kWrapped = daemon_fixture_wrapped() != 0;
constexpr int kClients = 64;
constexpr uint32_t kIterations = 1000;
constexpr int kKilled = kClients / 10;
constexpr int kRounds = 5;
constexpr uint32_t kInFlight = 8; // iterations a client keeps submitted
const int kRoundTimeoutMs = 60'000 * daemon_fixture_slowdown();

// ASan keeps freed memory in quarantine, and valgrind's RSS is its own:
// there RSS says nothing of leaks (both report leaks themselves).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAsan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAsan = true;
#else
constexpr bool kAsan = false;
#endif
#else
constexpr bool kAsan = false;
#endif
const bool kRssMeaningful = !kAsan && !kWrapped;
const char *const kRssSkip = kAsan ? " # SKIP under ASan" : " # SKIP under $SALUSD_WRAPPER";

// One line of a client's report: the answer to its `index`-th iteration,
// or, with index kDone, the end of a client that finished (status: its rc).
struct Record {
    uint32_t index = 0;
    int32_t status = 0;
    uint64_t iteration = 0; // salus_pending_iteration: index + 1
    float y[2] = {0, 0};
};
constexpr uint32_t kDone = UINT32_MAX;
static_assert(sizeof(Record) <= PIPE_BUF, "records must be written atomically");

// The graph: y = x * {2, 3} + {1, -1} on x = {client, iteration}, so each
// answer names the client and the iteration it belongs to.
float expected_y(int axis, uint32_t client, uint32_t index) {
    return axis == 0 ? 2.0f * static_cast<float>(client) + 1.0f
                     : 3.0f * static_cast<float>(index) - 1.0f;
}

salus_graph *tagged_graph(uint32_t *x) {
    salus_graph *g = nullptr;
    const int64_t shape[1] = {2};
    const float scale[2] = {2, 3}, shift[2] = {1, -1};
    uint32_t c = 0, d = 0, prod = 0, y = 0;
    int rc = salus_graph_new(&g);
    if (rc == 0) rc = salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 1, x);
    if (rc == 0)
        rc = salus_graph_add_constant(g, "scale", SALUS_DTYPE_F32, shape, 1, scale, sizeof scale,
                                      &c);
    if (rc == 0)
        rc = salus_graph_add_constant(g, "shift", SALUS_DTYPE_F32, shape, 1, shift, sizeof shift,
                                      &d);
    const uint32_t mul_in[2] = {*x, c};
    if (rc == 0) rc = salus_graph_add_node(g, "Mul", nullptr, mul_in, 2, 1, &prod, nullptr);
    const uint32_t add_in[2] = {prod, d};
    if (rc == 0) rc = salus_graph_add_node(g, "Add", nullptr, add_in, 2, 1, &y, nullptr);
    if (rc == 0) rc = salus_graph_add_output(g, y);
    if (rc != 0) {
        salus_graph_free(g);
        return nullptr;
    }
    return g;
}

salus_client *connect_to(const char *path) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = path;
    salus_client *c = nullptr;
    return salus_connect(&opts, &c) == 0 ? c : nullptr;
}

// A client process: its iterations, kInFlight at a time, each answer
// reported on `out` as it arrives.
int run_client(const char *path, uint32_t client, int out) {
    salus_client *c = connect_to(path);
    uint32_t x = 0;
    salus_graph *g = tagged_graph(&x);
    salus_session *s = nullptr;
    int rc = c && g ? salus_session_create(c, g, nullptr, &s) : SALUS_ECONNECT;
    salus_graph_free(g);
    salus_pending *ring[kInFlight] = {};
    const int64_t shape[1] = {2};
    for (uint32_t i = 0; rc == 0 && i < kIterations + kInFlight; ++i) {
        salus_pending **slot = &ring[i % kInFlight];
        if (i >= kInFlight) {
            salus_tensor *y = nullptr;
            rc = salus_pending_wait(*slot, &y, 1);
            if (rc != 0) break;
            Record r;
            r.index = i - kInFlight;
            r.iteration = salus_pending_iteration(*slot);
            std::memcpy(r.y, salus_tensor_const_data(y), sizeof r.y);
            salus_tensor_free(y);
            salus_pending_free(*slot);
            *slot = nullptr;
            if (write(out, &r, sizeof r) != sizeof r) return 1;
        }
        if (i < kIterations) {
            const float in[2] = {static_cast<float>(client), static_cast<float>(i)};
            salus_tensor *t = nullptr;
            rc = salus_tensor_new(SALUS_DTYPE_F32, shape, 1, in, &t);
            const salus_tensor *inputs[1] = {t};
            if (rc == 0) rc = salus_session_submit(s, &x, inputs, 1, slot);
            salus_tensor_free(t);
        }
    }
    for (salus_pending *p : ring) salus_pending_free(p);
    if (s) {
        int closed = salus_session_close(s);
        if (rc == 0) rc = closed;
    }
    if (rc != 0) std::fprintf(stderr, "# client %u: %s\n", client, salus_last_error());
    salus_disconnect(c);
    Record done;
    done.index = kDone;
    done.status = rc;
    if (write(out, &done, sizeof done) != sizeof done) return 1;
    return rc == 0 ? 0 : 1;
}

struct Child {
    pid_t pid = -1;
    int fd = -1;                   // the read end of its report pipe; -1 at its end
    uint32_t kill_at = UINT32_MAX; // killed once this many answers reached us
    bool killed = false;
    std::vector<Record> got;
    std::string partial; // bytes of a record not complete yet
    int status = 0;
};

// Reads what c has reported; kills it once it reached its kill_at.
void read_reports(Child &c) {
    char buf[4096];
    ssize_t n = read(c.fd, buf, sizeof buf);
    if (n <= 0) {
        close(c.fd);
        c.fd = -1;
        return;
    }
    c.partial.append(buf, static_cast<size_t>(n));
    size_t whole = c.partial.size() / sizeof(Record) * sizeof(Record);
    for (size_t at = 0; at < whole; at += sizeof(Record)) {
        Record r;
        std::memcpy(&r, c.partial.data() + at, sizeof r);
        c.got.push_back(r);
    }
    c.partial.erase(0, whole);
    if (!c.killed && c.got.size() >= c.kill_at) {
        kill(c.pid, SIGKILL);
        c.killed = true;
    }
}

// Why client k's reports are wrong, or "" when every answer it got is its
// own iteration's, in order, each once, and a client left alive got all.
std::string check_reports(const Child &c, uint32_t k) {
    std::vector<Record> answers = c.got;
    bool finished = !answers.empty() && answers.back().index == kDone;
    if (finished) answers.pop_back();
    const std::string who = "client " + std::to_string(k) + ": ";
    for (size_t n = 0; n < answers.size(); ++n) {
        const Record &r = answers[n];
        // A duplicate, a lost answer or another iteration's breaks the order.
        if (r.index != n || r.iteration != n + 1)
            return who + "answer " + std::to_string(n) + " came as index " +
                   std::to_string(r.index) + ", iteration " + std::to_string(r.iteration);
        if (r.y[0] != expected_y(0, k, r.index) || r.y[1] != expected_y(1, k, r.index))
            return who + "iteration " + std::to_string(n) + " answered {" + std::to_string(r.y[0]) +
                   ", " + std::to_string(r.y[1]) + "}";
    }
    const bool exited_ok = WIFEXITED(c.status) && WEXITSTATUS(c.status) == 0;
    if (c.killed && WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGKILL) return "";
    // Alive to the end (a doomed one may finish before its kill lands).
    if (!finished || !exited_ok)
        return who + "ended (status " + std::to_string(c.status) + ") after " +
               std::to_string(answers.size()) + " answers" +
               (finished ? ", rc " + std::to_string(c.got.back().status) : "");
    if (answers.size() != kIterations)
        return who + std::to_string(answers.size()) + " answers for " +
               std::to_string(kIterations) + " iterations";
    return "";
}

struct Pool {
    uint64_t free_bytes = 0;
    uint32_t open = 0, queued = 0;
    bool operator==(const Pool &o) const {
        return free_bytes == o.free_bytes && open == o.open && queued == o.queued;
    }
};

// A connection of its own each time: the parent forks clients and so must
// not hold a connection (and its threads) across a fork.
bool pool_now(const char *path, Pool *out) {
    salus_client *c = connect_to(path);
    salus_status st;
    bool ok = c && salus_get_status(c, &st) == 0;
    if (ok) *out = {st.free_bytes, st.open_sessions, st.queued_sessions};
    salus_disconnect(c);
    return ok;
}

// Waits up to 10 s (times the wrapper's slowdown) for the pool to be `want`
// again: a killed client's session is closed once the daemon sees its
// connection end.
bool pool_returns(const char *path, const Pool &want, Pool *last) {
    for (int waited = 0; waited < 10'000 * daemon_fixture_slowdown(); waited += 20) {
        if (pool_now(path, last) && *last == want) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// One round: every client forked, kKilled of them doomed at a random answer.
std::string load_round(const char *path, std::mt19937 &rng, double *seconds) {
    std::vector<Child> children(kClients);
    std::vector<int> order(kClients);
    for (int k = 0; k < kClients; ++k) order[k] = k;
    std::shuffle(order.begin(), order.end(), rng);
    std::uniform_int_distribution<uint32_t> moment(0, kIterations - 1);
    for (int i = 0; i < kKilled; ++i) children[order[i]].kill_at = moment(rng);

    auto start = std::chrono::steady_clock::now();
    for (int k = 0; k < kClients; ++k) {
        int p[2];
        if (pipe(p) != 0) return "pipe failed";
        pid_t pid = fork();
        if (pid < 0) return "fork failed";
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the test
            close(p[0]);
            for (int j = 0; j < k; ++j) close(children[j].fd);
            _exit(run_client(path, static_cast<uint32_t>(k), p[1]));
        }
        close(p[1]);
        children[k].pid = pid;
        children[k].fd = p[0];
        if (children[k].kill_at == 0) {
            kill(pid, SIGKILL); // before it even connects
            children[k].killed = true;
        }
    }
    std::string why;
    for (;;) {
        std::vector<pollfd> fds;
        std::vector<Child *> owners;
        for (Child &c : children) {
            if (c.fd < 0) continue;
            fds.push_back({c.fd, POLLIN, 0});
            owners.push_back(&c);
        }
        if (fds.empty()) break;
        auto elapsed = std::chrono::steady_clock::now() - start;
        if (elapsed > std::chrono::milliseconds(kRoundTimeoutMs)) {
            why = "clients still running after " + std::to_string(kRoundTimeoutMs / 1000) + " s";
            for (Child *c : owners) kill(c->pid, SIGKILL);
            break;
        }
        if (poll(fds.data(), fds.size(), 1000) < 0) continue;
        for (size_t i = 0; i < fds.size(); ++i) {
            if (fds[i].revents) read_reports(*owners[i]);
        }
    }
    for (Child &c : children) {
        if (c.fd >= 0) close(c.fd);
        waitpid(c.pid, &c.status, 0);
    }
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    size_t answered = 0;
    for (int k = 0; k < kClients; ++k) {
        std::string wrong = check_reports(children[k], static_cast<uint32_t>(k));
        if (why.empty()) why = wrong;
        answered += children[k].got.size();
    }
    std::printf("# %zu answers in %.1f s; killed at answer", answered, *seconds);
    for (int i = 0; i < kKilled; ++i) std::printf(" %u", children[order[i]].kill_at);
    std::printf("\n");
    return why;
}

// `per_round` sessions created and closed on one connection, `rounds`
// times: the RSS after each round.
std::vector<uint64_t> churn_rss(const daemon_fixture &d, int rounds, int per_round) {
    std::vector<uint64_t> rss;
    salus_client *c = connect_to(d.socket_path);
    uint32_t x = 0;
    salus_graph *g = tagged_graph(&x);
    for (int r = 0; c && g && r < rounds; ++r) {
        for (int i = 0; i < per_round; ++i) {
            salus_session *s = nullptr;
            if (salus_session_create(c, g, nullptr, &s) != 0 || salus_session_close(s) != 0) {
                std::printf("# churn: %s\n", salus_client_last_error(c));
                rss.clear();
                r = rounds;
                break;
            }
        }
        if (r < rounds) rss.push_back(proc_status_bytes(d.pid, "VmRSS"));
    }
    salus_graph_free(g);
    salus_disconnect(c);
    return rss;
}

} // namespace

int main() {
    uint32_t seed = static_cast<uint32_t>(std::random_device{}());
    if (const char *s = std::getenv("SALUS_LOAD_SEED")) seed = static_cast<uint32_t>(std::atoll(s));
    std::mt19937 rng(seed);
    std::printf("1..%d\n# seed %u\n", kRounds + 2, seed);
    std::fflush(stdout);

    daemon_fixture d;
    const char *args[] = {"--pool-bytes", "256M", nullptr};
    if (daemon_start_logged(&d, args) != 0) {
        std::printf("Bail out! salusd did not start\n");
        return 1;
    }
    int n = 0, failed = 0;
    auto report = [&](const std::string &why, const std::string &name) {
        std::printf("%s %d - %s\n", why.empty() ? "ok" : "not ok", ++n, name.c_str());
        if (!why.empty()) std::printf("# %s\n", why.c_str());
        failed += why.empty() ? 0 : 1;
        std::fflush(stdout);
    };

    Pool start;
    if (!pool_now(d.socket_path, &start)) {
        std::printf("Bail out! no status from salusd\n");
        daemon_stop(&d);
        return 1;
    }
    // Churn first, on the fresh daemon: later, memory the load rounds freed
    // would absorb a small leak. Round 1 settles the allocator; a record kept
    // per closed session shows in the others (the scheduler kept ~110 B per
    // lane id: 106 B per session here, which fails this check).
    constexpr size_t kChurnRounds = 4;
    constexpr int kPerRound = 2000;
    constexpr uint64_t kPerSession = 16;
    std::vector<uint64_t> churn = churn_rss(d, static_cast<int>(kChurnRounds), kPerRound);
    std::string why;
    if (churn.size() != kChurnRounds) {
        why = "sessions could not be created and closed";
    } else {
        const uint64_t grown = churn.back() > churn.front() ? churn.back() - churn.front() : 0;
        const uint64_t sessions = static_cast<uint64_t>(kPerRound) * (kChurnRounds - 1);
        std::printf("# churn: RSS");
        for (uint64_t b : churn) std::printf(" %llu", static_cast<unsigned long long>(b >> 10));
        std::printf(" KiB; %.1f B per session after round 1\n",
                    static_cast<double>(grown) / static_cast<double>(sessions));
        if (grown > kPerSession * sessions)
            why = std::to_string(grown / sessions) + " B of RSS per session created and closed";
    }
    if (!kRssMeaningful) why.clear();
    report(why, std::string("sessions created and closed cost the daemon < 16 B of RSS each") +
                    (kRssMeaningful ? "" : kRssSkip));

    std::vector<uint64_t> rss;
    for (int round = 1; round <= kRounds; ++round) {
        double seconds = 0;
        why = load_round(d.socket_path, rng, &seconds);
        Pool now;
        if (!pool_returns(d.socket_path, start, &now) && why.empty())
            why = "pool free bytes " + std::to_string(now.free_bytes) + " (was " +
                  std::to_string(start.free_bytes) + "), " + std::to_string(now.open) +
                  " sessions open, " + std::to_string(now.queued) + " queued";
        rss.push_back(proc_status_bytes(d.pid, "VmRSS"));
        std::printf("# daemon RSS %llu KiB\n", static_cast<unsigned long long>(rss.back() >> 10));
        report(why, "round " + std::to_string(round) + ": " + std::to_string(kClients) +
                        " clients, " + std::to_string(kKilled) +
                        " killed: each answer once and right, the pool back");
    }

    // Round 1 grows the allocator's arenas (one per thread that allocated)
    // to what 64 clients need; later rounds reuse them. A leak of one
    // reply frame (~100 B) per iteration would add 25 MiB over 4 rounds.
    constexpr uint64_t kFlat = 2u << 20;
    why.clear();
    if (rss.back() > rss.front() + kFlat)
        why = "RSS grew " + std::to_string((rss.back() - rss.front()) >> 10) + " KiB after round 1";
    if (!kRssMeaningful) why.clear();
    report(why, std::string("daemon RSS flat over the rounds after the first (< 2 MiB)") +
                    (kRssMeaningful ? "" : kRssSkip));

    if (daemon_stop(&d) != 0) {
        std::printf("# salusd did not stop cleanly\n");
        ++failed;
    }
    return failed == 0 ? 0 : 1;
}
