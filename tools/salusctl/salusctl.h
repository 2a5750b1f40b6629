/* salusctl: the commands and the helpers they share. */
#ifndef SALUSCTL_H
#define SALUSCTL_H

#include <salus/salus.h>

#include <stddef.h>
#include <stdint.h>

enum { EXIT_USAGE = 2 };

/* Fixed-size strings from the daemon may fill their array without a NUL. */
#define FIELD(s) (int)strnlen((s), sizeof(s)), (s)

/* ---- the daemon (daemon.c) ----------------------------------------------- */

/* Reports a failed libsalus call as "salusctl: WHAT: ERROR: MESSAGE" on
 * stderr; returns the exit status for it. */
int salus_failure(const char *what, int rc);

/* Every session (of every client), in a new array; EXIT_SUCCESS or the exit
 * status after reporting the failure. */
int fetch_sessions(salus_client *client, salus_session_info **out, size_t *count);
/* Every lane, in a new array; as above. */
int fetch_lanes(salus_client *client, salus_lane_info **out, size_t *count);

/* The owner of a session: its user's name, else the uid, else "-". */
const char *owner_name(uint32_t uid, char *buf, size_t size);

/* ---- output (output.c) ----------------------------------------------------- */

/* Sizes in binary units: "512 B", "7.4 KiB", "1.2 GiB". */
void human_bytes(char *buf, size_t size, uint64_t bytes);
/* Durations: "850 ns", "3.1 us", "12.0 ms", "4.20 s". */
void human_ns(char *buf, size_t size, uint64_t ns);
/* Control characters and bytes that are not UTF-8 replaced by '?', so one
 * value stays on one line and sends the terminal no escape sequence. */
void sanitize(char *s);

/* A JSON string of at most len bytes of s (stops at a NUL): valid JSON and
 * UTF-8 whatever the bytes (control characters escaped, bytes that are not
 * UTF-8 as U+FFFD escapes). */
void json_string(const char *s, size_t len);
/* A Prometheus label value of at most len bytes of s, escaped as the text
 * exposition format says, and valid UTF-8 whatever the bytes. */
void prom_label(const char *s, size_t len);

/* A text table: columns left- or right-aligned, two spaces apart. */
typedef struct table table;
table *table_new(size_t columns, const char *const *header, const int *left_aligned);
/* Appends a row of `columns` cells (copied). */
void table_add(table *t, const char *const *cells);
void table_print(const table *t);
void table_free(table *t);

/* ---- commands ---------------------------------------------------------------- */

int cmd_status(salus_client *client, int json);
int cmd_sessions(salus_client *client, int json);
int cmd_policy(salus_client *client, const char *name, int json);
int cmd_drain(salus_client *client, int wait, int cancel, int json);
int cmd_metrics(salus_client *client);
/* argv: the words after "tenant". */
int cmd_tenant(salus_client *client, int argc, char **argv, int json);
int cmd_close(salus_client *client, uint64_t session_id, int json);

#endif
