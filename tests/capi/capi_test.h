/* Common includes and assertions of the C API tests. */
#ifndef SALUS_TESTS_CAPI_TEST_H
#define SALUS_TESTS_CAPI_TEST_H

#include "daemon_fixture.h"

#include <salus/salus.h>

/* cmocka needs these before its header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

/* A value that a failing call must leave in its output parameters (never
 * dereferenced). */
#define SENTINEL ((void *)(uintptr_t)0x5a5a5a50u)
#define SENTINEL_ID 0xdeadbeefu

#define assert_rc(call, code)                                                                      \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != (code)) {                                                                       \
            fail_msg("%s returned %d (%s), expected %d (%s); last error: \"%s\"", #call, rc_,      \
                     salus_strerror(rc_), (int)(code), salus_strerror(code), salus_last_error());  \
        }                                                                                          \
    } while (0)

#define assert_ok(call) assert_rc(call, SALUS_OK)

/* A bound on how the daemon shares its lanes or how fast it answers. Under
 * $SALUSD_WRAPPER (valgrind: slower, the daemon's threads run one at a time)
 * it is printed, not judged: there the tests check memory and that every
 * iteration completes. */
#define assert_unless_wrapped(cond)                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            print_message("# outside its bound: %s\n", #cond);                                     \
            assert_true(daemon_fixture_wrapped());                                                 \
        }                                                                                          \
    } while (0)

/* The last error of this thread contains the text. */
#define assert_error_contains(text)                                                                \
    do {                                                                                           \
        if (!strstr(salus_last_error(), (text))) {                                                 \
            fail_msg("last error \"%s\" does not mention \"%s\"", salus_last_error(), (text));     \
        }                                                                                          \
    } while (0)

/* Connects to socket_path or fails the test. */
static inline salus_client *capi_connect(const char *socket_path) {
    salus_connect_options opts;
    salus_client *client = NULL;
    assert_ok(salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION));
    opts.socket_path = socket_path;
    opts.client_name = "capi-test";
    assert_ok(salus_connect(&opts, &client));
    assert_non_null(client);
    return client;
}

/* Finds the session in the daemon's listing, into *out when out is not NULL:
 * when closed, among the closed sessions the listing keeps, else the open
 * ones. Returns 1 if it is listed so, else 0. */
static inline int capi_find_listed(salus_client *client, uint64_t session_id, int closed,
                                   salus_session_info *out) {
    salus_session_info infos[128];
    size_t count = 0;
    assert_ok(salus_list_sessions(client, infos, 128, &count));
    assert_true(count <= 128);
    for (size_t i = 0; i < count; ++i) {
        if (infos[i].session_id == session_id &&
            (strcmp(infos[i].state, "closed") == 0) == closed) {
            if (out) *out = infos[i];
            return 1;
        }
    }
    return 0;
}

/* The same among the open sessions. */
static inline int capi_find_session(salus_client *client, uint64_t session_id,
                                    salus_session_info *out) {
    return capi_find_listed(client, session_id, 0, out);
}

#endif
