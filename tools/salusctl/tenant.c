/* salusctl tenant: registers, updates, ends and lists tenants (cluster jobs
 * with a memory budget), as the SPANK plugin does for Slurm jobs. */
#include "salusctl.h"

#include "bytes.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int bad(const char *fmt, const char *value) {
    fputs("salusctl: tenant: ", stderr);
    fprintf(stderr, fmt, value);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

static int parse_u32(const char *text, uint32_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || text[0] == '-' || !text[0] || v > UINT32_MAX) return -1;
    *out = (uint32_t)v;
    return 0;
}

/* A user name or a uid. */
static int parse_user(const char *text, uint32_t *uid) {
    if (parse_u32(text, uid) == 0) return 0;
    struct passwd *pw = getpwnam(text);
    if (!pw) return -1;
    *uid = pw->pw_uid;
    return 0;
}

static int set(salus_client *client, int argc, char **argv, int json) {
    if (argc < 3 || argc > 5)
        return bad("%s", "usage: tenant set JOB USER MEM [PRIORITY [WEIGHT]]");
    salus_tenant t;
    salus_tenant_init(&t, SALUS_TENANT_VERSION);
    if (parse_u32(argv[0], &t.id) != 0 || t.id == 0)
        return bad("'%s' is not a job id (1 to 4294967295)", argv[0]);
    if (parse_user(argv[1], &t.uid) != 0) return bad("unknown user '%s'", argv[1]);
    if (parse_bytes(argv[2], &t.budget_bytes) != 0)
        return bad("'%s' is not a memory size (e.g. 8G, 512M, 1073741824)", argv[2]);
    if (argc > 3) {
        char *end = NULL;
        long p = strtol(argv[3], &end, 10);
        if (*end || !argv[3][0] || p < INT32_MIN || p > INT32_MAX)
            return bad("'%s' is not a priority (an integer)", argv[3]);
        t.priority = (int32_t)p;
    }
    if (argc > 4) {
        char *end = NULL;
        t.weight = strtod(argv[4], &end);
        if (*end || !argv[4][0] || !(t.weight > 0) || !isfinite(t.weight))
            return bad("'%s' is not a weight (a number above 0)", argv[4]);
    }
    int created = 0;
    int rc = salus_set_tenant(client, &t, &created);
    if (rc < 0) return salus_failure("tenant set", rc);
    char budget[32];
    human_bytes(budget, sizeof budget, t.budget_bytes);
    if (json)
        printf("{\"job\":%" PRIu32 ",\"created\":%s}\n", t.id, created ? "true" : "false");
    else
        printf("job %" PRIu32 " %s: uid %" PRIu32 ", budget %s, priority %" PRId32 ", weight %g\n",
               t.id, created ? "registered" : "updated", t.uid, budget, t.priority, t.weight);
    return EXIT_SUCCESS;
}

static int end(salus_client *client, int argc, char **argv, int json) {
    uint32_t id = 0;
    if (argc != 1) return bad("%s", "usage: tenant end JOB");
    if (parse_u32(argv[0], &id) != 0 || id == 0)
        return bad("'%s' is not a job id (1 to 4294967295)", argv[0]);
    uint32_t closed = 0;
    int rc = salus_end_tenant(client, id, &closed);
    if (rc < 0) return salus_failure("tenant end", rc);
    if (json)
        printf("{\"job\":%" PRIu32 ",\"closed_sessions\":%" PRIu32 "}\n", id, closed);
    else
        printf("job %" PRIu32 " ended: %" PRIu32 " session%s closed\n", id, closed,
               closed == 1 ? "" : "s");
    return EXIT_SUCCESS;
}

enum { NCOLS = 7, CELL = 64 };

static int list(salus_client *client, int json) {
    size_t n = 0;
    int rc = salus_list_tenants(client, NULL, 0, &n);
    if (rc < 0) return salus_failure("tenant list", rc);
    /* Room for a few registered meanwhile. */
    size_t max = n + 8;
    salus_tenant *ts = calloc(max, sizeof *ts);
    if (!ts) return salus_failure("tenant list", SALUS_ENOMEM);
    for (size_t i = 0; i < max; ++i) salus_tenant_init(&ts[i], SALUS_TENANT_VERSION);
    rc = salus_list_tenants(client, ts, max, &n);
    if (rc < 0) {
        free(ts);
        return salus_failure("tenant list", rc);
    }
    if (n > max) n = max;
    if (json) {
        putchar('[');
        for (size_t i = 0; i < n; ++i) {
            printf("%s{\"job\":%" PRIu32 ",\"uid\":%" PRIu32 ",\"budget_bytes\":%" PRIu64
                   ",\"used_bytes\":%" PRIu64 ",\"sessions\":%" PRIu32 ",\"priority\":%" PRId32
                   ",\"weight\":%.17g}",
                   i ? "," : "", ts[i].id, ts[i].uid, ts[i].budget_bytes, ts[i].used_bytes,
                   ts[i].sessions, ts[i].priority, ts[i].weight);
        }
        fputs("]\n", stdout);
        free(ts);
        return EXIT_SUCCESS;
    }
    static const char *const header[NCOLS] = {"JOB",      "OWNER",    "BUDGET", "USED",
                                              "SESSIONS", "PRIORITY", "WEIGHT"};
    static const int left[NCOLS] = {0, 1, 0, 0, 0, 0, 0};
    table *t = table_new(NCOLS, header, left);
    for (size_t i = 0; i < n; ++i) {
        char c[NCOLS][CELL];
        snprintf(c[0], CELL, "%" PRIu32, ts[i].id);
        owner_name(ts[i].uid, c[1], CELL);
        human_bytes(c[2], CELL, ts[i].budget_bytes);
        human_bytes(c[3], CELL, ts[i].used_bytes);
        snprintf(c[4], CELL, "%" PRIu32, ts[i].sessions);
        snprintf(c[5], CELL, "%" PRId32, ts[i].priority);
        snprintf(c[6], CELL, "%g", ts[i].weight);
        const char *row[NCOLS];
        for (int k = 0; k < NCOLS; ++k) row[k] = c[k];
        table_add(t, row);
    }
    table_print(t);
    table_free(t);
    free(ts);
    return EXIT_SUCCESS;
}

int cmd_tenant(salus_client *client, int argc, char **argv, int json) {
    const char *sub = argc > 0 ? argv[0] : "list";
    if (strcmp(sub, "list") == 0 && argc <= 1) return list(client, json);
    if (strcmp(sub, "set") == 0) return set(client, argc - 1, argv + 1, json);
    if (strcmp(sub, "end") == 0) return end(client, argc - 1, argv + 1, json);
    return bad("unknown subcommand '%s' (list, set, end)", sub);
}
