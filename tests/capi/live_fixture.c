#include "live_fixture.h"

#include "capi_test.h"

int live_setup(void **state) {
    fixture *f = calloc(1, sizeof(*f));
    if (!f) return -1;
    mlp_config cfg = mlp_default_config();
    if (daemon_start(&f->daemon, NULL) != 0 || mlp_graph_build(&cfg, &f->mlp) != 0) {
        daemon_stop(&f->daemon);
        free(f);
        return -1;
    }
    *state = f;
    f->client = capi_connect(f->daemon.socket_path);
    return 0;
}

int live_teardown(void **state) {
    fixture *f = *state;
    salus_disconnect(f->client);
    mlp_graph_release(&f->mlp);
    int rc = daemon_stop(&f->daemon);
    free(f);
    return rc;
}
