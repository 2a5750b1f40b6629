/* Draining through the C API: salus_drain and salus_get_draining against a
 * live daemon. New sessions are refused with SALUS_ESHUTDOWN while the open
 * ones go on, until the drain ends. */
#include "capi_test.h"
#include "live_fixture.h"

static void run_ok(fixture *f, salus_session *s) {
    salus_tensor *x = NULL, *y = NULL, *loss = NULL;
    assert_ok(mlp_batch_tensors(&f->mlp.cfg, 0, &x, &y));
    const uint32_t ids[] = {f->mlp.x, f->mlp.labels};
    const salus_tensor *inputs[] = {x, y};
    assert_ok(salus_session_run(s, ids, inputs, 2, &loss, 1));
    salus_tensor_free(loss);
    salus_tensor_free(x);
    salus_tensor_free(y);
}

static int draining(salus_client *client) {
    int value = 42;
    assert_ok(salus_get_draining(client, &value));
    assert_true(value == 0 || value == 1);
    return value;
}

static void test_arguments(void **state) {
    fixture *f = *state;
    int value = 42;
    assert_rc(salus_drain(NULL, 1), SALUS_EINVAL);
    assert_rc(salus_get_draining(NULL, &value), SALUS_EINVAL);
    assert_rc(salus_get_draining(f->client, NULL), SALUS_EINVAL);
    assert_int_equal(value, 42);
    assert_int_equal(draining(f->client), 0);
}

static void test_drain_refuses_new_sessions_only(void **state) {
    fixture *f = *state;
    salus_session *open = NULL;
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &open));

    assert_ok(salus_drain(f->client, 1));
    assert_int_equal(draining(f->client), 1);
    /* Every client sees it, and asking twice changes nothing. */
    salus_client *other = capi_connect(f->daemon.socket_path);
    assert_int_equal(draining(other), 1);
    assert_ok(salus_drain(other, 1));

    salus_session *refused = SENTINEL;
    assert_rc(salus_session_create(other, f->mlp.graph, NULL, &refused), SALUS_ESHUTDOWN);
    assert_ptr_equal(refused, SENTINEL);
    assert_error_contains("draining");
    if (!strstr(salus_client_last_error(other), "draining")) {
        fail_msg("client error \"%s\" does not say draining", salus_client_last_error(other));
    }

    /* The open session goes on. */
    run_ok(f, open);
    salus_status st;
    assert_ok(salus_get_status(f->client, &st));
    assert_int_equal(st.open_sessions, 1);

    assert_ok(salus_drain(other, 0));
    assert_int_equal(draining(f->client), 0);
    salus_session *admitted = NULL;
    assert_ok(salus_session_create(other, f->mlp.graph, NULL, &admitted));
    run_ok(f, admitted);
    assert_ok(salus_session_close(admitted));
    assert_ok(salus_session_close(open));
    salus_disconnect(other);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_arguments, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_drain_refuses_new_sessions_only, live_setup,
                                        live_teardown),
    };
    return cmocka_run_group_tests_name("drain", tests, NULL, NULL);
}
