/* The usual fixture of the C API tests: a live daemon, the default MLP graph
 * and one connected client. */
#ifndef SALUS_TESTS_LIVE_FIXTURE_H
#define SALUS_TESTS_LIVE_FIXTURE_H

#include "daemon_fixture.h"
#include "mlp_graph.h"

#include <salus/salus.h>

typedef struct fixture {
    daemon_fixture daemon;
    mlp_graph mlp;
    salus_client *client;
} fixture;

/* cmocka setup and teardown keeping a fixture in *state; the teardown fails
 * when the daemon did not stop cleanly. */
int live_setup(void **state);
int live_teardown(void **state);

#endif
