/* syscall-filter [--report] [--mdwe] UNIT -- COMMAND [ARG...]
 *
 * Runs COMMAND under the system-call filter the service UNIT would give it
 * under systemd, without systemd: SystemCallFilter= (groups expanded by
 * systemd-analyze syscall-filter, allow and deny lines in order),
 * SystemCallErrorNumber=, SystemCallArchitectures=native,
 * RestrictAddressFamilies= (AF_UNIX only) and MemoryDenyWriteExecute=
 * (also with --mdwe). Denied calls fail as systemd makes them fail (EPERM,
 * or EAFNOSUPPORT for a socket family).
 *
 * With --report a supervisor answers each denied call itself and prints it
 * ("syscall-filter: denied NAME") on stderr: what a program would miss
 * under the unit. Exits with COMMAND's status.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "syscall-filter knows x86-64 and aarch64"
#endif

typedef struct syscall_name {
    const char *name;
    int nr;
} syscall_name;

static const syscall_name syscalls[] = {
#include "syscall_names.h"
};
enum { N_SYSCALLS = sizeof syscalls / sizeof *syscalls, MAX_NR = 1024 };

static int allowed[MAX_NR];
static int restrict_unix;
static int deny_wx;
static int deny_errno = EPERM;

static void die(const char *fmt, const char *arg) {
    fprintf(stderr, "syscall-filter: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static int nr_of(const char *name) {
    for (size_t i = 0; i < N_SYSCALLS; ++i)
        if (strcmp(syscalls[i].name, name) == 0) return syscalls[i].nr;
    return -1; /* not on this architecture */
}

static const char *name_of(int nr) {
    for (size_t i = 0; i < N_SYSCALLS; ++i)
        if (syscalls[i].nr == nr) return syscalls[i].name;
    return "?";
}

/* Applies one name or @group, recursively, as systemd-analyze lists it. */
static void apply(const char *item, int allow, int depth) {
    if (item[0] != '@') {
        int nr = nr_of(item);
        if (nr >= 0 && nr < MAX_NR) allowed[nr] = allow;
        return;
    }
    if (depth > 8) die("groups nest too deeply at %s", item);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "systemd-analyze syscall-filter --no-pager '%s' 2>/dev/null", item);
    FILE *in = popen(cmd, "r");
    if (!in) die("cannot run systemd-analyze for %s", item);
    char line[256];
    int first = 1, n = 0;
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        char *word = line + strspn(line, " ");
        /* The first line names the group; comments explain it. */
        if (first || word[0] == '#' || word[0] == '\0') {
            first = 0;
            continue;
        }
        apply(word, allow, depth + 1);
        ++n;
    }
    if (pclose(in) != 0 || n == 0) die("systemd-analyze does not know %s", item);
}

/* Reads the unit's settings that turn into seccomp filters. */
static void read_unit(const char *path) {
    FILE *in = fopen(path, "r");
    if (!in) die("cannot open %s", path);
    char line[4096];
    int seen_filter = 0;
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = '\0';
        char *value = strchr(line, '=');
        if (!value) continue;
        *value++ = '\0';
        if (strcmp(line, "SystemCallFilter") == 0) {
            int allow = value[0] != '~';
            if (!allow) ++value;
            /* The first line decides what is not listed: denied after an
             * allow list, allowed after a deny list. */
            if (!seen_filter && !allow)
                for (int i = 0; i < MAX_NR; ++i) allowed[i] = 1;
            seen_filter = 1;
            for (char *item = strtok(value, " "); item; item = strtok(NULL, " ")) {
                item[strcspn(item, ":")] = '\0'; /* name:errno */
                apply(item, allow, 0);
            }
        } else if (strcmp(line, "SystemCallErrorNumber") == 0) {
            if (strcmp(value, "EPERM") != 0)
                die("SystemCallErrorNumber=%s: only EPERM here", value);
        } else if (strcmp(line, "SystemCallArchitectures") == 0) {
            if (strcmp(value, "native") != 0) die("SystemCallArchitectures=%s: only native", value);
        } else if (strcmp(line, "RestrictAddressFamilies") == 0) {
            if (strcmp(value, "AF_UNIX") != 0)
                die("RestrictAddressFamilies=%s: only AF_UNIX", value);
            restrict_unix = 1;
        } else if (strcmp(line, "MemoryDenyWriteExecute") == 0) {
            deny_wx = strcmp(value, "yes") == 0 || strcmp(value, "true") == 0;
        }
    }
    fclose(in);
    if (!seen_filter) die("%s has no SystemCallFilter=", path);
}

typedef struct program {
    struct sock_filter ins[4096];
    unsigned short n;
} program;

static void emit(program *p, struct sock_filter f) {
    if (p->n == sizeof p->ins / sizeof *p->ins) die("the filter is too long%s", "");
    p->ins[p->n++] = f;
}

#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8 * (i))

/* Returns `action` for nr when its masked argument equals value; else goes on. */
static void return_if_arg(program *p, int nr, int arg, uint32_t mask, uint32_t value,
                          uint32_t action) {
    if (nr < 0) return;
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 5));
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(arg)));
    emit(p, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1));
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action));
    emit(p,
         (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
}

static void build(program *p, int report) {
    uint32_t deny = report ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_ERRNO | (uint32_t)deny_errno;
    uint32_t deny_af = report ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_ERRNO | EAFNOSUPPORT;
    p->n = 0;
    emit(p, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                         offsetof(struct seccomp_data, arch)));
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0));
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny));
    emit(p,
         (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)));
#if defined(__x86_64__)
    /* x32 system calls are another architecture. */
    emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x40000000, 0, 1));
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny));
#endif
    if (restrict_unix) {
        /* socket(family, ...) and socketpair: AF_UNIX only. */
        return_if_arg(p, nr_of("socket"), 0, 0xffffffff, AF_UNIX, SECCOMP_RET_ALLOW);
        emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr_of("socket"),
                                             0, 1));
        emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny_af));
        return_if_arg(p, nr_of("socketpair"), 0, 0xffffffff, AF_UNIX, SECCOMP_RET_ALLOW);
        emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
                                             (uint32_t)nr_of("socketpair"), 0, 1));
        emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny_af));
    }
    if (deny_wx) {
        /* As systemd: no mapping both writable and executable, and no
         * making memory executable afterwards. */
        return_if_arg(p, nr_of("mmap"), 2, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC, deny);
        return_if_arg(p, nr_of("mprotect"), 2, PROT_EXEC, PROT_EXEC, deny);
        return_if_arg(p, nr_of("pkey_mprotect"), 2, PROT_EXEC, PROT_EXEC, deny);
    }
    for (int nr = 0; nr < MAX_NR; ++nr) {
        if (!allowed[nr]) continue;
        emit(p, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1));
        emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    }
    emit(p, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, deny));
}

static int install(program *p, unsigned flags) {
    struct sock_fprog fprog = {p->n, p->ins};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
}

static volatile pid_t child;

static void forward_signal(int signum) {
    if (child > 0) kill(child, signum);
}

/* --report: the child installs the filter with a listener and passes it here. */
static int supervise(program *p, char **argv) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        die("socketpair: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        /* Nobody would answer its denied calls without the supervisor. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = install(p, SECCOMP_FILTER_FLAG_NEW_LISTENER);
        if (fd < 0) _exit(126);
        char data = 0;
        char control[CMSG_SPACE(sizeof(int))];
        struct iovec iov = {&data, 1};
        struct msghdr msg = {0};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
        if (sendmsg(sv[1], &msg, 0) != 1) _exit(126);
        close(fd);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(sv[1]);
    /* Signals meant for the command (SIGTERM from a test) reach it. */
    child = pid;
    struct sigaction forward = {0};
    forward.sa_handler = forward_signal;
    sigaction(SIGTERM, &forward, NULL);
    sigaction(SIGINT, &forward, NULL);
    sigaction(SIGHUP, &forward, NULL);
    char data;
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&data, 1};
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    int listener = -1;
    if (recvmsg(sv[0], &msg, 0) == 1 && CMSG_FIRSTHDR(&msg))
        memcpy(&listener, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof listener);
    int status = 0;
    if (listener < 0) {
        waitpid(pid, &status, 0);
        die("the child could not install the filter%s", "");
    }
    for (;;) {
        struct pollfd pfd = {listener, POLLIN, 0};
        int r = poll(&pfd, 1, 100);
        if (r > 0 && (pfd.revents & POLLIN)) {
            struct seccomp_notif req;
            struct seccomp_notif_resp resp;
            memset(&req, 0, sizeof req);
            if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
                int nr = req.data.nr;
                int af = nr == nr_of("socket") || nr == nr_of("socketpair");
                fprintf(stderr, "syscall-filter: denied %s (%d)%s\n", name_of(nr), nr,
                        af ? " for its address family" : "");
                memset(&resp, 0, sizeof resp);
                resp.id = req.id;
                resp.error = -(af ? EAFNOSUPPORT : deny_errno);
                ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
            }
        }
        if (waitpid(pid, &status, WNOHANG) == pid) break;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    int report = 0, i = 1;
    for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--") != 0; ++i) {
        if (strcmp(argv[i], "--report") == 0)
            report = 1;
        else if (strcmp(argv[i], "--mdwe") == 0)
            deny_wx = 2;
        else
            die("unknown option %s", argv[i]);
    }
    if (i + 2 >= argc || strcmp(argv[i + 1], "--") != 0) {
        fputs("usage: syscall-filter [--report] [--mdwe] UNIT -- COMMAND [ARG...]\n", stderr);
        return 2;
    }
    int forced_wx = deny_wx;
    read_unit(argv[i]);
    if (forced_wx) deny_wx = 1;
    program *p = calloc(1, sizeof *p);
    if (!p) die("out of memory%s", "");
    build(p, report);
    char **command = argv + i + 2;
    if (report) return supervise(p, command);
    if (install(p, 0) != 0) die("cannot install the filter: %s", strerror(errno));
    execvp(command[0], command);
    fprintf(stderr, "syscall-filter: %s: %s\n", command[0], strerror(errno));
    return 127;
}
