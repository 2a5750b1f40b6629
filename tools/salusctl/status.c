/* salusctl status: the device, the pool, the lanes with their sessions and
 * memory, the policy, and whether the daemon admits sessions. */
#include "salusctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct daemon_state {
    salus_status st;
    salus_device_info dev;
    salus_hold_stats holds;
    int draining;
    salus_lane_info *lanes;
    size_t n_lanes;
    salus_session_info *sessions;
    size_t n_sessions;
} daemon_state;

static int fetch_state(salus_client *client, daemon_state *s) {
    memset(s, 0, sizeof *s);
    int rc = salus_get_status(client, &s->st);
    if (rc < 0) return salus_failure("get status", rc);
    salus_device_info_init(&s->dev, SALUS_DEVICE_INFO_VERSION);
    rc = salus_get_device_info(client, &s->dev);
    if (rc < 0) return salus_failure("get device info", rc);
    salus_hold_stats_init(&s->holds, SALUS_HOLD_STATS_VERSION);
    rc = salus_get_hold_stats(client, &s->holds);
    if (rc < 0) return salus_failure("get hold stats", rc);
    rc = salus_get_draining(client, &s->draining);
    if (rc < 0) return salus_failure("get draining", rc);
    rc = fetch_lanes(client, &s->lanes, &s->n_lanes);
    if (rc != EXIT_SUCCESS) return rc;
    return fetch_sessions(client, &s->sessions, &s->n_sessions);
}

static void free_state(daemon_state *s) {
    free(s->lanes);
    free(s->sessions);
}

/* Whether the listing's session is open and in `lane` (SALUS_NO_LANE: queued). */
static int in_lane(const salus_session_info *s, uint64_t lane) {
    return strncmp(s->state, "closed", sizeof s->state) != 0 && s->lane == lane;
}

static void print_json(const daemon_state *s) {
    const salus_status *st = &s->st;
    fputs("{\"device\":{\"description\":", stdout);
    json_string(st->device, sizeof st->device);
    fputs(",\"type\":", stdout);
    json_string(s->dev.type, sizeof s->dev.type);
    fputs(",\"name\":", stdout);
    json_string(s->dev.name, sizeof s->dev.name);
    printf(",\"index\":%" PRId32 ",\"total_bytes\":%" PRIu64 ",\"free_bytes\":%" PRIu64 "}",
           s->dev.index, s->dev.total_bytes, s->dev.free_bytes);
    fputs(",\"policy\":", stdout);
    json_string(st->policy, sizeof st->policy);
    fputs(",\"admission\":", stdout);
    json_string(st->admission, sizeof st->admission);
    printf(",\"draining\":%s,\"pool_bytes\":%" PRIu64 ",\"free_bytes\":%" PRIu64
           ",\"open_sessions\":%" PRIu32 ",\"queued_sessions\":%" PRIu32 ",\"switches\":%" PRIu64
           ",\"switch_p50_ns\":%" PRIu64 ",\"switch_p99_ns\":%" PRIu64 ",\"holds\":",
           s->draining ? "true" : "false", st->pool_bytes, st->free_bytes, st->open_sessions,
           st->queued_sessions, st->switches, st->switch_p50_ns, st->switch_p99_ns);
    const salus_hold_stats *h = &s->holds;
    printf("{\"granted\":%" PRIu64 ",\"returned\":%" PRIu64 ",\"expired\":%" PRIu64
           ",\"early\":%" PRIu64 ",\"held_ns\":%" PRIu64 "},\"lanes\":[",
           h->granted, h->returned, h->expired, h->early, h->held_ns);
    for (size_t i = 0; i < s->n_lanes; ++i) {
        const salus_lane_info *l = &s->lanes[i];
        printf("%s{\"lane\":%" PRIu64 ",\"base\":%" PRIu64 ",\"capacity\":%" PRIu64
               ",\"persistent_bytes\":%" PRIu64 ",\"ephemeral_bytes\":%" PRIu64 ",\"stream\":",
               i ? "," : "", l->lane, l->base, l->capacity, l->persistent_bytes,
               l->ephemeral_bytes);
        json_string(l->stream, sizeof l->stream);
        fputs(",\"sessions\":[", stdout);
        int first = 1;
        for (size_t j = 0; j < s->n_sessions; ++j) {
            if (!in_lane(&s->sessions[j], l->lane)) continue;
            printf("%s%" PRIu64, first ? "" : ",", s->sessions[j].session_id);
            first = 0;
        }
        fputs("]}", stdout);
    }
    fputs("],\"queued\":[", stdout);
    int first = 1;
    for (size_t j = 0; j < s->n_sessions; ++j) {
        if (!in_lane(&s->sessions[j], SALUS_NO_LANE)) continue;
        printf("%s%" PRIu64, first ? "" : ",", s->sessions[j].session_id);
        first = 0;
    }
    fputs("]}\n", stdout);
}

/* "1 train, 2 infer": the sessions of a lane, each with its name if it has one. */
static void session_list(const daemon_state *s, uint64_t lane, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t j = 0; j < s->n_sessions && used < size; ++j) {
        const salus_session_info *info = &s->sessions[j];
        if (!in_lane(info, lane)) continue;
        int n = snprintf(buf + used, size - used, "%s%" PRIu64 "%s%.*s", used ? ", " : "",
                         info->session_id, info->name[0] ? " " : "", FIELD(info->name));
        if (n < 0) break;
        used += (size_t)n;
    }
    sanitize(buf);
    if (!buf[0]) snprintf(buf, size, "-");
}

static void print_human(const daemon_state *s) {
    const salus_status *st = &s->st;
    char total[32], dev_free[32], pool[32], pool_free[32], p50[32], p99[32], held[32];
    human_bytes(total, sizeof total, s->dev.total_bytes);
    human_bytes(dev_free, sizeof dev_free, s->dev.free_bytes);
    human_bytes(pool, sizeof pool, st->pool_bytes);
    human_bytes(pool_free, sizeof pool_free, st->free_bytes);
    human_ns(p50, sizeof p50, st->switch_p50_ns);
    human_ns(p99, sizeof p99, st->switch_p99_ns);
    char where[32];
    if (s->dev.index >= 0)
        snprintf(where, sizeof where, "%.*s:%" PRId32, FIELD(s->dev.type), s->dev.index);
    else
        snprintf(where, sizeof where, "%.*s", FIELD(s->dev.type));
    char name[sizeof s->dev.name + 1];
    snprintf(name, sizeof name, "%.*s", FIELD(s->dev.name));
    sanitize(name);

    /* Right-aligned keys keep "key: value" greppable and the values aligned. */
    printf("   device: %s (%s), %s memory, %s free\n", name, where, total, dev_free);
    printf("     pool: %s, %s outside the lanes\n", pool, pool_free);
    printf("   policy: %.*s\n", FIELD(st->policy));
    printf("admission: %.*s\n", FIELD(st->admission));
    printf(" draining: %s\n", s->draining ? "yes (new sessions are refused)" : "no");
    printf(" sessions: %" PRIu32 " open, %" PRIu32 " queued for memory\n", st->open_sessions,
           st->queued_sessions);
    printf(" switches: %" PRIu64 " (p50 %s, p99 %s)\n", st->switches, p50, p99);
    human_ns(held, sizeof held, s->holds.held_ns);
    printf("    holds: %" PRIu64 " (%" PRIu64 " returned, %" PRIu64 " expired, %" PRIu64
           " early), lanes held %s\n",
           s->holds.granted, s->holds.returned, s->holds.expired, s->holds.early, held);
    printf("    lanes: %zu\n", s->n_lanes);
    if (s->n_lanes > 0) {
        static const char *const header[] = {"LANE", "BASE",   "CAPACITY", "P",
                                             "T",    "STREAM", "SESSIONS"};
        static const int left[] = {0, 0, 0, 0, 0, 1, 1};
        table *t = table_new(7, header, left);
        for (size_t i = 0; i < s->n_lanes; ++i) {
            const salus_lane_info *l = &s->lanes[i];
            char lane[24], base[32], cap[32], p[32], tt[32], stream[sizeof l->stream + 1],
                sessions[512];
            snprintf(lane, sizeof lane, "%" PRIu64, l->lane);
            human_bytes(base, sizeof base, l->base);
            human_bytes(cap, sizeof cap, l->capacity);
            human_bytes(p, sizeof p, l->persistent_bytes);
            human_bytes(tt, sizeof tt, l->ephemeral_bytes);
            snprintf(stream, sizeof stream, "%.*s", FIELD(l->stream));
            sanitize(stream);
            session_list(s, l->lane, sessions, sizeof sessions);
            const char *row[] = {lane, base, cap, p, tt, stream, sessions};
            table_add(t, row);
        }
        putchar('\n');
        table_print(t);
        table_free(t);
    }
    if (st->queued_sessions > 0) {
        char queued[512];
        session_list(s, SALUS_NO_LANE, queued, sizeof queued);
        printf("\nqueued for memory: %s\n", queued);
    }
}

int cmd_status(salus_client *client, int json) {
    daemon_state s;
    int rc = fetch_state(client, &s);
    if (rc == EXIT_SUCCESS) {
        if (json)
            print_json(&s);
        else
            print_human(&s);
    }
    free_state(&s);
    return rc;
}
