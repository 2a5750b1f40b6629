/* Socket activation: salusd serves a listening socket handed over as fd 3
 * (LISTEN_FDS=1, LISTEN_PID) instead of binding --socket, and leaves the
 * socket file, which it did not create, in place when it stops. Then the
 * same under systemd-socket-activate, which starts salusd on the first
 * connection to a socket it made. */
#include "tap_daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* waitpid with a deadline: 1 and *status when it exited, 0 after timeout_ms. */
int main(void) {
    const char *salusd = salusd_with_systemd();
    printf("1..9\n");

    char dir[] = "/tmp/salus-activation-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char sock_path[128];
    char unused_path[128];
    snprintf(sock_path, sizeof sock_path, "%s/activated.sock", dir);
    snprintf(unused_path, sizeof unused_path, "%s/bound.sock", dir);

    int listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, sock_path);
    int ok = listen_fd >= 0 && bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
             listen(listen_fd, 16) == 0;
    tap_ok(ok, "the test binds and listens on %s", sock_path);
    if (!ok) return 1;

    pid_t pid = fork();
    if (pid == 0) {
        if (listen_fd != 3) {
            dup2(listen_fd, 3);
            close(listen_fd);
        }
        char pid_text[32];
        snprintf(pid_text, sizeof pid_text, "%d", (int)getpid());
        setenv("LISTEN_FDS", "1", 1);
        setenv("LISTEN_PID", pid_text, 1);
        unsetenv("LISTEN_FDNAMES");
        unsetenv("NOTIFY_SOCKET");
        /* --socket names another path: salusd must not bind it. */
        const char *argv[] = {salusd,      "--config",    "/dev/null", "--socket",
                              unused_path, "--workers",   "1",         "--pool-bytes",
                              "64M",       "--max-lanes", "1",         NULL};
        execv(salusd, (char *const *)argv);
        _exit(127);
    }
    close(listen_fd);

    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = sock_path;
    opts.client_name = "test-activation";
    salus_client *client = NULL;
    int rc = salus_connect(&opts, &client);
    tap_ok(rc == 0, "libsalus connects through the passed socket (rc %d: %s)", rc,
           rc == 0 ? "" : salus_last_error());

    int ran = 0;
    if (rc == 0) {
        salus_session *session = NULL;
        uint32_t x = 0;
        rc = open_relu_session(client, &session, &x);
        if (rc == 0)
            ran = run_relu_once(session, x);
        else
            fprintf(stderr, "# session: %s\n", salus_client_last_error(client));
        salus_session_close(session);
        salus_disconnect(client);
    }
    tap_ok(ran, "a Relu session runs one iteration with the right result");

    tap_ok(access(unused_path, F_OK) != 0 && errno == ENOENT,
           "salusd did not bind its --socket path");

    kill(pid, SIGTERM);
    int status = 0;
    int exited = wait_exit(pid, &status, 10000);
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    tap_ok(exited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "salusd exits 0 after SIGTERM (status 0x%x)", status);

    struct stat st;
    tap_ok(lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode),
           "the socket file salusd did not create is still there");

    unlink(sock_path);
    unlink(unused_path);

    /* systemd-socket-activate binds, waits for a connection, then execs
     * salusd with the socket (the pid stays). */
    const char *activate = "/usr/bin/systemd-socket-activate";
    if (access(activate, X_OK) != 0) {
        for (int i = 0; i < 3; ++i) printf("ok %d - # SKIP %s is missing\n", ++tap_count, activate);
        rmdir(dir);
        return tap_failed;
    }
    pid = fork();
    if (pid == 0) {
        const char *argv[] = {activate,       "-l",       sock_path,     salusd,      "--config",
                              "/dev/null",    "--socket", unused_path,   "--workers", "1",
                              "--pool-bytes", "64M",      "--max-lanes", "1",         NULL};
        execv(activate, (char *const *)argv);
        _exit(127);
    }
    int listening = 0;
    for (int waited = 0; !listening && waited < 10000; waited += 10) {
        listening = lstat(sock_path, &st) == 0 && S_ISSOCK(st.st_mode);
        if (!listening) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    client = NULL;
    rc = listening ? salus_connect(&opts, &client) : -1;
    ran = 0;
    if (rc == 0) {
        salus_session *session = NULL;
        uint32_t x = 0;
        if (open_relu_session(client, &session, &x) == 0) ran = run_relu_once(session, x);
        salus_session_close(session);
        salus_disconnect(client);
    }
    tap_ok(ran,
           "under systemd-socket-activate, salusd starts on the first connection and serves it");
    tap_ok(access(unused_path, F_OK) != 0 && errno == ENOENT,
           "salusd did not bind its --socket path");
    kill(pid, SIGTERM);
    exited = wait_exit(pid, &status, 10000);
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    tap_ok(exited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
           "salusd exits 0 after SIGTERM (status 0x%x)", status);

    unlink(sock_path);
    rmdir(dir);
    return tap_failed;
}
