/* salusd --event-log on a live daemon: two synchronous sessions share one
 * lane, and the log they leave obeys the scheduler's invariants whatever the
 * timing: the header and every line parse, one iteration runs per lane at a
 * time, every started iteration ends, a `switch` line precedes exactly the
 * starts whose session differs from the lane's last one (and names that
 * one), no other session starts on a held lane, and each session is
 * submitted, admitted, joined and closed once. Without the flag the daemon
 * writes no file. */
#include "../capi/daemon_fixture.h"
#include "mlp/mlp.h"

#include <salus/salus.h>

/* cmocka.h needs these first. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ITERATIONS = 40, MAX_SESSIONS = 8, MAX_LANES = 4 };

typedef struct job {
    const char *socket_path;
    const char *name;
    int rc;
    char error[256];
    pthread_t thread;
} job;

/* Opens a session, runs ITERATIONS synchronous iterations, closes it. */
static void *job_main(void *arg) {
    job *j = arg;
    salus_client *client = NULL;
    salus_session *session = NULL;
    mlp_graph m;
    mlp_data data;
    salus_tensor *batch[2] = {NULL, NULL};
    memset(&m, 0, sizeof m);
    memset(&data, 0, sizeof data);
    mlp_spec spec = {
        .n_layers = 2, .sizes = {16, 64, 4}, .batch = 8, .lr = 0.01f, .seed = 5, .train = 1};
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = j->socket_path;
    salus_session_options so;
    salus_session_options_init(&so, SALUS_SESSION_OPTIONS_VERSION);
    so.name = j->name;
    j->rc = salus_connect(&opts, &client);
    if (j->rc == 0) j->rc = mlp_build(&spec, &m);
    if (j->rc == 0) j->rc = mlp_data_init(&data, &spec, 2);
    if (j->rc == 0) j->rc = mlp_data_tensors(&data, 0, batch);
    if (j->rc == 0) j->rc = salus_session_create(client, m.graph, &so, &session);
    uint32_t ids[2] = {m.x, m.labels};
    for (int i = 0; i < ITERATIONS && j->rc == 0; ++i) {
        salus_tensor *loss = NULL;
        j->rc = salus_session_run(session, ids, (const salus_tensor *const *)batch, 2, &loss, 1);
        salus_tensor_free(loss);
    }
    if (j->rc != 0) snprintf(j->error, sizeof j->error, "%s: %s", j->name, salus_last_error());
    if (session && salus_session_close(session) != 0 && j->rc == 0) {
        j->rc = -1;
        snprintf(j->error, sizeof j->error, "%s: close: %s", j->name, salus_last_error());
    }
    salus_tensor_free(batch[0]);
    salus_tensor_free(batch[1]);
    mlp_data_free(&data);
    salus_graph_free(m.graph);
    salus_disconnect(client);
    return NULL;
}

static void run_jobs(const char *socket_path, int n) {
    static const char *names[] = {"first", "second", "third"};
    job jobs[3];
    for (int i = 0; i < n; ++i) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].socket_path = socket_path;
        jobs[i].name = names[i];
        assert_int_equal(pthread_create(&jobs[i].thread, NULL, job_main, &jobs[i]), 0);
    }
    for (int i = 0; i < n; ++i) {
        assert_int_equal(pthread_join(jobs[i].thread, NULL), 0);
        if (jobs[i].rc != 0) fail_msg("%s", jobs[i].error);
    }
}

/* What the checks keep per session (the job column's id) and per lane. */
typedef struct session_seen {
    unsigned long long id;
    char name[32];
    int submits, admits, joins, closes, starts, ends;
} session_seen;

typedef struct lane_seen {
    unsigned long long running;   /* session whose iteration runs; 0: none */
    unsigned long long last;      /* session whose iteration started last */
    unsigned long long switch_to; /* a switch line announced this session */
    unsigned long long held_for;  /* the hold's session; 0: not held */
} lane_seen;

static session_seen *seen_session(session_seen *s, int *n, unsigned long long id) {
    for (int i = 0; i < *n; ++i)
        if (s[i].id == id) return &s[i];
    if (*n == MAX_SESSIONS) fail_msg("more than %d sessions in the log", MAX_SESSIONS);
    memset(&s[*n], 0, sizeof s[*n]);
    s[*n].id = id;
    return &s[(*n)++];
}

/* Splits a line into its 5 fields in place; fails the test otherwise. */
static void split(char *line, int number, char *fields[5]) {
    int n = 0;
    fields[n++] = line;
    for (char *p = line; *p; ++p) {
        if (*p != ',') continue;
        if (n == 5) fail_msg("line %d has more than 5 fields", number);
        *p = '\0';
        fields[n++] = p + 1;
    }
    if (n != 5) fail_msg("line %d has %d fields, not 5", number, n);
}

static unsigned long long number_field(const char *text, int line, const char *what) {
    char *end = NULL;
    if (!*text) fail_msg("line %d: no %s", line, what);
    unsigned long long v = strtoull(text, &end, 10);
    if (*end) fail_msg("line %d: %s \"%s\" is not a number", line, what, text);
    return v;
}

static void check_time(const char *text, int line) {
    const char *dot = strchr(text, '.');
    if (!dot || dot == text || strlen(dot + 1) != 6 ||
        strspn(text, "0123456789") != (size_t)(dot - text) || strspn(dot + 1, "0123456789") != 6) {
        fail_msg("line %d: t_s \"%s\" is not seconds with six decimals", line, text);
    }
}

static int is_one_of(const char *event, const char *const *kinds) {
    for (; *kinds; ++kinds)
        if (!strcmp(event, *kinds)) return 1;
    return 0;
}

static void check_log(const char *path, int sessions, int switches_at_least) {
    static const char *const laned[] = {"admit",  "join", "move",   "start", "end",
                                        "switch", "hold", "unhold", NULL};
    static const char *const unlaned[] = {"submit", "wait",   "refuse",  "request", "close",
                                          "pause",  "resume", "dropped", NULL};
    FILE *file = fopen(path, "r");
    if (!file) fail_msg("no event log at %s", path);
    char line[512];
    assert_non_null(fgets(line, sizeof line, file));
    assert_string_equal(line, "t_s,event,job,lane,detail\n");
    session_seen seen[MAX_SESSIONS];
    lane_seen lanes[MAX_LANES];
    memset(lanes, 0, sizeof lanes);
    int n_seen = 0, number = 1, switches = 0;
    while (fgets(line, sizeof line, file)) {
        ++number;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') fail_msg("line %d is cut short", number);
        line[len - 1] = '\0';
        char *f[5];
        split(line, number, f);
        check_time(f[0], number);
        const char *event = f[1];
        if (!strcmp(event, "dropped")) fail_msg("line %d: events dropped", number);
        int has_lane = is_one_of(event, laned);
        if (!has_lane && !is_one_of(event, unlaned)) fail_msg("line %d: event %s", number, event);
        if (!has_lane && *f[3]) fail_msg("line %d: %s with a lane", number, event);
        if (!strcmp(event, "pause") || !strcmp(event, "resume")) continue;
        unsigned long long id = number_field(f[2], number, "job");
        session_seen *s = seen_session(seen, &n_seen, id);
        if (!has_lane) {
            if (!strcmp(event, "submit")) {
                ++s->submits;
                snprintf(s->name, sizeof s->name, "%s", f[4]);
            } else if (!strcmp(event, "close")) {
                ++s->closes;
            }
            continue;
        }
        unsigned long long lane_id = number_field(f[3], number, "lane");
        if (lane_id >= MAX_LANES) fail_msg("line %d: lane %llu", number, lane_id);
        lane_seen *l = &lanes[lane_id];
        if (!strcmp(event, "admit")) {
            ++s->admits;
        } else if (!strcmp(event, "join")) {
            ++s->joins;
        } else if (!strcmp(event, "switch")) {
            if (number_field(f[4], number, "previous session") != l->last || l->last == 0 ||
                l->last == id) {
                fail_msg("line %d: switch from %s, the lane's last session was %llu", number, f[4],
                         l->last);
            }
            l->switch_to = id;
            ++switches;
        } else if (!strcmp(event, "start")) {
            if (l->running)
                fail_msg("line %d: lane %llu already runs %llu", number, lane_id, l->running);
            if (l->held_for)
                fail_msg("line %d: start on a lane held for %llu", number, l->held_for);
            int switched = l->last != 0 && l->last != id;
            if (switched != (l->switch_to == id)) {
                fail_msg("line %d: start of %llu after %llu %s a switch line", number, id, l->last,
                         switched ? "without" : "with");
            }
            l->running = l->last = id;
            l->switch_to = 0;
            ++s->starts;
        } else if (!strcmp(event, "end")) {
            if (l->running != id) fail_msg("line %d: end of %llu, which does not run", number, id);
            if (*f[4]) fail_msg("line %d: iteration %s", number, f[4]);
            l->running = 0;
            ++s->ends;
        } else if (!strcmp(event, "hold")) {
            if (l->held_for || l->running) fail_msg("line %d: hold of a busy lane", number);
            l->held_for = id;
        } else if (!strcmp(event, "unhold")) {
            if (l->held_for != id) fail_msg("line %d: unhold without its hold", number);
            if (!is_one_of(f[4], (const char *const[]){"returned", "expired", "early", NULL}))
                fail_msg("line %d: unhold \"%s\"", number, f[4]);
            l->held_for = 0;
        }
    }
    fclose(file);
    for (int i = 0; i < MAX_LANES; ++i)
        if (lanes[i].running) fail_msg("lane %d: an iteration never ended", i);
    assert_int_equal(n_seen, sessions);
    for (int i = 0; i < n_seen; ++i) {
        session_seen *s = &seen[i];
        print_message("# session %llu (%s): %d iterations\n", s->id, s->name, s->ends);
        assert_int_equal(s->submits, 1);
        assert_int_equal(s->admits, 1);
        assert_int_equal(s->joins, 1);
        assert_int_equal(s->closes, 1);
        assert_int_equal(s->starts, ITERATIONS);
        assert_int_equal(s->ends, ITERATIONS);
    }
    print_message("# %d switches\n", switches);
    assert_true(switches >= switches_at_least);
}

static void two_sessions_on_one_lane(void **state) {
    (void)state;
    char dir[] = "/tmp/salus-eventlog-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/events.csv", dir);
    /* fair holds the lane for the session behind in service: holds and
     * switches both show up, in whatever order the VM lets them. */
    const char *args[] = {"--max-lanes", "1", "--policy", "fair", "--event-log", path, NULL};
    daemon_fixture f;
    assert_int_equal(daemon_start(&f, args), 0);
    run_jobs(f.socket_path, 2);
    /* SIGTERM: the daemon writes out what is queued before it exits. */
    assert_int_equal(daemon_stop(&f), 0);
    /* Two sessions of one lane switch at least once between them. */
    check_log(path, 2, 1);
    unlink(path);
    rmdir(dir);
}

/* The daemon's directory holds its socket and nothing else. */
static void flag_off_writes_nothing(void **state) {
    (void)state;
    daemon_fixture f;
    assert_int_equal(daemon_start(&f, NULL), 0);
    run_jobs(f.socket_path, 1);
    DIR *d = opendir(f.dir);
    assert_non_null(d);
    int others = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "salusd.sock"))
            ++others;
    }
    closedir(d);
    assert_int_equal(daemon_stop(&f), 0);
    assert_int_equal(others, 0);
}

static void unwritable_log_refuses_to_start(void **state) {
    (void)state;
    const char *args[] = {"--event-log", "/nonexistent-salus-dir/events.csv", NULL};
    daemon_fixture f;
    /* It exits at once with the reason on stderr (the test's log). */
    assert_int_equal(daemon_start(&f, args), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_sessions_on_one_lane),
        cmocka_unit_test(flag_off_writes_nothing),
        cmocka_unit_test(unwritable_log_refuses_to_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
