#include "server/options.h"

#include "frame.h"
#include "server/version.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <getopt.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace salus::server {

namespace {

// Keeps a request frame able to hold at least a Hello and below the 2 GiB
// that flatbuffers can address.
constexpr unsigned long kMinFrameBytes = 1024;
constexpr unsigned long kMaxFrameBytes = (1ul << 31) - 1;
constexpr unsigned long kMaxThreads = 1024;

void print_usage(FILE *out) {
    std::fprintf(
        out,
        "Usage: salusd [OPTION]...\n"
        "Serve deep-learning sessions of many clients on one device.\n"
        "\n"
        "  --socket PATH          listen on PATH (default: $XDG_RUNTIME_DIR/salus/"
        "salusd.sock,\n"
        "                         or /run/salus/salusd.sock for root)\n"
        "  --max-frame-bytes N    largest request accepted (default %u)\n"
        "  --workers N            threads that prepare new sessions (default: online CPUs)\n"
        "  --blas-threads N       OpenBLAS threads per kernel (default 1)\n"
        "  --device SPEC          auto, cpu, cuda or cuda:N (default auto: the first\n"
        "                         CUDA device if there is one, else the CPU)\n"
        "  --pool-bytes N[KMG]    device memory pool claimed at start (default: CUDA,\n"
        "                         the free memory minus --pool-reserve; CPU, half the\n"
        "                         physical memory)\n"
        "  --pool-reserve N[KMG]  device memory the default pool leaves free (default 1G)\n"
        "  --max-lanes N          lanes running in parallel at most (default: online CPUs)\n"
        "  --policy NAME          fifo, srtf, pack, fair or priority (default pack)\n"
        "  --admission MODE       safe: sum(P) + max(T) <= lane; static: sum(P + T)\n"
        "                         (default safe)\n"
        "  --max-overtakes N      later sessions admitted ahead of a waiting one at most\n"
        "                         (default 4)\n"
        "  -v, --verbose          log every request\n"
        "  -h, --help             show this help and exit\n"
        "      --version          show the version and exit\n",
        frame::kDefaultMaxFrameBytes);
}

int usage_error() {
    std::fprintf(stderr, "Try 'salusd --help' for more information.\n");
    return 2;
}

// Parses a decimal in [min, max]; false on anything else.
bool parse_count(const char *text, unsigned long min, unsigned long max, unsigned long *out) {
    if (*text < '0' || *text > '9') return false;
    errno = 0;
    char *end = nullptr;
    unsigned long value = std::strtoul(text, &end, 10);
    if (errno != 0 || *end != '\0' || value < min || value > max) return false;
    *out = value;
    return true;
}

// A byte count with an optional binary suffix: 512M, 8G.
bool parse_bytes(const char *text, uint64_t *out) {
    if (*text < '0' || *text > '9') return false;
    errno = 0;
    char *end = nullptr;
    unsigned long long value = std::strtoull(text, &end, 10);
    if (errno != 0) return false;
    unsigned shift = 0;
    switch (*end) {
    case '\0':
        break;
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    default:
        return false;
    }
    if (*end && end[1] != '\0') return false;
    if (value == 0 || value > (~0ull >> shift)) return false;
    *out = value << shift;
    return true;
}

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

} // namespace

int parse_options(int argc, char **argv, Options *out) {
    enum {
        kSocket = 256,
        kMaxFrame,
        kWorkers,
        kBlasThreads,
        kDevice,
        kPoolBytes,
        kPoolReserve,
        kMaxLanes,
        kPolicy,
        kAdmission,
        kMaxOvertakes,
        kVersion
    };
    static const struct option long_options[] = {
        {"socket", required_argument, nullptr, kSocket},
        {"max-frame-bytes", required_argument, nullptr, kMaxFrame},
        {"workers", required_argument, nullptr, kWorkers},
        {"blas-threads", required_argument, nullptr, kBlasThreads},
        {"device", required_argument, nullptr, kDevice},
        {"pool-bytes", required_argument, nullptr, kPoolBytes},
        {"pool-reserve", required_argument, nullptr, kPoolReserve},
        {"max-lanes", required_argument, nullptr, kMaxLanes},
        {"policy", required_argument, nullptr, kPolicy},
        {"admission", required_argument, nullptr, kAdmission},
        {"max-overtakes", required_argument, nullptr, kMaxOvertakes},
        {"verbose", no_argument, nullptr, 'v'},
        {"help", no_argument, nullptr, 'h'},
        {"version", no_argument, nullptr, kVersion},
        {nullptr, 0, nullptr, 0},
    };

    Options options;
    options.max_frame_bytes = frame::kDefaultMaxFrameBytes;
    options.workers = online_cpus();
    options.blas_threads = 1;
    options.pool_reserve = 1ull << 30;
    options.max_lanes = online_cpus();
    options.max_overtakes = 4;

    opterr = 0; // our own messages below
    optind = 1;
    for (;;) {
        int previous = optind;
        int c = getopt_long(argc, argv, ":vh", long_options, nullptr);
        if (c == -1) break;
        unsigned long value = 0;
        switch (c) {
        case kSocket:
            if (*optarg == '\0') {
                std::fprintf(stderr, "salusd: --socket needs a non-empty path\n");
                return usage_error();
            }
            options.socket_path = optarg;
            break;
        case kMaxFrame:
            if (!parse_count(optarg, kMinFrameBytes, kMaxFrameBytes, &value)) {
                std::fprintf(stderr,
                             "salusd: invalid --max-frame-bytes '%s' (expected %lu to %lu)\n",
                             optarg, kMinFrameBytes, kMaxFrameBytes);
                return usage_error();
            }
            options.max_frame_bytes = static_cast<uint32_t>(value);
            break;
        case kWorkers:
            if (!parse_count(optarg, 1, kMaxThreads, &value)) {
                std::fprintf(stderr, "salusd: invalid --workers '%s' (expected 1 to %lu)\n", optarg,
                             kMaxThreads);
                return usage_error();
            }
            options.workers = static_cast<unsigned>(value);
            break;
        case kBlasThreads:
            if (!parse_count(optarg, 1, kMaxThreads, &value)) {
                std::fprintf(stderr, "salusd: invalid --blas-threads '%s' (expected 1 to %lu)\n",
                             optarg, kMaxThreads);
                return usage_error();
            }
            options.blas_threads = static_cast<int>(value);
            break;
        case kPoolBytes:
            if (!parse_bytes(optarg, &options.pool_bytes)) {
                std::fprintf(stderr, "salusd: invalid --pool-bytes '%s' (e.g. 4294967296 or 4G)\n",
                             optarg);
                return usage_error();
            }
            break;
        case kDevice:
            if (*optarg == '\0') {
                std::fprintf(stderr, "salusd: --device needs a value (auto, cpu, cuda, cuda:N)\n");
                return usage_error();
            }
            options.device = optarg;
            break;
        case kPoolReserve:
            if (!parse_bytes(optarg, &options.pool_reserve)) {
                std::fprintf(stderr, "salusd: invalid --pool-reserve '%s' (e.g. 1G)\n", optarg);
                return usage_error();
            }
            break;
        case kMaxLanes:
            if (!parse_count(optarg, 1, kMaxThreads, &value)) {
                std::fprintf(stderr, "salusd: invalid --max-lanes '%s' (expected 1 to %lu)\n",
                             optarg, kMaxThreads);
                return usage_error();
            }
            options.max_lanes = static_cast<uint32_t>(value);
            break;
        case kMaxOvertakes:
            if (!parse_count(optarg, 0, 1u << 20, &value)) {
                std::fprintf(stderr, "salusd: invalid --max-overtakes '%s'\n", optarg);
                return usage_error();
            }
            options.max_overtakes = static_cast<uint32_t>(value);
            break;
        case kPolicy: {
            std::optional<sched::Policy> policy = sched::parse_policy(optarg);
            if (!policy) {
                std::fprintf(stderr,
                             "salusd: unknown --policy '%s' (fifo, srtf, pack, fair, priority)\n",
                             optarg);
                return usage_error();
            }
            options.policy = *policy;
            break;
        }
        case kAdmission:
            if (std::strcmp(optarg, "safe") == 0) {
                options.admission = lanes::AdmissionMode::Safe;
            } else if (std::strcmp(optarg, "static") == 0) {
                options.admission = lanes::AdmissionMode::Static;
            } else {
                std::fprintf(stderr, "salusd: unknown --admission '%s' (safe or static)\n", optarg);
                return usage_error();
            }
            break;
        case 'v':
            options.verbose = true;
            break;
        case 'h':
            print_usage(stdout);
            return 0;
        case kVersion:
            std::printf("salusd %s\n", kSalusdVersion);
            return 0;
        case ':':
            std::fprintf(stderr, "salusd: option '%s' needs a value\n", argv[previous]);
            return usage_error();
        default:
            std::fprintf(stderr, "salusd: unknown option '%s'\n", argv[previous]);
            return usage_error();
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "salusd: unexpected argument '%s'\n", argv[optind]);
        return usage_error();
    }
    *out = options;
    return -1;
}

bool resolve_socket_path(Options *options, std::string *error) {
    if (!options->socket_path.empty()) return true;
    std::string dir;
    if (geteuid() == 0) {
        // World-searchable: the socket's own mode (0660) decides who connects.
        dir = "/run/salus";
        if (!make_dir(dir, 0755, error)) return false;
    } else {
        const char *runtime = std::getenv("XDG_RUNTIME_DIR");
        if (!runtime || runtime[0] != '/') {
            *error = "XDG_RUNTIME_DIR is not set to an absolute path; pass --socket PATH";
            return false;
        }
        dir = std::string(runtime) + "/salus";
        if (!make_dir(dir, 0700, error)) return false;
    }
    options->socket_path = dir + "/salusd.sock";
    return true;
}

} // namespace salus::server
