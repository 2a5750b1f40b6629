/* hold_session SOCKET NAME [PRIORITY [WEIGHT]]: opens a session named NAME
 * (x [4] -> Relu) with that priority and weight (default 0 and 1),
 * runs one iteration, prints "ready ID", keeps the session open until stdin
 * ends, then closes it. Exits 1 with "hold_session: ..." when the daemon
 * refuses; the tests drive salusctl against the state it holds. */
#include <salus/salus.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int failure(const char *what, int rc) {
    fprintf(stderr, "hold_session: %s: %s: %s\n", what, salus_strerror(rc), salus_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 5) {
        fputs("usage: hold_session SOCKET NAME [PRIORITY [WEIGHT]]\n", stderr);
        return 2;
    }
    salus_connect_options copts;
    salus_connect_options_init(&copts, SALUS_CONNECT_OPTIONS_VERSION);
    copts.socket_path = argv[1];
    copts.client_name = "hold_session";
    salus_client *client = NULL;
    int rc = salus_connect(&copts, &client);
    if (rc < 0) return failure("connect", rc);

    const int64_t shape[1] = {4};
    salus_graph *g = NULL;
    uint32_t x = 0, y = 0;
    rc = salus_graph_new(&g);
    if (rc == 0) rc = salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 1, &x);
    if (rc == 0) rc = salus_graph_add_node(g, "Relu", "relu", &x, 1, 1, &y, NULL);
    if (rc == 0) rc = salus_graph_add_output(g, y);
    if (rc < 0) return failure("graph", rc);
    salus_session_options sopts;
    salus_session_options_init(&sopts, SALUS_SESSION_OPTIONS_VERSION);
    sopts.name = argv[2];
    if (argc > 3) sopts.priority = atoi(argv[3]);
    if (argc > 4) sopts.weight = atof(argv[4]);
    salus_session *session = NULL;
    rc = salus_session_create(client, g, &sopts, &session);
    salus_graph_free(g);
    if (rc < 0) return failure("create", rc);

    salus_tensor *in = NULL, *out = NULL;
    rc = salus_tensor_new(SALUS_DTYPE_F32, shape, 1, NULL, &in);
    const salus_tensor *inputs[1] = {in};
    if (rc == 0) rc = salus_session_run(session, &x, inputs, 1, &out, 1);
    salus_tensor_free(in);
    salus_tensor_free(out);
    if (rc < 0) return failure("run", rc);

    printf("ready %" PRIu64 "\n", salus_session_id(session));
    fflush(stdout);
    while (getchar() != EOF) {
    }
    rc = salus_session_close(session);
    salus_disconnect(client);
    return rc < 0 ? failure("close", rc) : 0;
}
