/* What the C benchmarks that drive a running salusd share: failing loudly on
 * a libsalus error, connecting, a monotonic clock, and their command line
 * (--socket PATH [--iterations N]). */
#ifndef SALUS_BENCH_CLIENT_BENCH_H
#define SALUS_BENCH_CLIENT_BENCH_H

#include <salus/salus.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Exits 1 with the call's message when rc is an error; returns rc. */
static inline int bench_check(const char *program, int rc, const char *what) {
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s (%s)\n", program, what, salus_strerror(rc), salus_last_error());
        exit(1);
    }
    return rc;
}

static inline double bench_now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A client of the daemon at socket_path, or exit 1. */
static inline salus_client *bench_connect(const char *program, const char *socket_path) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = socket_path;
    salus_client *client = NULL;
    bench_check(program, salus_connect(&opts, &client), "connect");
    return client;
}

/* Parses --socket PATH [--iterations N] (N keeps its default when absent);
 * prints the usage and exits 2 on anything else. */
static inline void bench_parse_args(int argc, char **argv, const char **socket_path,
                                    int *iterations) {
    *socket_path = NULL;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            *socket_path = argv[++i];
        } else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            *iterations = atoi(argv[++i]);
        } else {
            *socket_path = NULL;
            break;
        }
    }
    if (!*socket_path || *iterations < 1) {
        fprintf(stderr, "usage: %s --socket PATH [--iterations N]\n", argv[0]);
        exit(2);
    }
}

#endif
