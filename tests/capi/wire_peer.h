/* Raw wire-protocol peers for the tests: requests the C API cannot make,
 * and a fake daemon that misbehaves on purpose. */
#ifndef SALUS_TESTS_WIRE_PEER_H
#define SALUS_TESTS_WIRE_PEER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* On a new connection to socket_path: Hello, then CloseSession (run == 0)
 * or RunIteration without inputs (run == 1) for session_id. Returns 0 on a
 * success reply, the daemon's Error code (message copied to msg), or
 * WIRE_PEER_EIO when the exchange itself failed. */
#define WIRE_PEER_EIO (-1000)
int wire_peer_request(const char *socket_path, uint64_t session_id, int run, char *msg,
                      size_t msg_size);

typedef enum fake_mode {
    FAKE_WRONG_VERSION, /* HelloReply with protocol version SALUS_PROTOCOL_VERSION + 1 */
    FAKE_GARBAGE,       /* answers Hello with a frame that is not a flatbuffer */
    FAKE_WRONG_REPLY,   /* answers Hello with a ListSessionsReply */
    FAKE_HANG_UP,       /* a correct HelloReply, then closes on the next request */
} fake_mode;

typedef struct fake_daemon fake_daemon;

/* Listens on socket_path and serves one connection in a thread. */
int fake_daemon_start(const char *socket_path, fake_mode mode, fake_daemon **out);
/* Joins the thread (after the client is gone) and removes the socket. */
void fake_daemon_stop(fake_daemon *fake);

#ifdef __cplusplus
}
#endif

#endif
