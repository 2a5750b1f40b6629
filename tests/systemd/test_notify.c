/* sd_notify: salusd started with NOTIFY_SOCKET sends READY=1 once its socket
 * accepts, STATUS= lines that follow the sessions and the drain, RELOADING=1
 * then READY=1 around a SIGHUP reload, and STOPPING=1 when SIGTERM starts
 * the shutdown. Every wait has a 5 s deadline. */
#include "tap_daemon.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { kTimeoutMs = 5000 };

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Receives notifications until one contains `want` (copied into buf): 1, or 0
 * after kTimeoutMs. */
static int wait_message(int fd, const char *want, char *buf, size_t size) {
    long long deadline = now_ms() + kTimeoutMs;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0) continue;
        ssize_t n = recv(fd, buf, size - 1, 0);
        if (n < 0) continue;
        buf[n] = '\0';
        /* One TAP comment per message, however many lines it has. */
        fputs("# notify: ", stdout);
        for (ssize_t i = 0; i < n; ++i) putchar(buf[i] == '\n' ? ' ' : buf[i]);
        putchar('\n');
        if (strstr(buf, want)) return 1;
    }
}

static int connect_unix(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, path);
    int ok = fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

int main(void) {
    const char *salusd = salusd_with_systemd();
    printf("1..10\n");

    char dir[] = "/tmp/salus-notify-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char notify_path[128];
    char sock_path[128];
    snprintf(notify_path, sizeof notify_path, "%s/notify", dir);
    snprintf(sock_path, sizeof sock_path, "%s/salusd.sock", dir);

    int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    strcpy(addr.sun_path, notify_path);
    if (nfd < 0 || bind(nfd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        perror("notify socket");
        return 1;
    }

    pid_t pid = fork();
    if (pid == 0) {
        setenv("NOTIFY_SOCKET", notify_path, 1);
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_PID");
        unsetenv("WATCHDOG_USEC");
        const char *argv[] = {salusd,    "--config",    "/dev/null", "--socket",
                              sock_path, "--workers",   "1",         "--pool-bytes",
                              "64M",     "--max-lanes", "1",         NULL};
        execv(salusd, (char *const *)argv);
        _exit(127);
    }

    char msg[4096];
    int ready = wait_message(nfd, "READY=1", msg, sizeof msg);
    /* Checked at once: READY=1 promises the socket accepts already. */
    int accepts = ready && connect_unix(sock_path);
    tap_ok(ready, "READY=1 arrives");
    tap_ok(accepts, "the daemon's socket accepts when READY=1 arrives");
    tap_ok(wait_message(nfd, "STATUS=", msg, sizeof msg), "a STATUS= line arrives");

    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = sock_path;
    opts.client_name = "test-notify";
    salus_client *client = NULL;
    salus_session *session = NULL;
    uint32_t x = 0;
    int rc = salus_connect(&opts, &client);
    if (rc == 0) rc = open_relu_session(client, &session, &x);
    tap_ok(rc == 0, "a session opens (rc %d)", rc);
    tap_ok(rc == 0 && wait_message(nfd, "STATUS=1 session,", msg, sizeof msg),
           "a later STATUS= counts 1 session");

    kill(pid, SIGHUP);
    int reloading = wait_message(nfd, "RELOADING=1", msg, sizeof msg);
    tap_ok(reloading && strstr(msg, "MONOTONIC_USEC="),
           "RELOADING=1 with MONOTONIC_USEC= arrives on SIGHUP");
    tap_ok(reloading && wait_message(nfd, "READY=1", msg, sizeof msg),
           "READY=1 follows once the reload is done");
    tap_ok(rc == 0 && salus_drain(client, 1) == 0 &&
               wait_message(nfd, "STATUS=1 session,", msg, sizeof msg) &&
               (strstr(msg, ", draining") || wait_message(nfd, ", draining", msg, sizeof msg)),
           "STATUS= says when the daemon drains");
    salus_session_close(session);
    if (client) salus_disconnect(client);

    kill(pid, SIGTERM);
    tap_ok(wait_message(nfd, "STOPPING=1", msg, sizeof msg), "STOPPING=1 arrives after SIGTERM");
    int status = 0;
    int exited = wait_exit(pid, &status, kTimeoutMs);
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    tap_ok(exited && WIFEXITED(status) && WEXITSTATUS(status) == 0, "salusd exits 0 (status 0x%x)",
           status);

    close(nfd);
    unlink(notify_path);
    rmdir(dir);
    return tap_failed;
}
