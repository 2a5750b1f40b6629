/* What salusctl asks the daemon for, and how it reports failures. */
#include "salusctl.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>

int salus_failure(const char *what, int rc) {
    fprintf(stderr, "salusctl: %s: %s: %s\n", what, salus_strerror(rc), salus_last_error());
    return EXIT_FAILURE;
}

/* The count may grow between the calls: retry until the list fits. */
int fetch_sessions(salus_client *client, salus_session_info **out, size_t *count) {
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

int fetch_lanes(salus_client *client, salus_lane_info **out, size_t *count) {
    size_t n = 0;
    int rc = salus_list_lanes(client, NULL, 0, &n);
    if (rc < 0) return salus_failure("list lanes", rc);
    for (;;) {
        size_t cap = n + 4;
        salus_lane_info *lanes = calloc(cap, sizeof *lanes);
        if (!lanes) return salus_failure("list lanes", SALUS_ENOMEM);
        rc = salus_list_lanes(client, lanes, cap, &n);
        if (rc < 0) {
            free(lanes);
            return salus_failure("list lanes", rc);
        }
        if (n <= cap) {
            *out = lanes;
            *count = n;
            return EXIT_SUCCESS;
        }
        free(lanes);
    }
}

const char *owner_name(uint32_t uid, char *buf, size_t size) {
    if (uid == UINT32_MAX) return "-";
    /* The daemon runs on this machine: its clients' uids are ours too. */
    struct passwd *pw = getpwuid((uid_t)uid);
    if (pw && pw->pw_name)
        snprintf(buf, size, "%s", pw->pw_name);
    else
        snprintf(buf, size, "%u", (unsigned)uid);
    return buf;
}
