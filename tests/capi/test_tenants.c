/* Tenants through the C API against a live daemon: a job's sessions are
 * charged to its budget and refused beyond it while other clients go on;
 * ending the job closes its sessions and connections; clients cannot name a
 * job that is not registered or is another user's. Registering needs root:
 * the tests skip as another user. */
#include "capi_test.h"
#include "live_fixture.h"

#include <unistd.h>

enum { JOB = 42 };

static salus_client *connect_as(const char *socket_path, uint32_t tenant, int expect) {
    salus_connect_options opts;
    salus_client *client = NULL;
    assert_ok(salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION));
    opts.socket_path = socket_path;
    opts.tenant = tenant;
    assert_rc(salus_connect(&opts, &client), expect);
    return client;
}

/* Registers JOB for user `uid` with `budget` bytes, priority 7: the test
 * runs as the daemon's user, an admin. */
static void register_job(fixture *f, uint32_t id, uint32_t uid, uint64_t budget) {
    salus_tenant t;
    assert_ok(salus_tenant_init(&t, SALUS_TENANT_VERSION));
    t.id = id;
    t.uid = uid;
    t.budget_bytes = budget;
    t.priority = 7;
    int created = 0;
    assert_ok(salus_set_tenant(f->client, &t, &created));
    assert_int_equal(created, 1);
}

/* P + T of the MLP session. */
static uint64_t session_need(fixture *f) {
    salus_session *s = NULL;
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &s));
    uint64_t need = salus_session_persistent_bytes(s) + salus_session_ephemeral_bytes(s);
    assert_ok(salus_session_close(s));
    return need;
}

static void test_budget(void **state) {
    fixture *f = *state;
    uint64_t need = session_need(f);
    register_job(f, JOB, (uint32_t)getuid(), need + need / 2);
    salus_client *job = connect_as(f->daemon.socket_path, JOB, SALUS_OK);

    salus_session *first = NULL, *second = SENTINEL;
    assert_ok(salus_session_create(job, f->mlp.graph, NULL, &first));
    assert_rc(salus_session_create(job, f->mlp.graph, NULL, &second), SALUS_ERESOURCE);
    assert_ptr_equal(second, SENTINEL);
    assert_error_contains("job 42's budget of");
    assert_error_contains("this session needs");
    /* Another client, of no job, is not affected. */
    salus_session *other = NULL;
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &other));

    salus_session_info infos[8];
    size_t n = 0;
    assert_ok(salus_list_sessions(f->client, infos, 8, &n));
    int charged = 0;
    for (size_t i = 0; i < n; ++i) {
        if (infos[i].session_id == salus_session_id(first)) {
            assert_int_equal(infos[i].tenant, JOB);
            assert_int_equal(infos[i].priority, 7); /* the job's, not the session's */
            charged = 1;
        } else if (infos[i].session_id == salus_session_id(other)) {
            assert_int_equal(infos[i].tenant, 0);
        }
    }
    assert_true(charged);

    salus_tenant ts[4];
    for (int i = 0; i < 4; ++i) assert_ok(salus_tenant_init(&ts[i], SALUS_TENANT_VERSION));
    assert_ok(salus_list_tenants(f->client, ts, 4, &n));
    assert_int_equal(n, 1);
    assert_int_equal(ts[0].id, JOB);
    assert_int_equal(ts[0].used_bytes, need);
    assert_int_equal(ts[0].sessions, 1);

    /* Closing returns the budget. */
    assert_ok(salus_session_close(first));
    second = NULL;
    assert_ok(salus_session_create(job, f->mlp.graph, NULL, &second));
    assert_ok(salus_session_close(second));
    assert_ok(salus_session_close(other));
    salus_disconnect(job);
}

static void test_end_closes_sessions(void **state) {
    fixture *f = *state;
    register_job(f, JOB, (uint32_t)getuid(), 1u << 30);
    salus_client *job = connect_as(f->daemon.socket_path, JOB, SALUS_OK);
    salus_session *s = NULL;
    assert_ok(salus_session_create(job, f->mlp.graph, NULL, &s));

    uint32_t closed = 0;
    assert_ok(salus_end_tenant(f->client, JOB, &closed));
    assert_int_equal(closed, 1);
    /* Freed at once: the daemon does not wait for the job's client. */
    salus_status st;
    assert_ok(salus_get_status(f->client, &st));
    assert_int_equal(st.open_sessions, 0);
    size_t n = 0;
    assert_ok(salus_list_tenants(f->client, NULL, 0, &n));
    assert_int_equal(n, 0);

    /* The job's client learns why its connection closed. */
    salus_session *after = SENTINEL;
    int rc = salus_session_create(job, f->mlp.graph, NULL, &after);
    assert_true(rc == SALUS_ECONNECT || rc == SALUS_ESHUTDOWN);
    if (!strstr(salus_client_last_error(job), "job 42 ended"))
        fail_msg("error \"%s\" does not say the job ended", salus_client_last_error(job));
    salus_session_close(s);
    salus_disconnect(job);
    assert_rc(salus_end_tenant(f->client, JOB, NULL), SALUS_EINVAL);
}

static void test_refusals(void **state) {
    fixture *f = *state;
    salus_tenant t;
    assert_ok(salus_tenant_init(&t, SALUS_TENANT_VERSION));
    assert_rc(salus_set_tenant(f->client, &t, NULL), SALUS_EINVAL); /* id 0 */
    assert_rc(salus_set_tenant(NULL, &t, NULL), SALUS_EINVAL);
    assert_rc(salus_list_tenants(f->client, NULL, 0, NULL), SALUS_EINVAL);

    assert_null(connect_as(f->daemon.socket_path, 7, SALUS_EINVAL));
    assert_error_contains("job 7 is not registered");
    register_job(f, 8, (uint32_t)getuid() + 1, 1u << 20);
    assert_null(connect_as(f->daemon.socket_path, 8, SALUS_EPERM));
    assert_error_contains("job 8 belongs to uid");
    /* Its uid cannot change under it. */
    t.id = 8;
    t.uid = (uint32_t)getuid();
    assert_rc(salus_set_tenant(f->client, &t, NULL), SALUS_EINVAL);
    assert_ok(salus_end_tenant(f->client, 8, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_budget, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_end_closes_sessions, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, live_setup, live_teardown),
    };
    return cmocka_run_group_tests_name("tenants", tests, NULL, NULL);
}
