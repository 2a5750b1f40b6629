/* Starting and stopping a real salusd for the C API tests. */
#include "daemon_fixture.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A CUDA daemon loads every kernel module before it listens: seconds. */
enum { START_TIMEOUT_MS = 30000, STOP_TIMEOUT_MS = 5000, POLL_MS = 10 };
/* Under $SALUSD_WRAPPER (valgrind: 20-50x slower, and a leak check at exit)
 * the daemon gets this many times longer to start and to stop. */
enum { WRAPPED_SLOWDOWN = 10 };

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* 1 when something accepts connections on path. */
static int accepts(const char *path) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    size_t len = strlen(path);
    if (len >= sizeof(addr.sun_path)) return 0;
    memcpy(addr.sun_path, path, len + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    int ok = connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) == 0;
    close(fd);
    return ok;
}

/* Waits up to timeout_ms for the child to exit; 1 if it did. */
static int reap(pid_t pid, int timeout_ms, int *status) {
    for (int waited = 0;; waited += POLL_MS) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) return 1;
        if (waited >= timeout_ms) return 0;
        sleep_ms(POLL_MS);
    }
}

/* $SALUSD_WRAPPER, e.g. "valgrind --error-exitcode=99": a command the
 * daemon runs under, or NULL. */
static const char *wrapper(void) {
    const char *w = getenv("SALUSD_WRAPPER");
    return w && *w ? w : NULL;
}

int daemon_fixture_slowdown(void) {
    return wrapper() ? WRAPPED_SLOWDOWN : 1;
}

int daemon_fixture_wrapped(void) {
    return wrapper() != NULL;
}

/* Appends the space-separated words of text (copied into buf) to argv while
 * argc stays under max. */
static void push_words(const char **argv, size_t *argc, size_t max, const char *text, char *buf,
                       size_t buf_size) {
    snprintf(buf, buf_size, "%s", text ? text : "");
    char *save = NULL;
    for (char *a = strtok_r(buf, " ", &save); a && *argc < max; a = strtok_r(NULL, " ", &save))
        argv[(*argc)++] = a;
}

int daemon_fixture_on_gpu(void) {
    const char *device = getenv("SALUS_TEST_DEVICE");
    return device && strncmp(device, "cuda", 4) == 0;
}

static int start(daemon_fixture *f, const char *const *extra_args, int logged) {
    memset(f, 0, sizeof(*f));
    const char *salusd = getenv("SALUSD");
    if (!salusd || !*salusd) {
        fprintf(stderr, "daemon_fixture: $SALUSD is not set (run the tests with meson test)\n");
        return -1;
    }
    snprintf(f->dir, sizeof(f->dir), "/tmp/salus-capi-XXXXXX");
    if (!mkdtemp(f->dir)) {
        fprintf(stderr, "daemon_fixture: mkdtemp: %s\n", strerror(errno));
        f->dir[0] = '\0';
        return -1;
    }
    snprintf(f->socket_path, sizeof(f->socket_path), "%s/salusd.sock", f->dir);
    if (logged) snprintf(f->log_path, sizeof(f->log_path), "%s/salusd.log", f->dir);

    /* The CPU backend unless a run asks for another (the GPU suite does). */
    const char *device = getenv("SALUS_TEST_DEVICE");
    if (!device || !*device) device = "cpu";
    /* $SALUSD_WRAPPER's words, then salusd and its arguments. A config file
     * installed on this machine must not change the tests. */
    enum { MAX_ARGS = 48 };
    const char *argv[MAX_ARGS];
    size_t argc = 0;
    char wrap[256];
    push_words(argv, &argc, 16, wrapper(), wrap, sizeof(wrap));
    const char *fixed[] = {salusd,      "--config", "/dev/null", "--socket", f->socket_path,
                           "--workers", "2",        "--device",  device};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); ++i) argv[argc++] = fixed[i];
    /* $SALUSD_ARGS: options for every daemon of the run, space-separated
     * (the GPU proof runs several test programs at once, each daemon with a
     * pool of its own size). */
    char run_args[256];
    push_words(argv, &argc, 36, getenv("SALUSD_ARGS"), run_args, sizeof(run_args));
    for (size_t i = 0; extra_args && extra_args[i] && argc < MAX_ARGS - 1; ++i)
        argv[argc++] = extra_args[i];
    argv[argc] = NULL;

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "daemon_fixture: fork: %s\n", strerror(errno));
        daemon_stop(f);
        return -1;
    }
    if (pid == 0) {
        /* Never outlive a test that crashes, and keep the TAP stream on
         * stdout clean: the daemon's output goes to the test log. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        if (f->log_path[0]) {
            int fd = open(f->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
            if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(127);
        }
        dup2(STDERR_FILENO, STDOUT_FILENO);
        execvp(argv[0], (char *const *)argv);
        fprintf(stderr, "daemon_fixture: exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    f->pid = pid;

    for (int waited = 0; waited < START_TIMEOUT_MS * daemon_fixture_slowdown(); waited += POLL_MS) {
        if (accepts(f->socket_path)) return 0;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "daemon_fixture: salusd exited early (status %d)\n", status);
            f->pid = 0;
            daemon_stop(f);
            return -1;
        }
        sleep_ms(POLL_MS);
    }
    fprintf(stderr, "daemon_fixture: salusd did not accept connections within %d ms\n",
            START_TIMEOUT_MS * daemon_fixture_slowdown());
    daemon_stop(f);
    return -1;
}

int daemon_start(daemon_fixture *f, const char *const *extra_args) {
    return start(f, extra_args, 0);
}

int daemon_start_logged(daemon_fixture *f, const char *const *extra_args) {
    return start(f, extra_args, 1);
}

/* The whole log, NUL-terminated, in a new buffer; NULL when unreadable. */
static char *read_log(const daemon_fixture *f) {
    FILE *in = fopen(f->log_path, "r");
    if (!in) return NULL;
    size_t size = 0, cap = 4096;
    char *text = malloc(cap);
    while (text) {
        size_t n = fread(text + size, 1, cap - size - 1, in);
        if (n == 0) break;
        size += n;
        if (cap - size > 1024) continue;
        cap *= 2;
        char *bigger = realloc(text, cap);
        if (!bigger) free(text);
        text = bigger;
    }
    fclose(in);
    if (text) text[size] = '\0';
    return text;
}

int daemon_log_contains(const daemon_fixture *f, const char *text, int timeout_ms) {
    for (int waited = 0;; waited += POLL_MS) {
        char *log = read_log(f);
        int found = log && strstr(log, text) != NULL;
        free(log);
        if (found) return 1;
        if (waited >= timeout_ms) return 0;
        sleep_ms(POLL_MS);
    }
}

int daemon_wait_exit(daemon_fixture *f, int timeout_ms, int *status) {
    if (f->pid <= 0 || !reap(f->pid, timeout_ms * daemon_fixture_slowdown(), status)) return 0;
    f->pid = 0;
    return 1;
}

void daemon_kill(daemon_fixture *f) {
    if (f->pid > 0) {
        int status;
        kill(f->pid, SIGKILL);
        reap(f->pid, STOP_TIMEOUT_MS * daemon_fixture_slowdown(), &status);
        f->pid = 0;
    }
}

int daemon_stop(daemon_fixture *f) {
    int rc = 0;
    if (f->pid > 0) {
        int status = 0;
        kill(f->pid, SIGTERM);
        if (!reap(f->pid, STOP_TIMEOUT_MS * daemon_fixture_slowdown(), &status)) {
            fprintf(stderr, "daemon_fixture: salusd ignored SIGTERM for %d ms\n",
                    STOP_TIMEOUT_MS * daemon_fixture_slowdown());
            daemon_kill(f);
            rc = -1;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "daemon_fixture: salusd stopped with wait status %d\n", status);
            rc = -1;
        }
        f->pid = 0;
    }
    if (f->log_path[0]) {
        /* Into the test log, where meson keeps it. */
        char *log = read_log(f);
        if (log) fprintf(stderr, "--- salusd log ---\n%s--- end of salusd log ---\n", log);
        free(log);
        unlink(f->log_path);
        f->log_path[0] = '\0';
    }
    if (f->dir[0]) {
        unlink(f->socket_path);
        rmdir(f->dir);
        f->dir[0] = '\0';
    }
    return rc;
}

int daemon_setup(void **state) {
    daemon_fixture *f = malloc(sizeof(*f));
    if (!f) return -1;
    if (daemon_start(f, NULL) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

int daemon_teardown(void **state) {
    daemon_fixture *f = *state;
    int rc = 0;
    if (f) {
        rc = daemon_stop(f);
        free(f);
    }
    *state = NULL;
    return rc;
}
