// Round trip of one iteration of a trivial graph (Identity on 16 floats)
// through salusd, against a raw Unix-socket echo of the same request bytes
// served by another process, measured in the same run. The echo runs twice:
// with blocking reads, and polling 50 us before blocking on both ends as
// libsalus and salusd's lanes do, so the comparison with the same trick is
// there too.
//
//   bench-roundtrip --socket SALUSD_SOCKET [--iterations N]
//   bench-roundtrip --socket SALUSD_SOCKET --rounds
//
// With --rounds it only serves bench-python-roundtrip.py: for each count N
// read from stdin it runs N timed iterations of the trivial graph (after a
// tenth as warm-up) and prints their round trips in microseconds on one
// line, so that the Python benchmark can alternate rounds with its own.
#include "frame.h"
#include "stats.h"

#include <salus/salus.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

constexpr int64_t kElems = 16;

// Reads exactly n bytes; with `spin`, polls up to 50 us before each
// blocking read, the way libsalus and the lane threads wait.
bool read_all(int fd, void *buf, size_t n, bool spin) {
    auto *p = static_cast<uint8_t *>(buf);
    while (n > 0) {
        ssize_t r = -1;
        if (spin) {
            auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(50);
            do {
                r = recv(fd, p, n, MSG_DONTWAIT);
            } while (r < 0 && errno == EAGAIN && std::chrono::steady_clock::now() < until);
        }
        if (r < 0) r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

bool write_all(int fd, const void *buf, size_t n) {
    const auto *p = static_cast<const uint8_t *>(buf);
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<size_t>(w);
    }
    return true;
}

// The frame libsalus sends for one iteration of the trivial graph.
std::vector<uint8_t> iteration_frame() {
    flatbuffers::FlatBufferBuilder fbb;
    std::vector<float> x(kElems, 1.0f);
    std::vector<int64_t> shape{kElems};
    fbb.ForceVectorAlignment(x.size() * sizeof(float), 1, 16);
    auto data = fbb.CreateVector(reinterpret_cast<const uint8_t *>(x.data()), x.size() * 4);
    auto tv = salus::wire::CreateTensorValue(fbb, 0, salus::ir::DType::F32, fbb.CreateVector(shape),
                                             data);
    auto run = salus::wire::CreateRunIteration(fbb, 1, fbb.CreateVector(&tv, 1));
    auto msg = salus::wire::CreateMessage(fbb, 7, salus::wire::Body::RunIteration, run.Union());
    fbb.Finish(msg, salus::wire::MessageIdentifier());
    std::vector<uint8_t> frame(salus::frame::kHeaderBytes + fbb.GetSize());
    salus::frame::write_length(frame.data(), static_cast<uint32_t>(fbb.GetSize()));
    std::memcpy(frame.data() + salus::frame::kHeaderBytes, fbb.GetBufferPointer(), fbb.GetSize());
    return frame;
}

// A process that echoes every frame back over a Unix socket.
pid_t start_echo(const std::string &path, bool spin) {
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    unlink(path.c_str());
    if (bind(lfd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0 || listen(lfd, 1) < 0) {
        std::perror("echo bind");
        std::exit(1);
    }
    pid_t pid = fork();
    if (pid == 0) {
        int fd = accept(lfd, nullptr, nullptr);
        std::vector<uint8_t> buf;
        uint8_t hdr[4];
        while (read_all(fd, hdr, 4, spin)) {
            uint32_t n = salus::frame::read_length(hdr);
            buf.resize(4 + n);
            std::memcpy(buf.data(), hdr, 4);
            if (!read_all(fd, buf.data() + 4, n, spin) || !write_all(fd, buf.data(), buf.size()))
                break;
        }
        _exit(0);
    }
    close(lfd);
    return pid;
}

int connect_echo(const std::string &path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0) {
        std::perror("echo connect");
        std::exit(1);
    }
    return fd;
}

// Appends `iterations` timed round trips (after a tenth as warm-up) to *us.
void bench_echo(int fd, int iterations, bool spin, std::vector<double> *us) {
    std::vector<uint8_t> frame = iteration_frame(), reply(frame.size());
    for (int i = 0; i < iterations + iterations / 10; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        if (!write_all(fd, frame.data(), frame.size()) ||
            !read_all(fd, reply.data(), reply.size(), spin)) {
            std::fprintf(stderr, "echo failed\n");
            std::exit(1);
        }
        auto t1 = std::chrono::steady_clock::now();
        if (i >= iterations / 10)
            us->push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
}

int check(int rc, const char *what) {
    if (rc < 0) {
        std::fprintf(stderr, "bench-roundtrip: %s: %s (%s)\n", what, salus_strerror(rc),
                     salus_last_error());
        std::exit(1);
    }
    return rc;
}

struct TrivialSession {
    salus_client *client = nullptr;
    salus_session *session = nullptr;
    salus_tensor *input = nullptr;
    uint32_t x = 0;
};

TrivialSession open_trivial(const char *socket_path) {
    TrivialSession t;
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = socket_path;
    opts.client_name = "bench-roundtrip";
    check(salus_connect(&opts, &t.client), "connect");
    salus_graph *g = nullptr;
    check(salus_graph_new(&g), "graph");
    int64_t shape[1] = {kElems};
    uint32_t y;
    check(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 1, &t.x), "input");
    check(salus_graph_add_node(g, "Identity", "id", &t.x, 1, 1, &y, nullptr), "node");
    check(salus_graph_add_output(g, y), "output");
    check(salus_session_create(t.client, g, nullptr, &t.session), "create session");
    salus_graph_free(g);
    std::vector<float> ones(kElems, 1.0f);
    check(salus_tensor_new(SALUS_DTYPE_F32, shape, 1, ones.data(), &t.input), "tensor");
    return t;
}

void close_trivial(TrivialSession *t) {
    salus_tensor_free(t->input);
    check(salus_session_close(t->session), "close");
    salus_disconnect(t->client);
}

void bench_salusd(TrivialSession *t, int iterations, std::vector<double> *us) {
    for (int i = 0; i < iterations + iterations / 10; ++i) {
        salus_tensor *out = nullptr;
        auto t0 = std::chrono::steady_clock::now();
        check(salus_session_run(t->session, &t->x, &t->input, 1, &out, 1), "run");
        auto t1 = std::chrono::steady_clock::now();
        salus_tensor_free(out);
        if (i >= iterations / 10)
            us->push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    }
}

// The --rounds mode: one line of timings per count read from stdin.
int serve_rounds(const char *socket_path) {
    TrivialSession trivial = open_trivial(socket_path);
    long count = 0;
    while (std::scanf("%ld", &count) == 1 && count > 0) {
        std::vector<double> us;
        bench_salusd(&trivial, static_cast<int>(count), &us);
        for (double t : us) std::printf("%.3f ", t);
        std::printf("\n");
        std::fflush(stdout);
    }
    close_trivial(&trivial);
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    const char *socket_path = nullptr;
    int iterations = 20000;
    bool rounds = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--rounds") {
            rounds = true;
        } else if (a == "--socket" && i + 1 < argc) {
            socket_path = argv[++i];
        } else if (a == "--iterations" && i + 1 < argc) {
            iterations = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s --socket PATH [--iterations N]\n", argv[0]);
            return 2;
        }
    }
    if (!socket_path || iterations < 100) {
        std::fprintf(stderr, "usage: %s --socket PATH [--iterations N | --rounds]\n", argv[0]);
        return 2;
    }
    if (rounds) return serve_rounds(socket_path);

    // Rounds alternate between the two, so both see the same machine: on a
    // shared VM wake-up latency drifts over seconds.
    constexpr int kRounds = 10;
    std::string echo_path = std::string(socket_path) + ".echo";
    std::string spin_path = std::string(socket_path) + ".spin";
    pid_t echo = start_echo(echo_path, false);
    pid_t spin_echo = start_echo(spin_path, true);
    int echo_fd = connect_echo(echo_path);
    int spin_fd = connect_echo(spin_path);
    TrivialSession trivial = open_trivial(socket_path);
    std::vector<double> echo_us, spin_us, salus_us;
    for (int round = 0; round < kRounds; ++round) {
        bench_echo(echo_fd, iterations / kRounds, false, &echo_us);
        bench_echo(spin_fd, iterations / kRounds, true, &spin_us);
        bench_salusd(&trivial, iterations / kRounds, &salus_us);
    }
    close_trivial(&trivial);
    close(echo_fd);
    close(spin_fd);
    waitpid(echo, nullptr, 0);
    waitpid(spin_echo, nullptr, 0);
    unlink(echo_path.c_str());
    unlink(spin_path.c_str());

    salus::bench::Summary e = salus::bench::summarize(echo_us);
    salus::bench::Summary p = salus::bench::summarize(spin_us);
    salus::bench::Summary d = salus::bench::summarize(salus_us);
    std::printf("round trip, %d iterations each in %d alternating rounds, %zu-byte request "
                "frame\n",
                iterations, kRounds, iteration_frame().size());
    auto row = [](const char *name, const salus::bench::Summary &x) {
        std::printf("  %-34s p50 %8.2f us  p99 %8.2f us  mean %8.2f us\n", name, x.p50, x.p99,
                    x.mean);
    };
    row("raw unix echo, blocking reads", e);
    row("raw unix echo, polling 50 us first", p);
    row("salusd iteration", d);
    std::printf("  ratio salusd / blocking echo:      p50 %.2fx  mean %.2fx  (target <= 1.5x)\n",
                d.p50 / e.p50, d.mean / e.mean);
    std::printf("  ratio salusd / polling echo:       p50 %.2fx  mean %.2fx\n", d.p50 / p.p50,
                d.mean / p.mean);
    return 0;
}
