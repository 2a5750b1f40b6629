/* The C API without a daemon: errors, tensors, the graph builder, argument
 * checking of every function, and connections that cannot work. */
#include "capi_test.h"
#include "wire_peer.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static const int64_t shape_2x3[] = {2, 3};

static void test_strerror(void **state) {
    (void)state;
    static const int codes[] = {
        SALUS_OK,        SALUS_EINVAL,  SALUS_ENOMEM,     SALUS_ECONNECT,  SALUS_EPROTO,
        SALUS_EVERSION,  SALUS_EGRAPH,  SALUS_ENOSESSION, SALUS_ESHAPE,    SALUS_ETOOBIG,
        SALUS_EEXEC,     SALUS_ENOTSUP, SALUS_ERESOURCE,  SALUS_ECANCELED, SALUS_EINTERNAL,
        SALUS_ESHUTDOWN, SALUS_EPERM,
    };
    const char *unknown = salus_strerror(-12345);
    assert_non_null(unknown);
    assert_non_null(salus_strerror(1));
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); ++i) {
        const char *s = salus_strerror(codes[i]);
        assert_non_null(s);
        assert_true(strlen(s) > 0);
        assert_string_not_equal(s, unknown);
        for (size_t j = 0; j < i; ++j) assert_string_not_equal(s, salus_strerror(codes[j]));
    }
}

static void test_last_error(void **state) {
    (void)state;
    assert_non_null(salus_last_error());
    salus_tensor *t = SENTINEL;
    assert_rc(salus_tensor_new(SALUS_DTYPE_F32, NULL, 1, NULL, &t), SALUS_EINVAL);
    assert_true(strlen(salus_last_error()) > 0);
    assert_error_contains("shape");
    /* A later success keeps the message of the last failure. */
    salus_graph *g = NULL;
    assert_ok(salus_graph_new(&g));
    assert_error_contains("shape");
    salus_graph_free(g);
}

static void *fail_on_thread(void *arg) {
    (void)arg;
    salus_graph_add_output(NULL, 0);
    return NULL;
}

/* The last error is per thread. */
static void test_last_error_per_thread(void **state) {
    (void)state;
    assert_rc(salus_graph_new(NULL), SALUS_EINVAL);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, fail_on_thread, NULL), 0);
    pthread_join(thread, NULL);
    assert_error_contains("salus_graph_new");
}

static void test_options_versions(void **state) {
    (void)state;
    salus_connect_options c;
    memset(&c, 0xff, sizeof(c));
    assert_rc(salus_connect_options_init(NULL, SALUS_CONNECT_OPTIONS_VERSION), SALUS_EINVAL);
    assert_rc(salus_connect_options_init(&c, 0), SALUS_EINVAL);
    assert_rc(salus_connect_options_init(&c, SALUS_CONNECT_OPTIONS_VERSION + 1), SALUS_EINVAL);
    assert_int_equal(c.version, ~0u); /* untouched */
    assert_ok(salus_connect_options_init(&c, SALUS_CONNECT_OPTIONS_VERSION));
    assert_int_equal(c.version, SALUS_CONNECT_OPTIONS_VERSION);
    assert_null(c.socket_path);
    assert_null(c.client_name);

    salus_session_options s;
    memset(&s, 0xff, sizeof(s));
    assert_rc(salus_session_options_init(NULL, SALUS_SESSION_OPTIONS_VERSION), SALUS_EINVAL);
    assert_rc(salus_session_options_init(&s, 0), SALUS_EINVAL);
    assert_rc(salus_session_options_init(&s, SALUS_SESSION_OPTIONS_VERSION + 1), SALUS_EINVAL);
    assert_int_equal(s.version, ~0u);
    assert_ok(salus_session_options_init(&s, SALUS_SESSION_OPTIONS_VERSION));
    assert_int_equal(s.version, SALUS_SESSION_OPTIONS_VERSION);
    assert_null(s.name);
    assert_int_equal(s.declared_iterations, 0);
    assert_int_equal(s.priority, 0);
    assert_true(s.weight == 0.0);

    /* salus_connect checks the version before doing anything. */
    salus_client *client = SENTINEL;
    c.socket_path = "/nonexistent/salusd.sock";
    c.version = 0;
    assert_rc(salus_connect(&c, &client), SALUS_EINVAL);
    c.version = SALUS_CONNECT_OPTIONS_VERSION + 1;
    assert_rc(salus_connect(&c, &client), SALUS_EINVAL);
    assert_ptr_equal(client, SENTINEL);
}

static void test_default_socket_path(void **state) {
    (void)state;
    char buf[256], small[4] = "abc";
    assert_rc(salus_default_socket_path(NULL, sizeof(buf)), SALUS_EINVAL);
    assert_rc(salus_default_socket_path(small, sizeof(small)), SALUS_ETOOBIG);
    assert_string_equal(small, "abc");

    setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
    int n = salus_default_socket_path(buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal((size_t)n, strlen(buf));
    if (geteuid() == 0) {
        assert_string_equal(buf, "/run/salus/salusd.sock");
    } else {
        assert_string_equal(buf, "/run/user/4242/salus/salusd.sock");
    }
    /* Exactly the length plus the terminator fits; one byte less does not. */
    char exact[64];
    assert_int_equal(salus_default_socket_path(exact, (size_t)n + 1), n);
    assert_rc(salus_default_socket_path(exact, (size_t)n), SALUS_ETOOBIG);
}

/* A user with nothing at the per-user path reaches the system daemon:
 * 0 when connect goes there. */
static int connect_as_user_without_daemon(void) {
    unsetenv("SALUS_SOCKET");
    setenv("XDG_RUNTIME_DIR", "/nonexistent-salus-test", 1);
    salus_client *client = NULL;
    int rc = salus_connect(NULL, &client);
    /* Connected: only a daemon at the system socket could have answered. */
    if (rc == SALUS_OK) {
        salus_disconnect(client);
        return 0;
    }
    if (rc == SALUS_ECONNECT && strstr(salus_last_error(), "/run/salus/salusd.sock")) return 0;
    fprintf(stderr, "connect: %d: %s\n", rc, salus_last_error());
    return 1;
}

static void test_connect_falls_back_to_the_system_socket(void **state) {
    (void)state;
    /* Root's default is the system socket already: try as nobody. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(2);
        _exit(connect_as_user_without_daemon());
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_tensor(void **state) {
    (void)state;
    const float values[6] = {1, 2, 3, 4, 5, 6};
    salus_tensor *t = NULL;
    assert_ok(salus_tensor_new(SALUS_DTYPE_F32, shape_2x3, 2, values, &t));
    assert_int_equal(salus_tensor_dtype(t), SALUS_DTYPE_F32);
    assert_int_equal(salus_tensor_rank(t), 2);
    assert_int_equal(salus_tensor_dim(t, 0), 2);
    assert_int_equal(salus_tensor_dim(t, 1), 3);
    assert_int_equal(salus_tensor_dim(t, 2), -1);
    assert_int_equal(salus_tensor_nbytes(t), sizeof(values));
    assert_memory_equal(salus_tensor_const_data(t), values, sizeof(values));
    assert_ptr_equal(salus_tensor_data(t), salus_tensor_const_data(t));
    assert_int_equal((uintptr_t)salus_tensor_data(t) % 16, 0);
    salus_tensor_free(t);

    /* NULL data: zero-filled; other dtypes; a scalar. */
    const int64_t shape_i64[] = {5};
    assert_ok(salus_tensor_new(SALUS_DTYPE_I64, shape_i64, 1, NULL, &t));
    assert_int_equal(salus_tensor_nbytes(t), 40);
    for (int i = 0; i < 5; ++i)
        assert_int_equal(((const int64_t *)salus_tensor_const_data(t))[i], 0);
    salus_tensor_free(t);
    assert_ok(salus_tensor_new(SALUS_DTYPE_F16, NULL, 0, NULL, &t));
    assert_int_equal(salus_tensor_rank(t), 0);
    assert_int_equal(salus_tensor_nbytes(t), 2);
    salus_tensor_free(t);
    const int64_t empty[] = {4, 0};
    assert_ok(salus_tensor_new(SALUS_DTYPE_F32, empty, 2, NULL, &t));
    assert_int_equal(salus_tensor_nbytes(t), 0);
    assert_non_null(salus_tensor_data(t));
    salus_tensor_free(t);

    /* NULL-safe accessors. */
    salus_tensor_free(NULL);
    assert_int_equal(salus_tensor_rank(NULL), 0);
    assert_int_equal(salus_tensor_dim(NULL, 0), -1);
    assert_int_equal(salus_tensor_nbytes(NULL), 0);
    assert_null(salus_tensor_data(NULL));
    assert_null(salus_tensor_const_data(NULL));
    (void)salus_tensor_dtype(NULL);
}

static void test_tensor_invalid(void **state) {
    (void)state;
    const int64_t big_rank[SALUS_MAX_RANK + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const int64_t negative[] = {2, -1};
    const int64_t huge[] = {INT64_MAX, INT64_MAX};
    salus_tensor *t = SENTINEL;
    assert_rc(salus_tensor_new(SALUS_DTYPE_F32, shape_2x3, 2, NULL, NULL), SALUS_EINVAL);
    assert_rc(salus_tensor_new((salus_dtype)99, shape_2x3, 2, NULL, &t), SALUS_EINVAL);
    assert_rc(salus_tensor_new((salus_dtype)-1, shape_2x3, 2, NULL, &t), SALUS_EINVAL);
    assert_rc(salus_tensor_new(SALUS_DTYPE_F32, big_rank, SALUS_MAX_RANK + 1, NULL, &t),
              SALUS_EINVAL);
    assert_rc(salus_tensor_new(SALUS_DTYPE_F32, NULL, 2, NULL, &t), SALUS_EINVAL);
    assert_rc(salus_tensor_new(SALUS_DTYPE_F32, negative, 2, NULL, &t), SALUS_EINVAL);
    assert_rc(salus_tensor_new(SALUS_DTYPE_F32, huge, 2, NULL, &t), SALUS_ETOOBIG);
    assert_ptr_equal(t, SENTINEL);
    /* The largest rank is fine. */
    assert_ok(salus_tensor_new(SALUS_DTYPE_F32, big_rank, SALUS_MAX_RANK, NULL, &t));
    salus_tensor_free(t);
}

/* A view reads and writes the caller's memory and frees only the handle. */
static void test_tensor_wrap(void **state) {
    (void)state;
    float values[6] = {1, 2, 3, 4, 5, 6};
    salus_tensor *t = NULL;
    assert_ok(salus_tensor_wrap(SALUS_DTYPE_F32, shape_2x3, 2, values, sizeof(values), &t));
    assert_int_equal(salus_tensor_dtype(t), SALUS_DTYPE_F32);
    assert_int_equal(salus_tensor_rank(t), 2);
    assert_int_equal(salus_tensor_dim(t, 1), 3);
    assert_int_equal(salus_tensor_nbytes(t), sizeof(values));
    assert_ptr_equal(salus_tensor_data(t), values);
    assert_ptr_equal(salus_tensor_const_data(t), values);
    values[4] = 50;
    assert_true(((const float *)salus_tensor_const_data(t))[4] == 50.0f);
    salus_tensor_free(t);
    /* The data outlives the handle. */
    assert_true(values[5] == 6.0f);

    /* Every dtype, a scalar, and an empty view with NULL data. */
    int64_t ids[3] = {7, -1, 1LL << 40};
    const int64_t three[] = {3};
    assert_ok(salus_tensor_wrap(SALUS_DTYPE_I64, three, 1, ids, sizeof(ids), &t));
    assert_int_equal(((const int64_t *)salus_tensor_const_data(t))[2], 1LL << 40);
    salus_tensor_free(t);
    uint16_t half = 0x3c00;
    assert_ok(salus_tensor_wrap(SALUS_DTYPE_F16, NULL, 0, &half, 2, &t));
    assert_int_equal(salus_tensor_rank(t), 0);
    salus_tensor_free(t);
    const int64_t empty[] = {4, 0};
    assert_ok(salus_tensor_wrap(SALUS_DTYPE_BF16, empty, 2, NULL, 0, &t));
    assert_int_equal(salus_tensor_nbytes(t), 0);
    assert_non_null(salus_tensor_const_data(t));
    salus_tensor_free(t);
}

static void test_tensor_wrap_invalid(void **state) {
    (void)state;
    float values[6] = {0};
    const int64_t negative[] = {2, -1};
    salus_tensor *t = SENTINEL;
    assert_rc(salus_tensor_wrap(SALUS_DTYPE_F32, shape_2x3, 2, values, sizeof(values), NULL),
              SALUS_EINVAL);
    assert_rc(salus_tensor_wrap(SALUS_DTYPE_F32, shape_2x3, 2, values, 20, &t), SALUS_EINVAL);
    assert_error_contains("nbytes is 20 but the shape needs 24");
    assert_rc(salus_tensor_wrap(SALUS_DTYPE_F32, shape_2x3, 2, NULL, 24, &t), SALUS_EINVAL);
    assert_error_contains("data is NULL");
    assert_rc(salus_tensor_wrap((salus_dtype)99, shape_2x3, 2, values, 24, &t), SALUS_EINVAL);
    assert_rc(salus_tensor_wrap(SALUS_DTYPE_F32, negative, 2, values, 24, &t), SALUS_EINVAL);
    assert_rc(salus_tensor_wrap(SALUS_DTYPE_F32, NULL, 2, values, 24, &t), SALUS_EINVAL);
    assert_ptr_equal(t, SENTINEL);
}

static void test_graph_builder(void **state) {
    (void)state;
    salus_graph *g = NULL;
    uint32_t x, w, c, outs[2], node;
    const float wdata[6] = {0};
    const float cdata[2] = {1, 2};
    const int64_t shape_2[] = {2};
    assert_ok(salus_graph_new(&g));
    assert_ok(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape_2x3, 2, &x));
    assert_ok(
        salus_graph_add_variable(g, "w", SALUS_DTYPE_F32, shape_2x3, 2, wdata, sizeof(wdata), &w));
    assert_ok(
        salus_graph_add_constant(g, "c", SALUS_DTYPE_F32, shape_2, 1, cdata, sizeof(cdata), &c));
    assert_int_equal(x, 0);
    assert_int_equal(w, 1);
    assert_int_equal(c, 2);

    uint32_t inputs[] = {x, w};
    assert_ok(salus_graph_add_node(g, "Add", "sum", inputs, 2, 1, outs, &node));
    assert_int_equal(outs[0], 3);
    assert_int_equal(node, 0);
    /* A node with two outputs, no name, no out_node. */
    assert_ok(salus_graph_add_node(g, "Fancy", NULL, &outs[0], 1, 2, outs, NULL));
    assert_int_equal(outs[0], 4);
    assert_int_equal(outs[1], 5);
    /* A node without outputs may pass NULL out_ids. */
    assert_ok(salus_graph_add_node(g, "SGDUpdate", NULL, inputs, 2, 0, NULL, &node));
    assert_int_equal(node, 2);

    const int64_t ints[] = {0, 1};
    const double floats[] = {0.5};
    assert_ok(salus_graph_set_attr_int(g, 0, "a", 1));
    assert_ok(salus_graph_set_attr_int(g, 0, "a", 2)); /* replaces */
    assert_ok(salus_graph_set_attr_float(g, 0, "b", 0.1));
    assert_ok(salus_graph_set_attr_ints(g, 0, "c", ints, 2));
    assert_ok(salus_graph_set_attr_ints(g, 0, "empty", NULL, 0));
    assert_ok(salus_graph_set_attr_floats(g, 0, "d", floats, 1));
    assert_ok(salus_graph_set_attr_string(g, 0, "e", "text"));
    assert_ok(salus_graph_set_attr_string(g, 0, "a", "now a string"));
    assert_ok(salus_graph_add_output(g, outs[1]));
    assert_ok(salus_graph_add_output(g, x));

    assert_int_equal(salus_graph_tensor_count(g), 6);
    assert_int_equal(salus_graph_node_count(g), 3);
    salus_graph_free(g);
    salus_graph_free(NULL);
    assert_int_equal(salus_graph_tensor_count(NULL), 0);
    assert_int_equal(salus_graph_node_count(NULL), 0);
}

static void test_graph_export(void **state) {
    (void)state;
    salus_graph *g = NULL;
    uint32_t x, y;
    assert_int_equal(salus_graph_new(&g), 0);
    assert_int_equal(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape_2x3, 2, &x), 0);
    assert_int_equal(salus_graph_add_node(g, "Relu", "r", &x, 1, 1, &y, NULL), 0);
    assert_int_equal(salus_graph_add_output(g, y), 0);

    void *buf = (void *)0x1;
    size_t size = 7;
    assert_int_equal(salus_graph_export(NULL, &buf, &size), SALUS_EINVAL);
    assert_int_equal(salus_graph_export(g, NULL, &size), SALUS_EINVAL);
    assert_int_equal(salus_graph_export(g, &buf, NULL), SALUS_EINVAL);
    assert_ptr_equal(buf, (void *)0x1);
    assert_int_equal(size, 7);

    assert_int_equal(salus_graph_export(g, &buf, &size), 0);
    assert_true(size > 8);
    /* A flatbuffer: root offset, then the file identifier. */
    assert_memory_equal((const char *)buf + 4, "SLGR", 4);
    assert_non_null(memmem(buf, size, "Relu", 4));
    salus_buffer_free(buf);
    salus_buffer_free(NULL);
    salus_graph_free(g);
}

static void test_graph_builder_invalid(void **state) {
    (void)state;
    salus_graph *g = NULL;
    uint32_t id = SENTINEL_ID, outs[1] = {SENTINEL_ID}, node = SENTINEL_ID;
    const int64_t big_rank[SALUS_MAX_RANK + 1] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    const float data[6] = {0};
    assert_rc(salus_graph_new(NULL), SALUS_EINVAL);
    assert_ok(salus_graph_new(&g));

    /* tensors */
    assert_rc(salus_graph_add_input(NULL, "x", SALUS_DTYPE_F32, shape_2x3, 2, &id), SALUS_EINVAL);
    assert_rc(salus_graph_add_input(g, NULL, SALUS_DTYPE_F32, shape_2x3, 2, &id), SALUS_EINVAL);
    assert_rc(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape_2x3, 2, NULL), SALUS_EINVAL);
    assert_rc(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, NULL, 2, &id), SALUS_EINVAL);
    assert_rc(salus_graph_add_input(g, "x", (salus_dtype)7, shape_2x3, 2, &id), SALUS_EINVAL);
    assert_rc(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, big_rank, SALUS_MAX_RANK + 1, &id),
              SALUS_EINVAL);
    assert_error_contains("\"x\"");
    assert_rc(
        salus_graph_add_variable(NULL, "v", SALUS_DTYPE_F32, shape_2x3, 2, data, sizeof(data), &id),
        SALUS_EINVAL);
    assert_rc(salus_graph_add_variable(g, "v", SALUS_DTYPE_F32, shape_2x3, 2, data,
                                       sizeof(data) - 4, &id),
              SALUS_EINVAL);
    assert_error_contains("nbytes");
    assert_rc(
        salus_graph_add_variable(g, "v", SALUS_DTYPE_F32, shape_2x3, 2, NULL, sizeof(data), &id),
        SALUS_EINVAL);
    assert_rc(salus_graph_add_constant(g, "k", SALUS_DTYPE_I32, shape_2x3, 2, data,
                                       sizeof(data) + 1, &id),
              SALUS_EINVAL);
    assert_rc(
        salus_graph_add_constant(g, NULL, SALUS_DTYPE_F32, shape_2x3, 2, data, sizeof(data), &id),
        SALUS_EINVAL);
    assert_int_equal(id, SENTINEL_ID);
    assert_int_equal(salus_graph_tensor_count(g), 0);

    /* nodes */
    uint32_t x;
    assert_ok(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape_2x3, 2, &x));
    uint32_t unknown[] = {x, 7};
    assert_rc(salus_graph_add_node(NULL, "Relu", NULL, &x, 1, 1, outs, &node), SALUS_EINVAL);
    assert_rc(salus_graph_add_node(g, NULL, NULL, &x, 1, 1, outs, &node), SALUS_EINVAL);
    assert_rc(salus_graph_add_node(g, "", NULL, &x, 1, 1, outs, &node), SALUS_EINVAL);
    assert_rc(salus_graph_add_node(g, "Relu", NULL, NULL, 1, 1, outs, &node), SALUS_EINVAL);
    assert_rc(salus_graph_add_node(g, "Relu", NULL, &x, 1, 1, NULL, &node), SALUS_EINVAL);
    assert_rc(salus_graph_add_node(g, "Add", "bad", unknown, 2, 1, outs, &node), SALUS_EINVAL);
    assert_error_contains("unknown tensor id 7");
    assert_int_equal(outs[0], SENTINEL_ID);
    assert_int_equal(node, SENTINEL_ID);
    assert_int_equal(salus_graph_node_count(g), 0);
    assert_int_equal(salus_graph_tensor_count(g), 1);

    /* attributes */
    assert_ok(salus_graph_add_node(g, "Relu", "r", &x, 1, 1, outs, &node));
    const int64_t ints[] = {1};
    assert_rc(salus_graph_set_attr_int(NULL, node, "a", 1), SALUS_EINVAL);
    assert_rc(salus_graph_set_attr_int(g, node + 1, "a", 1), SALUS_EINVAL);
    assert_error_contains("unknown node id");
    assert_rc(salus_graph_set_attr_int(g, node, NULL, 1), SALUS_EINVAL);
    assert_rc(salus_graph_set_attr_int(g, node, "", 1), SALUS_EINVAL);
    assert_rc(salus_graph_set_attr_float(g, node + 1, "a", 1.0), SALUS_EINVAL);
    assert_rc(salus_graph_set_attr_ints(g, node, "a", NULL, 1), SALUS_EINVAL);
    assert_rc(salus_graph_set_attr_ints(g, node + 1, "a", ints, 1), SALUS_EINVAL);
    assert_rc(salus_graph_set_attr_floats(g, node, "a", NULL, 2), SALUS_EINVAL);
    assert_rc(salus_graph_set_attr_string(g, node, "a", NULL), SALUS_EINVAL);
    assert_rc(salus_graph_set_attr_string(NULL, node, "a", "s"), SALUS_EINVAL);

    /* outputs */
    assert_rc(salus_graph_add_output(NULL, x), SALUS_EINVAL);
    assert_rc(salus_graph_add_output(g, 99), SALUS_EINVAL);
    salus_graph_free(g);
}

/* Every session-level entry point refuses NULL handles without crashing. */
static void test_null_handles(void **state) {
    (void)state;
    salus_session *session = SENTINEL;
    salus_pending *pending = SENTINEL;
    salus_tensor *out = SENTINEL;
    salus_graph *g = NULL;
    size_t count = 77;
    salus_session_info info;
    assert_ok(salus_graph_new(&g));
    assert_rc(salus_connect(NULL, NULL), SALUS_EINVAL);
    assert_rc(salus_session_create(NULL, g, NULL, &session), SALUS_EINVAL);
    assert_ptr_equal(session, SENTINEL);
    assert_rc(salus_session_run(NULL, NULL, NULL, 0, &out, 1), SALUS_EINVAL);
    assert_ptr_equal(out, SENTINEL);
    assert_rc(salus_session_submit(NULL, NULL, NULL, 0, &pending), SALUS_EINVAL);
    assert_ptr_equal(pending, SENTINEL);
    assert_rc(salus_pending_wait(NULL, &out, 1), SALUS_EINVAL);
    assert_ptr_equal(out, SENTINEL);
    assert_int_equal(salus_pending_ready(NULL), 0);
    assert_rc(salus_pending_poll(NULL, 0), SALUS_EINVAL);
    assert_rc(salus_pending_poll(NULL, -1), SALUS_EINVAL);
    assert_int_equal(salus_pending_iteration(NULL), 0);
    salus_pending_free(NULL);
    assert_int_equal(salus_session_close(NULL), SALUS_OK);
    assert_int_equal(salus_session_id(NULL), 0);
    assert_int_equal(salus_session_persistent_bytes(NULL), 0);
    assert_int_equal(salus_session_ephemeral_bytes(NULL), 0);
    assert_int_equal(salus_session_output_count(NULL), 0);
    assert_rc(salus_list_sessions(NULL, &info, 1, &count), SALUS_EINVAL);
    assert_int_equal(count, 77);
    assert_string_equal(salus_client_last_error(NULL), "");
    salus_disconnect(NULL);
    salus_graph_free(g);
}

/* A fresh directory for sockets nobody serves. */
static void temp_socket(char *dir, size_t dir_size, char *path, size_t path_size) {
    snprintf(dir, dir_size, "/tmp/salus-capi-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, path_size, "%s/salusd.sock", dir);
}

static void test_connect_nobody(void **state) {
    (void)state;
    char dir[64], path[128];
    temp_socket(dir, sizeof(dir), path, sizeof(path));
    salus_connect_options opts;
    salus_client *client = SENTINEL;
    assert_ok(salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION));

    /* No file at all. */
    opts.socket_path = path;
    assert_rc(salus_connect(&opts, &client), SALUS_ECONNECT);
    assert_error_contains(path);

    /* A socket file nobody listens on. */
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
    close(fd);
    assert_rc(salus_connect(&opts, &client), SALUS_ECONNECT);
    unlink(path);

    /* $SALUS_SOCKET is used when the options name no path. */
    setenv("SALUS_SOCKET", path, 1);
    assert_rc(salus_connect(NULL, &client), SALUS_ECONNECT);
    assert_error_contains(path);
    opts.socket_path = NULL;
    assert_rc(salus_connect(&opts, &client), SALUS_ECONNECT);
    assert_error_contains(path);
    unsetenv("SALUS_SOCKET");

    /* Paths that cannot be a Unix socket address. */
    char long_path[200];
    memset(long_path, 'a', sizeof(long_path) - 1);
    long_path[0] = '/';
    long_path[sizeof(long_path) - 1] = '\0';
    opts.socket_path = long_path;
    assert_rc(salus_connect(&opts, &client), SALUS_EINVAL);
    opts.socket_path = "";
    assert_rc(salus_connect(&opts, &client), SALUS_EINVAL);
    assert_ptr_equal(client, SENTINEL);
    rmdir(dir);
}

/* A fake daemon answers Hello in a way the library must refuse. */
static void expect_connect_failure(fake_mode mode, int code) {
    char dir[64], path[128];
    temp_socket(dir, sizeof(dir), path, sizeof(path));
    fake_daemon *fake = NULL;
    assert_int_equal(fake_daemon_start(path, mode, &fake), 0);
    salus_connect_options opts;
    salus_client *client = SENTINEL;
    assert_ok(salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION));
    opts.socket_path = path;
    assert_rc(salus_connect(&opts, &client), code);
    assert_ptr_equal(client, SENTINEL);
    fake_daemon_stop(fake);
    rmdir(dir);
}

static void test_connect_wrong_version(void **state) {
    (void)state;
    expect_connect_failure(FAKE_WRONG_VERSION, SALUS_EVERSION);
    assert_error_contains("version");
}

static void test_connect_garbage(void **state) {
    (void)state;
    expect_connect_failure(FAKE_GARBAGE, SALUS_EPROTO);
    expect_connect_failure(FAKE_WRONG_REPLY, SALUS_EPROTO);
}

/* The daemon hangs up after Hello: the pending request and every later call
 * fail with SALUS_ECONNECT instead of hanging. */
static void test_daemon_hangs_up(void **state) {
    (void)state;
    char dir[64], path[128];
    temp_socket(dir, sizeof(dir), path, sizeof(path));
    fake_daemon *fake = NULL;
    assert_int_equal(fake_daemon_start(path, FAKE_HANG_UP, &fake), 0);
    salus_client *client = capi_connect(path);
    size_t count = 77;
    assert_rc(salus_list_sessions(client, NULL, 0, &count), SALUS_ECONNECT);
    assert_error_contains("closed the connection");
    assert_true(strstr(salus_client_last_error(client), "closed the connection") != NULL);
    assert_rc(salus_list_sessions(client, NULL, 0, &count), SALUS_ECONNECT);
    assert_int_equal(count, 77);
    salus_disconnect(client);
    fake_daemon_stop(fake);
    rmdir(dir);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_last_error),
        cmocka_unit_test(test_last_error_per_thread),
        cmocka_unit_test(test_options_versions),
        cmocka_unit_test(test_default_socket_path),
        cmocka_unit_test(test_connect_falls_back_to_the_system_socket),
        cmocka_unit_test(test_tensor),
        cmocka_unit_test(test_tensor_invalid),
        cmocka_unit_test(test_tensor_wrap),
        cmocka_unit_test(test_tensor_wrap_invalid),
        cmocka_unit_test(test_graph_builder),
        cmocka_unit_test(test_graph_builder_invalid),
        cmocka_unit_test(test_graph_export),
        cmocka_unit_test(test_null_handles),
        cmocka_unit_test(test_connect_nobody),
        cmocka_unit_test(test_connect_wrong_version),
        cmocka_unit_test(test_connect_garbage),
        cmocka_unit_test(test_daemon_hangs_up),
    };
    return cmocka_run_group_tests_name("local", tests, NULL, NULL);
}
