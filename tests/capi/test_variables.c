/* Several graphs over one set of variables, and variables read and written
 * between iterations, against a live daemon: the MLP training graph with a
 * forward-only graph added at other batch sizes. */
#include "capi_test.h"
#include "live_fixture.h"

#include <math.h>
#include <stdlib.h>

static const char *const kNames[] = {"W1", "b1", "W2", "b2"};

static salus_session *create(fixture *f) {
    salus_session *s = NULL;
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &s));
    return s;
}

/* The MLP's forward pass at `batch` rows: logits is the only output. With
 * `extra`, the graph also has a variable the session does not. */
static salus_graph *forward_graph(const mlp_graph *m, int64_t batch, int extra, uint32_t *x) {
    const mlp_config *c = &m->cfg;
    salus_graph *g = NULL;
    assert_ok(salus_graph_new(&g));
    const int64_t xs[] = {batch, c->in}, w1s[] = {c->in, c->hidden}, b1s[] = {c->hidden};
    const int64_t w2s[] = {c->hidden, c->classes}, b2s[] = {c->classes};
    const size_t f = sizeof(float);
    uint32_t W1, B1, W2, B2, t[5];
    assert_ok(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, xs, 2, x));
    /* Its variables are the session's: W1 travels without a value. */
    assert_ok(salus_graph_add_variable(g, "W1", SALUS_DTYPE_F32, w1s, 2, NULL, 0, &W1));
    assert_ok(salus_graph_add_variable(g, "b1", SALUS_DTYPE_F32, b1s, 1, m->b1,
                                       f * (size_t)c->hidden, &B1));
    assert_ok(salus_graph_add_variable(g, extra ? "W2_new" : "W2", SALUS_DTYPE_F32, w2s, 2, m->w2,
                                       f * (size_t)(c->hidden * c->classes), &W2));
    assert_ok(salus_graph_add_variable(g, "b2", SALUS_DTYPE_F32, b2s, 1, m->b2,
                                       f * (size_t)c->classes, &B2));
    uint32_t in0[] = {*x, W1}, in1[] = {t[0], B1};
    assert_ok(salus_graph_add_node(g, "MatMul", "fc1", in0, 2, 1, &t[0], NULL));
    in1[0] = t[0];
    assert_ok(salus_graph_add_node(g, "Add", "fc1_bias", in1, 2, 1, &t[1], NULL));
    assert_ok(salus_graph_add_node(g, "Relu", "relu1", &t[1], 1, 1, &t[2], NULL));
    uint32_t in2[] = {t[2], W2};
    assert_ok(salus_graph_add_node(g, "MatMul", "fc2", in2, 2, 1, &t[3], NULL));
    uint32_t in3[] = {t[3], B2};
    assert_ok(salus_graph_add_node(g, "Add", "fc2_bias", in3, 2, 1, &t[4], NULL));
    assert_ok(salus_graph_add_output(g, t[4]));
    return g;
}

static salus_tensor *matrix(int64_t rows, int64_t cols, float fill_base) {
    const int64_t shape[] = {rows, cols};
    salus_tensor *t = NULL;
    assert_ok(salus_tensor_new(SALUS_DTYPE_F32, shape, 2, NULL, &t));
    float *p = salus_tensor_data(t);
    for (int64_t i = 0; i < rows * cols; ++i) p[i] = fill_base + 0.01f * (float)(i % 17);
    return t;
}

static void read_all(salus_session *s, salus_tensor **values) {
    assert_ok(salus_session_read_variables(s, kNames, 4, values));
}

static void free_all(salus_tensor **values, size_t n) {
    for (size_t i = 0; i < n; ++i) salus_tensor_free(values[i]);
}

static int same(const salus_tensor *a, const salus_tensor *b) {
    return salus_tensor_nbytes(a) == salus_tensor_nbytes(b) &&
           memcmp(salus_tensor_const_data(a), salus_tensor_const_data(b), salus_tensor_nbytes(a)) ==
               0;
}

static float train(fixture *f, salus_session *s, uint64_t batch) {
    salus_tensor *x, *y, *loss = NULL;
    assert_ok(mlp_batch_tensors(&f->mlp.cfg, batch, &x, &y));
    const uint32_t ids[] = {f->mlp.x, f->mlp.labels};
    const salus_tensor *inputs[] = {x, y};
    assert_ok(salus_session_run(s, ids, inputs, 2, &loss, 1));
    float value = *(const float *)salus_tensor_const_data(loss);
    salus_tensor_free(loss);
    salus_tensor_free(x);
    salus_tensor_free(y);
    return value;
}

/* Reads give the initial values, then what training made of them; writing
 * the initial values back replays the same loss. */
static void test_read_write(void **state) {
    fixture *f = *state;
    salus_session *s = create(f);
    salus_tensor *v[4];
    read_all(s, v);
    assert_int_equal(salus_tensor_rank(v[0]), 2);
    assert_int_equal(salus_tensor_dim(v[0], 0), f->mlp.cfg.in);
    assert_memory_equal(salus_tensor_const_data(v[0]), f->mlp.w1, salus_tensor_nbytes(v[0]));
    assert_memory_equal(salus_tensor_const_data(v[3]), f->mlp.b2, salus_tensor_nbytes(v[3]));

    const float first = train(f, s, 0);
    salus_tensor *after[4];
    read_all(s, after);
    assert_false(same(v[0], after[0]));
    const float second = train(f, s, 0);
    assert_true(second < first);

    assert_ok(salus_session_write_variables(s, kNames, (const salus_tensor *const *)v, 4));
    assert_true(train(f, s, 0) == first);
    free_all(v, 4);
    free_all(after, 4);
    assert_ok(salus_session_close(s));
}

/* A read waits for the iterations submitted before it, without the client
 * waiting for them. */
static void test_read_queues_behind_iterations(void **state) {
    fixture *f = *state;
    salus_session *a = create(f), *b = create(f);
    salus_pending *pending[3];
    salus_tensor *xs[3], *ys[3];
    const uint32_t ids[] = {f->mlp.x, f->mlp.labels};
    for (int i = 0; i < 3; ++i) {
        assert_ok(mlp_batch_tensors(&f->mlp.cfg, (uint64_t)i, &xs[i], &ys[i]));
        const salus_tensor *inputs[] = {xs[i], ys[i]};
        assert_ok(salus_session_submit(a, ids, inputs, 2, &pending[i]));
    }
    salus_tensor *queued[4];
    read_all(a, queued);
    for (int i = 0; i < 3; ++i) {
        assert_true(salus_pending_ready(pending[i]));
        salus_pending_free(pending[i]);
        (void)train(f, b, (uint64_t)i);
        salus_tensor_free(xs[i]);
        salus_tensor_free(ys[i]);
    }
    salus_tensor *reference[4];
    read_all(b, reference);
    for (int i = 0; i < 4; ++i) assert_true(same(queued[i], reference[i]));
    free_all(queued, 4);
    free_all(reference, 4);
    assert_ok(salus_session_close(a));
    assert_ok(salus_session_close(b));
}

/* A forward graph at another batch size computes with the trained values;
 * writes reach it too. */
static void test_added_graph_shares_variables(void **state) {
    fixture *f = *state;
    const mlp_config *c = &f->mlp.cfg;
    salus_session *s = create(f);
    (void)train(f, s, 0);
    uint32_t x = 0, index = 0;
    salus_graph *g = forward_graph(&f->mlp, 5, 0, &x);
    assert_ok(salus_session_add_graph(s, g, "eval:5", &index));
    salus_graph_free(g);
    assert_int_equal(index, 1);
    assert_int_equal(salus_session_graph_count(s), 2);
    assert_int_equal(salus_session_graph_output_count(s, 1), 1);
    assert_int_equal(salus_session_graph_output_count(s, 2), 0);
    assert_int_equal(salus_session_persistent_bytes(s) > 0, 1);

    salus_tensor *in = matrix(5, c->in, 0.5f), *logits = NULL;
    const salus_tensor *inputs[] = {in};
    assert_ok(salus_session_run_graph(s, 1, &x, inputs, 1, &logits, 1));
    assert_int_equal(salus_tensor_dim(logits, 0), 5);
    assert_int_equal(salus_tensor_dim(logits, 1), c->classes);

    /* The same logits on the host, from the values the daemon holds. */
    salus_tensor *v[4];
    read_all(s, v);
    const float *w1 = salus_tensor_const_data(v[0]), *b1 = salus_tensor_const_data(v[1]);
    const float *w2 = salus_tensor_const_data(v[2]), *b2 = salus_tensor_const_data(v[3]);
    const float *xp = salus_tensor_const_data(in), *got = salus_tensor_const_data(logits);
    for (int64_t r = 0; r < 5; ++r) {
        for (int64_t k = 0; k < c->classes; ++k) {
            double out = b2[k];
            for (int64_t h = 0; h < c->hidden; ++h) {
                double z = b1[h];
                for (int64_t i = 0; i < c->in; ++i) z += xp[r * c->in + i] * w1[i * c->hidden + h];
                if (z > 0) out += z * w2[h * c->classes + k];
            }
            assert_float_equal(got[r * c->classes + k], out, 1e-4);
        }
    }
    salus_tensor_free(logits);

    /* Zero weights written through the session give the bias alone. */
    salus_tensor *zero = matrix(c->hidden, c->classes, 0.0f);
    memset(salus_tensor_data(zero), 0, salus_tensor_nbytes(zero));
    const char *name = "W2";
    const salus_tensor *values[] = {zero};
    assert_ok(salus_session_write_variables(s, &name, values, 1));
    assert_ok(salus_session_run_graph(s, 1, &x, inputs, 1, &logits, 1));
    got = salus_tensor_const_data(logits);
    for (int64_t k = 0; k < c->classes; ++k) assert_float_equal(got[k], b2[k], 1e-6);
    salus_tensor_free(logits);
    salus_tensor_free(zero);
    salus_tensor_free(in);
    free_all(v, 4);
    assert_ok(salus_session_close(s));
}

/* A variable sent without data starts at zero; a constant without data is
 * refused before anything is sent. */
static void test_variable_without_data_starts_at_zero(void **state) {
    fixture *f = *state;
    salus_graph *g = NULL;
    assert_ok(salus_graph_new(&g));
    const int64_t shape[] = {3, 4};
    uint32_t x, w, y, c = SENTINEL_ID;
    assert_ok(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 2, &x));
    assert_ok(salus_graph_add_variable(g, "w", SALUS_DTYPE_F32, shape, 2, NULL, 0, &w));
    uint32_t in[] = {x, w};
    assert_ok(salus_graph_add_node(g, "Add", "sum", in, 2, 1, &y, NULL));
    assert_ok(salus_graph_add_output(g, y));
    assert_rc(salus_graph_add_constant(g, "c", SALUS_DTYPE_F32, shape, 2, NULL, 0, &c),
              SALUS_EINVAL);
    assert_int_equal(c, SENTINEL_ID);
    salus_session *s = NULL;
    assert_ok(salus_session_create(f->client, g, NULL, &s));
    salus_graph_free(g);

    const char *name = "w";
    salus_tensor *value = NULL;
    assert_ok(salus_session_read_variables(s, &name, 1, &value));
    const float *p = salus_tensor_const_data(value);
    for (int i = 0; i < 12; ++i) assert_true(p[i] == 0.0f);
    salus_tensor_free(value);

    salus_tensor *ones = matrix(3, 4, 1.0f), *out = NULL;
    const salus_tensor *values[] = {ones};
    assert_ok(salus_session_write_variables(s, &name, values, 1));
    const salus_tensor *inputs[] = {ones};
    assert_ok(salus_session_run(s, &x, inputs, 1, &out, 1));
    const float *sum = salus_tensor_const_data(out), *one = salus_tensor_const_data(ones);
    for (int i = 0; i < 12; ++i) assert_float_equal(sum[i], 2 * one[i], 1e-6);
    salus_tensor_free(out);
    salus_tensor_free(ones);
    assert_ok(salus_session_close(s));
}

static void test_refusals(void **state) {
    fixture *f = *state;
    const mlp_config *c = &f->mlp.cfg;
    salus_session *s = create(f);
    salus_tensor *before[4], *v = NULL;
    read_all(s, before);

    const char *unknown[] = {"W1", "nope"};
    salus_tensor *two[2] = {SENTINEL, SENTINEL};
    assert_rc(salus_session_read_variables(s, unknown, 2, two), SALUS_EINVAL);
    assert_error_contains("\"nope\"");
    assert_ptr_equal(two[0], SENTINEL);

    /* A wrong shape writes nothing, not even the valid value before it. */
    salus_tensor *w1 = matrix(c->in, c->hidden, 1.0f), *bad = matrix(3, 3, 1.0f);
    const char *names[] = {"W1", "b1"};
    const salus_tensor *values[] = {w1, bad};
    assert_rc(salus_session_write_variables(s, names, values, 2), SALUS_ESHAPE);
    assert_error_contains("\"b1\"");
    assert_ok(salus_session_read_variables(s, kNames, 1, &v));
    assert_true(same(v, before[0]));
    salus_tensor_free(v);
    const char *twice[] = {"W1", "W1"};
    const salus_tensor *twice_values[] = {w1, w1};
    assert_rc(salus_session_write_variables(s, twice, twice_values, 2), SALUS_EINVAL);
    assert_error_contains("twice");

    uint32_t x = 0, index = SENTINEL_ID;
    salus_graph *g = forward_graph(&f->mlp, 5, 1, &x);
    assert_rc(salus_session_add_graph(s, g, "extra", &index), SALUS_EGRAPH);
    assert_error_contains("\"W2_new\"");
    assert_int_equal(index, SENTINEL_ID);
    salus_graph_free(g);
    /* More ephemeral memory than the session's lane holds. */
    g = forward_graph(&f->mlp, 1 << 16, 0, &x);
    assert_rc(salus_session_add_graph(s, g, "huge", &index), SALUS_ERESOURCE);
    assert_error_contains("largest graph first");
    salus_graph_free(g);
    g = forward_graph(&f->mlp, 2, 0, &x);
    assert_ok(salus_session_add_graph(s, g, "eval", &index));
    assert_rc(salus_session_add_graph(s, g, "eval", &index), SALUS_EINVAL);
    assert_error_contains("already has a graph");
    salus_graph_free(g);
    assert_int_equal(salus_session_graph_count(s), 2);

    salus_tensor *out = NULL;
    assert_rc(salus_session_run_graph(s, 7, NULL, NULL, 0, &out, 0), SALUS_EINVAL);
    free_all(before, 4);
    salus_tensor_free(w1);
    salus_tensor_free(bad);
    /* The session still trains. */
    (void)train(f, s, 1);
    assert_ok(salus_session_close(s));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_write, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_read_queues_behind_iterations, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_added_graph_shares_variables, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_variable_without_data_starts_at_zero, live_setup,
                                        live_teardown),
        cmocka_unit_test_setup_teardown(test_refusals, live_setup, live_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
