/* salusctl: inspect and steer a running salusd through the public libsalus API.
 *
 *   salusctl [--socket PATH] [--json] COMMAND [ARGS]
 */
#include <salus/salus.h>

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SALUSCTL_VERSION "0.1.0"

enum { EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: salusctl [--socket PATH] [--json] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status         device, policy, memory pool, lanes and job switches\n"
    "  sessions       one line per session of every client\n"
    "  policy [NAME]  print the scheduling policy, or set it to NAME\n"
    "                 (fifo, srtf, pack, fair, priority)\n"
    "  metrics        the daemon state in the Prometheus text format\n"
    "\n"
    "Options:\n"
    "  --socket PATH  the daemon's socket (default: $SALUS_SOCKET, else the\n"
    "                 per-user or system default path)\n"
    "  --json         JSON output for status, sessions and policy\n"
    "  -h, --help     show this help\n"
    "  --version      show the version\n";

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("salusctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'salusctl --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

/* Reports a failed libsalus call; returns the exit status for it. */
static int salus_failure(const char *what, int rc) {
    fprintf(stderr, "salusctl: %s: %s: %s\n", what, salus_strerror(rc), salus_last_error());
    return EXIT_FAILURE;
}

/* Fixed-size strings from the daemon may fill their array without a NUL. */
#define FIELD(s) (int)strnlen((s), sizeof(s)), (s)

/* ---- formatting helpers ---------------------------------------------------- */

static void human_bytes(char *buf, size_t size, uint64_t bytes) {
    static const char *const units[] = {"KiB", "MiB", "GiB"};
    if (bytes < 1024) {
        snprintf(buf, size, "%" PRIu64 " B", bytes);
        return;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024.0;
        ++u;
    }
    snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void human_ns(char *buf, size_t size, uint64_t ns) {
    if (ns < 1000)
        snprintf(buf, size, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, size, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, size, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(buf, size, "%.2f s", (double)ns / 1e9);
}

static void json_string(const char *s, size_t len) {
    putchar('"');
    for (size_t i = 0; i < len && s[i] != '\0'; ++i) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"':
            fputs("\\\"", stdout);
            break;
        case '\\':
            fputs("\\\\", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        case '\r':
            fputs("\\r", stdout);
            break;
        case '\t':
            fputs("\\t", stdout);
            break;
        default:
            if (c < 0x20)
                printf("\\u%04x", c);
            else
                putchar(c);
        }
    }
    putchar('"');
}

/* Prometheus label values escape only backslash, double quote and newline. */
static void prom_label(const char *s, size_t len) {
    for (size_t i = 0; i < len && s[i] != '\0'; ++i) {
        switch (s[i]) {
        case '\\':
            fputs("\\\\", stdout);
            break;
        case '"':
            fputs("\\\"", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        default:
            putchar(s[i]);
        }
    }
}

/* ---- commands -------------------------------------------------------------- */

static int cmd_status(salus_client *client, int json) {
    salus_status st;
    int rc = salus_get_status(client, &st);
    if (rc < 0) return salus_failure("get status", rc);

    if (json) {
        fputs("{\"device\":", stdout);
        json_string(st.device, sizeof st.device);
        fputs(",\"policy\":", stdout);
        json_string(st.policy, sizeof st.policy);
        fputs(",\"admission\":", stdout);
        json_string(st.admission, sizeof st.admission);
        printf(",\"pool_bytes\":%" PRIu64 ",\"free_bytes\":%" PRIu64 ",\"lanes\":%" PRIu32
               ",\"open_sessions\":%" PRIu32 ",\"queued_sessions\":%" PRIu32
               ",\"switches\":%" PRIu64 ",\"switch_p50_ns\":%" PRIu64 ",\"switch_p99_ns\":%" PRIu64
               "}\n",
               st.pool_bytes, st.free_bytes, st.lanes, st.open_sessions, st.queued_sessions,
               st.switches, st.switch_p50_ns, st.switch_p99_ns);
        return EXIT_SUCCESS;
    }

    char pool[32], free_b[32], p50[32], p99[32];
    human_bytes(pool, sizeof pool, st.pool_bytes);
    human_bytes(free_b, sizeof free_b, st.free_bytes);
    human_ns(p50, sizeof p50, st.switch_p50_ns);
    human_ns(p99, sizeof p99, st.switch_p99_ns);
    /* Right-aligned keys keep "key: value" greppable and the values aligned. */
    printf("   device: %.*s\n", FIELD(st.device));
    printf("   policy: %.*s\n", FIELD(st.policy));
    printf("admission: %.*s\n", FIELD(st.admission));
    printf("     pool: %s\n", pool);
    printf("     free: %s\n", free_b);
    printf("    lanes: %" PRIu32 "\n", st.lanes);
    printf(" sessions: %" PRIu32 " open, %" PRIu32 " queued\n", st.open_sessions,
           st.queued_sessions);
    printf(" switches: %" PRIu64 " (p50 %s, p99 %s)\n", st.switches, p50, p99);
    return EXIT_SUCCESS;
}

/* Fetches every session into a new array; the count may grow between calls,
 * so retry until the list fits. */
static int fetch_sessions(salus_client *client, salus_session_info **out, size_t *count) {
    size_t n = 0;
    int rc = salus_list_sessions(client, NULL, 0, &n);
    if (rc < 0) return salus_failure("list sessions", rc);
    for (;;) {
        size_t cap = n + 4;
        salus_session_info *infos = calloc(cap, sizeof *infos);
        if (!infos) return salus_failure("list sessions", SALUS_ENOMEM);
        rc = salus_list_sessions(client, infos, cap, &n);
        if (rc < 0) {
            free(infos);
            return salus_failure("list sessions", rc);
        }
        if (n <= cap) {
            *out = infos;
            *count = n;
            return EXIT_SUCCESS;
        }
        free(infos);
    }
}

static void sessions_json(const salus_session_info *infos, size_t n) {
    putchar('[');
    for (size_t i = 0; i < n; ++i) {
        const salus_session_info *s = &infos[i];
        printf("%s{\"id\":%" PRIu64 ",\"name\":", i ? "," : "", s->session_id);
        json_string(s->name, sizeof s->name);
        printf(",\"pid\":%" PRId32 ",\"state\":", s->client_pid);
        json_string(s->state, sizeof s->state);
        if (s->lane == SALUS_NO_LANE)
            fputs(",\"lane\":null", stdout);
        else
            printf(",\"lane\":%" PRIu64, s->lane);
        printf(",\"persistent_bytes\":%" PRIu64 ",\"ephemeral_bytes\":%" PRIu64
               ",\"iterations\":%" PRIu64 ",\"declared_iterations\":%" PRIu64
               ",\"pending\":%" PRIu32 ",\"priority\":%" PRId32,
               s->persistent_bytes, s->ephemeral_bytes, s->iterations, s->declared_iterations,
               s->pending, s->priority);
        /* JSON has no NaN or infinity. */
        if (isfinite(s->weight))
            printf(",\"weight\":%.17g", s->weight);
        else
            fputs(",\"weight\":null", stdout);
        printf(",\"run_ns\":%" PRIu64 ",\"queueing_ns\":%" PRIu64 ",\"mean_iteration_ns\":%" PRIu64
               ",\"admitted_ns\":%" PRIu64 ",\"completed_ns\":%" PRIu64 "}",
               s->run_ns, s->queueing_ns, s->mean_iteration_ns, s->admitted_ns, s->completed_ns);
    }
    fputs("]\n", stdout);
}

enum { NCOLS = 10, CELL = 80 };

typedef char table_row[NCOLS][CELL];

static void sessions_table(const salus_session_info *infos, size_t n) {
    static const char *const header[NCOLS] = {"ID", "NAME", "PID",   "STATE", "LANE",
                                              "P",  "T",    "ITERS", "RUN",   "MEAN"};
    /* Text columns are left-aligned, numbers right-aligned. */
    static const int left[NCOLS] = {0, 1, 0, 1, 0, 0, 0, 0, 0, 0};
    table_row *rows = calloc(n + 1, sizeof *rows);
    if (!rows) {
        fputs("salusctl: out of memory\n", stderr);
        exit(EXIT_FAILURE);
    }
    for (int c = 0; c < NCOLS; ++c) snprintf(rows[0][c], CELL, "%s", header[c]);
    for (size_t i = 0; i < n; ++i) {
        const salus_session_info *s = &infos[i];
        char(*r)[CELL] = rows[i + 1];
        snprintf(r[0], CELL, "%" PRIu64, s->session_id);
        snprintf(r[1], CELL, "%.*s", FIELD(s->name));
        /* A control character in a name would break the table's lines. */
        for (char *p = r[1]; *p; ++p)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
        if (r[1][0] == '\0') snprintf(r[1], CELL, "-");
        snprintf(r[2], CELL, "%" PRId32, s->client_pid);
        snprintf(r[3], CELL, "%.*s", FIELD(s->state));
        if (s->lane == SALUS_NO_LANE)
            snprintf(r[4], CELL, "-");
        else
            snprintf(r[4], CELL, "%" PRIu64, s->lane);
        human_bytes(r[5], CELL, s->persistent_bytes);
        human_bytes(r[6], CELL, s->ephemeral_bytes);
        if (s->declared_iterations)
            snprintf(r[7], CELL, "%" PRIu64 "/%" PRIu64, s->iterations, s->declared_iterations);
        else
            snprintf(r[7], CELL, "%" PRIu64 "/-", s->iterations);
        human_ns(r[8], CELL, s->run_ns);
        if (s->mean_iteration_ns)
            human_ns(r[9], CELL, s->mean_iteration_ns);
        else
            snprintf(r[9], CELL, "-");
    }
    int width[NCOLS] = {0};
    for (size_t i = 0; i <= n; ++i)
        for (int c = 0; c < NCOLS; ++c) {
            int len = (int)strlen(rows[i][c]);
            if (len > width[c]) width[c] = len;
        }
    for (size_t i = 0; i <= n; ++i) {
        for (int c = 0; c < NCOLS; ++c) {
            const char *sep = c + 1 < NCOLS ? "  " : "\n";
            if (left[c] && c + 1 < NCOLS)
                printf("%-*s%s", width[c], rows[i][c], sep);
            else if (left[c])
                printf("%s%s", rows[i][c], sep);
            else
                printf("%*s%s", width[c], rows[i][c], sep);
        }
    }
    free(rows);
}

static int cmd_sessions(salus_client *client, int json) {
    salus_session_info *infos = NULL;
    size_t n = 0;
    int rc = fetch_sessions(client, &infos, &n);
    if (rc != EXIT_SUCCESS) return rc;
    if (json)
        sessions_json(infos, n);
    else
        sessions_table(infos, n);
    free(infos);
    return EXIT_SUCCESS;
}

static int cmd_policy(salus_client *client, const char *name, int json) {
    salus_status st;
    int rc = salus_get_status(client, &st);
    if (rc < 0) return salus_failure("get status", rc);
    if (name) {
        rc = salus_set_policy(client, name);
        if (rc < 0) {
            char what[96];
            snprintf(what, sizeof what, "set policy '%s'", name);
            return salus_failure(what, rc);
        }
    }
    if (json) {
        fputs("{\"policy\":", stdout);
        if (name) {
            json_string(name, strlen(name));
            fputs(",\"previous\":", stdout);
        }
        json_string(st.policy, sizeof st.policy);
        fputs("}\n", stdout);
    } else if (name) {
        printf("policy: %s (was %.*s)\n", name, FIELD(st.policy));
    } else {
        printf("policy: %.*s\n", FIELD(st.policy));
    }
    return EXIT_SUCCESS;
}

static void prom_family(const char *name, const char *type, const char *help) {
    printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_session_labels(const salus_session_info *s) {
    printf("{session=\"%" PRIu64 "\",name=\"", s->session_id);
    prom_label(s->name, sizeof s->name);
    fputs("\"}", stdout);
}

static int cmd_metrics(salus_client *client) {
    salus_status st;
    int rc = salus_get_status(client, &st);
    if (rc < 0) return salus_failure("get status", rc);
    salus_session_info *infos = NULL;
    size_t n = 0;
    rc = fetch_sessions(client, &infos, &n);
    if (rc != EXIT_SUCCESS) return rc;

    prom_family("salus_pool_bytes", "gauge", "Size of the device memory pool in bytes.");
    printf("salus_pool_bytes %" PRIu64 "\n", st.pool_bytes);
    prom_family("salus_pool_free_bytes", "gauge", "Pool memory outside every lane in bytes.");
    printf("salus_pool_free_bytes %" PRIu64 "\n", st.free_bytes);
    prom_family("salus_lanes", "gauge", "Number of lanes.");
    printf("salus_lanes %" PRIu32 "\n", st.lanes);
    prom_family("salus_sessions_open", "gauge", "Open sessions.");
    printf("salus_sessions_open %" PRIu32 "\n", st.open_sessions);
    prom_family("salus_sessions_queued", "gauge", "Sessions waiting for device memory.");
    printf("salus_sessions_queued %" PRIu32 "\n", st.queued_sessions);
    prom_family("salus_job_switches_total", "counter", "Job switches inside a lane.");
    printf("salus_job_switches_total %" PRIu64 "\n", st.switches);
    prom_family("salus_job_switch_seconds", "gauge",
                "Quantiles of the job switch time over recent switches.");
    printf("salus_job_switch_seconds{quantile=\"0.5\"} %.9f\n", (double)st.switch_p50_ns / 1e9);
    printf("salus_job_switch_seconds{quantile=\"0.99\"} %.9f\n", (double)st.switch_p99_ns / 1e9);

    prom_family("salus_session_iterations_total", "counter", "Completed iterations.");
    for (size_t i = 0; i < n; ++i) {
        fputs("salus_session_iterations_total", stdout);
        prom_session_labels(&infos[i]);
        printf(" %" PRIu64 "\n", infos[i].iterations);
    }
    prom_family("salus_session_run_seconds_total", "counter", "Total execution time.");
    for (size_t i = 0; i < n; ++i) {
        fputs("salus_session_run_seconds_total", stdout);
        prom_session_labels(&infos[i]);
        printf(" %.9f\n", (double)infos[i].run_ns / 1e9);
    }
    prom_family("salus_session_persistent_bytes", "gauge", "Persistent device bytes (P).");
    for (size_t i = 0; i < n; ++i) {
        fputs("salus_session_persistent_bytes", stdout);
        prom_session_labels(&infos[i]);
        printf(" %" PRIu64 "\n", infos[i].persistent_bytes);
    }
    prom_family("salus_session_ephemeral_bytes", "gauge", "Ephemeral device bytes (T).");
    for (size_t i = 0; i < n; ++i) {
        fputs("salus_session_ephemeral_bytes", stdout);
        prom_session_labels(&infos[i]);
        printf(" %" PRIu64 "\n", infos[i].ephemeral_bytes);
    }
    free(infos);
    return EXIT_SUCCESS;
}

/* ---- main ------------------------------------------------------------------ */

int main(int argc, char **argv) {
    enum { OPT_SOCKET = 256, OPT_JSON, OPT_VERSION };
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    const char *socket_path = NULL;
    int json = 0;
    int opt;
    opterr = 0; /* report bad options in our own "salusctl:" form */
    /* getopt_long permutes, so options may also follow the command. */
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_SOCKET:
            socket_path = optarg;
            break;
        case OPT_JSON:
            json = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_SUCCESS;
        case OPT_VERSION:
            puts("salusctl " SALUSCTL_VERSION);
            return EXIT_SUCCESS;
        case ':':
            return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            /* optopt names a bad short option; for a long one it is 0. */
            if (optopt) return usage_error("unknown option '-%c'", optopt);
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return usage_error("missing command");
    const char *cmd = argv[optind];
    int nargs = argc - optind - 1;
    const char *arg = nargs > 0 ? argv[optind + 1] : NULL;

    int max_args;
    if (strcmp(cmd, "status") == 0 || strcmp(cmd, "sessions") == 0 || strcmp(cmd, "metrics") == 0)
        max_args = 0;
    else if (strcmp(cmd, "policy") == 0)
        max_args = 1;
    else
        return usage_error("unknown command '%s'", cmd);
    if (nargs > max_args) return usage_error("too many arguments for '%s'", cmd);
    if (json && strcmp(cmd, "metrics") == 0)
        return usage_error("--json does not apply to 'metrics'");

    salus_connect_options copts;
    salus_connect_options_init(&copts, SALUS_CONNECT_OPTIONS_VERSION);
    copts.socket_path = socket_path;
    copts.client_name = "salusctl";
    salus_client *client = NULL;
    int rc = salus_connect(&copts, &client);
    if (rc < 0) return salus_failure("connect", rc);

    int status;
    if (strcmp(cmd, "status") == 0)
        status = cmd_status(client, json);
    else if (strcmp(cmd, "sessions") == 0)
        status = cmd_sessions(client, json);
    else if (strcmp(cmd, "policy") == 0)
        status = cmd_policy(client, arg, json);
    else
        status = cmd_metrics(client);
    salus_disconnect(client);
    if (status == EXIT_SUCCESS && fflush(stdout) != 0) {
        perror("salusctl: write");
        return EXIT_FAILURE;
    }
    return status;
}
