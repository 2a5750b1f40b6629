/* salusctl: inspect and steer a running salusd through the public libsalus API.
 *
 *   salusctl [--socket PATH] [--json] COMMAND [ARGS]
 */
#include "salusctl.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: salusctl [--socket PATH] [--json] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status              device, pool, lanes with their sessions and memory,\n"
    "                      policy, draining, job switches\n"
    "  sessions            one line per session of every client\n"
    "  policy [NAME]       print the scheduling policy, or set it to NAME\n"
    "                      (fifo, srtf, pack, fair, priority)\n"
    "  drain [--wait]      refuse new sessions while the open ones go on;\n"
    "                      --wait returns once no session is open\n"
    "  drain --cancel      admit new sessions again\n"
    "  metrics             the daemon state in the Prometheus text format\n"
    "  close ID            close session ID (another user's: administrators only)\n"
    "  tenant [list]       the tenants: cluster jobs with a memory budget\n"
    "  tenant set JOB USER MEM [PRIORITY [WEIGHT]]\n"
    "                      register job JOB of USER with a budget of MEM\n"
    "                      (e.g. 8G), or update it (administrators)\n"
    "  tenant end JOB      close the job's sessions, free their memory (administrators)\n"
    "\n"
    "Options:\n"
    "  --socket PATH       the daemon's socket (default: $SALUS_SOCKET, else the\n"
    "                      per-user or system default path)\n"
    "  --json              JSON output (every command but metrics)\n"
    "  -h, --help          show this help\n"
    "  --version           show the version\n";

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("salusctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'salusctl --help' for more information.\n", stderr);
    return EXIT_USAGE;
}

typedef struct command {
    const char *name;
    int max_args;
} command;

static const command commands[] = {
    {"status", 0},  {"sessions", 0}, {"policy", 1}, {"drain", 0},
    {"metrics", 0}, {"tenant", 6},   {"close", 1},
};

int main(int argc, char **argv) {
    enum { OPT_SOCKET = 256, OPT_JSON, OPT_WAIT, OPT_CANCEL, OPT_VERSION };
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, OPT_SOCKET},
        {"json", no_argument, NULL, OPT_JSON},
        {"wait", no_argument, NULL, OPT_WAIT},
        {"cancel", no_argument, NULL, OPT_CANCEL},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0},
    };
    const char *socket_path = NULL;
    int json = 0, wait = 0, cancel = 0;
    int opt;
    opterr = 0; /* report bad options in our own "salusctl:" form */
    /* getopt_long permutes, so options may also follow the command. */
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_SOCKET:
            socket_path = optarg;
            break;
        case OPT_JSON:
            json = 1;
            break;
        case OPT_WAIT:
            wait = 1;
            break;
        case OPT_CANCEL:
            cancel = 1;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return EXIT_SUCCESS;
        case OPT_VERSION:
            puts("salusctl " SALUSCTL_VERSION);
            return EXIT_SUCCESS;
        case ':':
            return usage_error("option '%s' needs an argument", argv[optind - 1]);
        default:
            /* optopt names a bad short option; for a long one it is 0. */
            if (optopt) return usage_error("unknown option '-%c'", optopt);
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc) return usage_error("missing command");
    const char *cmd = argv[optind];
    int nargs = argc - optind - 1;
    const char *arg = nargs > 0 ? argv[optind + 1] : NULL;

    const command *found = NULL;
    for (size_t i = 0; i < sizeof commands / sizeof *commands; ++i)
        if (strcmp(cmd, commands[i].name) == 0) found = &commands[i];
    if (!found) return usage_error("unknown command '%s'", cmd);
    if (nargs > found->max_args) return usage_error("too many arguments for '%s'", cmd);
    int is_drain = strcmp(cmd, "drain") == 0;
    if ((wait || cancel) && !is_drain) return usage_error("--wait and --cancel go with 'drain'");
    if (wait && cancel) return usage_error("'drain' takes --wait or --cancel, not both");
    if (json && strcmp(cmd, "metrics") == 0)
        return usage_error("--json does not apply to 'metrics'");
    uint64_t close_id = 0;
    if (strcmp(cmd, "close") == 0) {
        char *end = NULL;
        errno = 0;
        if (!arg || arg[0] < '0' || arg[0] > '9') return usage_error("'close' takes a session id");
        close_id = strtoull(arg, &end, 10);
        if (*end || errno) return usage_error("'%s' is not a session id", arg);
    }

    salus_connect_options copts;
    salus_connect_options_init(&copts, SALUS_CONNECT_OPTIONS_VERSION);
    copts.socket_path = socket_path;
    copts.client_name = "salusctl";
    salus_client *client = NULL;
    int rc = salus_connect(&copts, &client);
    if (rc < 0) return salus_failure("connect", rc);

    int status;
    if (strcmp(cmd, "status") == 0)
        status = cmd_status(client, json);
    else if (strcmp(cmd, "sessions") == 0)
        status = cmd_sessions(client, json);
    else if (strcmp(cmd, "policy") == 0)
        status = cmd_policy(client, arg, json);
    else if (is_drain)
        status = cmd_drain(client, wait, cancel, json);
    else if (strcmp(cmd, "tenant") == 0)
        status = cmd_tenant(client, nargs, argv + optind + 1, json);
    else if (strcmp(cmd, "close") == 0)
        status = cmd_close(client, close_id, json);
    else
        status = cmd_metrics(client);
    salus_disconnect(client);
    if (status == EXIT_SUCCESS && fflush(stdout) != 0) {
        perror("salusctl: write");
        return EXIT_FAILURE;
    }
    return status;
}
