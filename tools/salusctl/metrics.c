/* salusctl metrics: the daemon's state in the Prometheus text format. */
#include "salusctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void family(const char *name, const char *type, const char *help) {
    printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void session_labels(const salus_session_info *s) {
    printf("{session=\"%" PRIu64 "\",name=\"", s->session_id);
    prom_label(s->name, sizeof s->name);
    /* The cluster job it is charged to, "" for none, so that a job's use can
     * be summed across sessions. */
    fputs("\",job=\"", stdout);
    if (s->tenant) printf("%" PRIu32, s->tenant);
    fputs("\"}", stdout);
}

int cmd_metrics(salus_client *client) {
    salus_status st;
    int rc = salus_get_status(client, &st);
    if (rc < 0) return salus_failure("get status", rc);
    int draining = 0;
    rc = salus_get_draining(client, &draining);
    if (rc < 0) return salus_failure("get draining", rc);
    salus_hold_stats holds;
    salus_hold_stats_init(&holds, SALUS_HOLD_STATS_VERSION);
    rc = salus_get_hold_stats(client, &holds);
    if (rc < 0) return salus_failure("get hold stats", rc);
    salus_session_info *infos = NULL;
    size_t n = 0;
    rc = fetch_sessions(client, &infos, &n);
    if (rc != EXIT_SUCCESS) return rc;

    family("salus_pool_bytes", "gauge", "Size of the device memory pool in bytes.");
    printf("salus_pool_bytes %" PRIu64 "\n", st.pool_bytes);
    family("salus_pool_free_bytes", "gauge", "Pool memory outside every lane in bytes.");
    printf("salus_pool_free_bytes %" PRIu64 "\n", st.free_bytes);
    family("salus_lanes", "gauge", "Number of lanes.");
    printf("salus_lanes %" PRIu32 "\n", st.lanes);
    family("salus_sessions_open", "gauge", "Open sessions.");
    printf("salus_sessions_open %" PRIu32 "\n", st.open_sessions);
    family("salus_sessions_queued", "gauge", "Sessions waiting for device memory.");
    printf("salus_sessions_queued %" PRIu32 "\n", st.queued_sessions);
    family("salus_draining", "gauge", "1 while new sessions are refused.");
    printf("salus_draining %d\n", draining);
    family("salus_job_switches_total", "counter", "Job switches inside a lane.");
    printf("salus_job_switches_total %" PRIu64 "\n", st.switches);
    family("salus_job_switch_seconds", "gauge",
           "Quantiles of the job switch time over recent switches.");
    printf("salus_job_switch_seconds{quantile=\"0.5\"} %.9f\n", (double)st.switch_p50_ns / 1e9);
    printf("salus_job_switch_seconds{quantile=\"0.99\"} %.9f\n", (double)st.switch_p99_ns / 1e9);
    family("salus_holds_total", "counter",
           "Lanes held for a synchronous client's next iteration, by how the hold ended.");
    printf("salus_holds_total{end=\"returned\"} %" PRIu64 "\n", holds.returned);
    printf("salus_holds_total{end=\"expired\"} %" PRIu64 "\n", holds.expired);
    printf("salus_holds_total{end=\"early\"} %" PRIu64 "\n", holds.early);
    family("salus_holds_granted_total", "counter", "Holds begun (one may still last).");
    printf("salus_holds_granted_total %" PRIu64 "\n", holds.granted);
    family("salus_hold_seconds_total", "counter", "Time lanes spent held, over ended holds.");
    printf("salus_hold_seconds_total %.9f\n", (double)holds.held_ns / 1e9);

    family("salus_session_iterations_total", "counter", "Completed iterations.");
    for (size_t i = 0; i < n; ++i) {
        fputs("salus_session_iterations_total", stdout);
        session_labels(&infos[i]);
        printf(" %" PRIu64 "\n", infos[i].iterations);
    }
    family("salus_session_run_seconds_total", "counter", "Total execution time.");
    for (size_t i = 0; i < n; ++i) {
        fputs("salus_session_run_seconds_total", stdout);
        session_labels(&infos[i]);
        printf(" %.9f\n", (double)infos[i].run_ns / 1e9);
    }
    family("salus_session_persistent_bytes", "gauge", "Persistent device bytes (P).");
    for (size_t i = 0; i < n; ++i) {
        fputs("salus_session_persistent_bytes", stdout);
        session_labels(&infos[i]);
        printf(" %" PRIu64 "\n", infos[i].persistent_bytes);
    }
    family("salus_session_ephemeral_bytes", "gauge", "Ephemeral device bytes (T).");
    for (size_t i = 0; i < n; ++i) {
        fputs("salus_session_ephemeral_bytes", stdout);
        session_labels(&infos[i]);
        printf(" %" PRIu64 "\n", infos[i].ephemeral_bytes);
    }
    free(infos);
    return EXIT_SUCCESS;
}
