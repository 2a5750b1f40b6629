/* salusctl sessions: one line per session of every client. */
#include "salusctl.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_json(const salus_session_info *infos, size_t n) {
    putchar('[');
    for (size_t i = 0; i < n; ++i) {
        const salus_session_info *s = &infos[i];
        char owner[64];
        printf("%s{\"id\":%" PRIu64 ",\"name\":", i ? "," : "", s->session_id);
        json_string(s->name, sizeof s->name);
        if (s->client_uid == UINT32_MAX) {
            fputs(",\"uid\":null,\"owner\":null", stdout);
        } else {
            printf(",\"uid\":%" PRIu32 ",\"owner\":", s->client_uid);
            owner_name(s->client_uid, owner, sizeof owner);
            json_string(owner, strlen(owner));
        }
        printf(",\"pid\":%" PRId32, s->client_pid);
        if (s->tenant)
            printf(",\"job\":%" PRIu32, s->tenant);
        else
            fputs(",\"job\":null", stdout);
        fputs(",\"state\":", stdout);
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

enum { NCOLS = 12, CELL = 80 };

static void print_table(const salus_session_info *infos, size_t n) {
    static const char *const header[NCOLS] = {"ID",   "OWNER", "PID", "JOB",   "NAME", "STATE",
                                              "LANE", "P",     "T",   "ITERS", "RUN",  "MEAN"};
    /* Text columns are left-aligned, numbers right-aligned. */
    static const int left[NCOLS] = {0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0};
    table *t = table_new(NCOLS, header, left);
    for (size_t i = 0; i < n; ++i) {
        const salus_session_info *s = &infos[i];
        char c[NCOLS][CELL];
        snprintf(c[0], CELL, "%" PRIu64, s->session_id);
        owner_name(s->client_uid, c[1], CELL);
        snprintf(c[2], CELL, "%" PRId32, s->client_pid);
        if (s->tenant)
            snprintf(c[3], CELL, "%" PRIu32, s->tenant);
        else
            snprintf(c[3], CELL, "-");
        snprintf(c[4], CELL, "%.*s", FIELD(s->name));
        if (c[4][0] == '\0') snprintf(c[4], CELL, "-");
        snprintf(c[5], CELL, "%.*s", FIELD(s->state));
        if (s->lane == SALUS_NO_LANE)
            snprintf(c[6], CELL, "-");
        else
            snprintf(c[6], CELL, "%" PRIu64, s->lane);
        human_bytes(c[7], CELL, s->persistent_bytes);
        human_bytes(c[8], CELL, s->ephemeral_bytes);
        if (s->declared_iterations)
            snprintf(c[9], CELL, "%" PRIu64 "/%" PRIu64, s->iterations, s->declared_iterations);
        else
            snprintf(c[9], CELL, "%" PRIu64 "/-", s->iterations);
        human_ns(c[10], CELL, s->run_ns);
        if (s->mean_iteration_ns)
            human_ns(c[11], CELL, s->mean_iteration_ns);
        else
            snprintf(c[11], CELL, "-");
        const char *row[NCOLS];
        for (int k = 0; k < NCOLS; ++k) {
            /* A control character in a name would break the table's lines. */
            sanitize(c[k]);
            row[k] = c[k];
        }
        table_add(t, row);
    }
    table_print(t);
    table_free(t);
}

int cmd_sessions(salus_client *client, int json) {
    salus_session_info *infos = NULL;
    size_t n = 0;
    int rc = fetch_sessions(client, &infos, &n);
    if (rc != EXIT_SUCCESS) return rc;
    if (json)
        print_json(infos, n);
    else
        print_table(infos, n);
    free(infos);
    return EXIT_SUCCESS;
}
