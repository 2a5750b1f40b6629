/* Sessions whose iterations take as long as a test needs: a chain of MatMuls
 * of an [N,N] input by another, summed to a scalar, its length calibrated
 * on the daemon at hand. */
#ifndef SALUS_TESTS_HEAVY_GRAPH_H
#define SALUS_TESTS_HEAVY_GRAPH_H

#include <salus/salus.h>

#include <stdint.h>

typedef struct heavy_session {
    salus_session *session;
    uint32_t x, w;         /* the inputs */
    salus_tensor *xv, *wv; /* their values (zeros) */
} heavy_session;

/* Opens a session of `length` MatMuls; 0 or a libsalus code. */
int heavy_open(salus_client *client, uint32_t length, heavy_session *out);
void heavy_close(heavy_session *h);
/* Submits one iteration. */
int heavy_submit(heavy_session *h, salus_pending **out);
/* Waits for one; 0 or its code. */
int heavy_wait(salus_pending *p);

/* How many MatMuls make an iteration of about `seconds` on this daemon,
 * measured with a short session of its own. 0 when the daemon fails. */
uint32_t heavy_length_for(salus_client *client, double seconds);

/* Seconds on CLOCK_MONOTONIC. */
double heavy_now(void);

#endif
