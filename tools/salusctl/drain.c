/* salusctl drain [--wait] [--cancel]: stops (or resumes) admitting new
 * sessions, e.g. before a restart; --wait returns once no session is open. */
#include "salusctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* How often --wait looks at the daemon's sessions. */
enum { POLL_MS = 200 };

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Open sessions, including those waiting for memory; -1 after a failure. */
static long open_sessions(salus_client *client) {
    salus_status st;
    int rc = salus_get_status(client, &st);
    if (rc < 0) {
        salus_failure("get status", rc);
        return -1;
    }
    return (long)st.open_sessions;
}

int cmd_drain(salus_client *client, int wait, int cancel, int json) {
    int rc = salus_drain(client, !cancel);
    if (rc < 0) return salus_failure(cancel ? "end the drain" : "drain", rc);
    long open = open_sessions(client);
    if (open < 0) return EXIT_FAILURE;
    if (wait && open > 0) {
        if (!json) {
            printf("draining: waiting for %ld open session%s to close\n", open,
                   open == 1 ? "" : "s");
            fflush(stdout);
        }
        while (open > 0) {
            sleep_ms(POLL_MS);
            int draining = 0;
            rc = salus_get_draining(client, &draining);
            if (rc < 0) return salus_failure("get draining", rc);
            if (!draining) {
                fputs("salusctl: drain: the drain was ended while waiting\n", stderr);
                return EXIT_FAILURE;
            }
            open = open_sessions(client);
            if (open < 0) return EXIT_FAILURE;
        }
    }
    if (json)
        printf("{\"draining\":%s,\"open_sessions\":%ld}\n", cancel ? "false" : "true", open);
    else if (cancel)
        printf("draining: no (new sessions are admitted)\n");
    else
        printf("draining: yes (new sessions are refused), %ld session%s open\n", open,
               open == 1 ? "" : "s");
    return EXIT_SUCCESS;
}
