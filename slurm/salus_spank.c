/* SPANK plugin: ties Slurm jobs to salusd tenants.
 *
 * A job submitted with --salus-mem=SIZE (and optionally --salus-priority=N,
 * --salus-weight=W) is registered with the node's salusd as a tenant before
 * its tasks start: the job id, the job's user, the budget, the priority and
 * weight. The tasks get SALUS_SOCKET and SALUS_TENANT, so that libsalus
 * finds the daemon and charges their sessions to the job. The job epilog
 * ends the tenant: salusd closes the job's sessions and frees their memory
 * even when its processes were killed or escaped the job.
 *
 * plugstack.conf:  required /usr/lib/x86_64-linux-gnu/slurm-wlm/salus.so [socket=PATH]
 */
#include "bytes.h"

#include <salus/salus.h>
#include <slurm/spank.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The macro ends with its own semicolon. */
SPANK_PLUGIN(salus, 1)

/* Where salusd.service listens, unless plugstack.conf says socket=PATH. */
#define DEFAULT_SOCKET "/run/salus/salusd.sock"

static uint64_t budget_bytes; /* 0: the job did not ask for Salus memory */
static int32_t priority;
static double weight = 1.0;
static const char *socket_path = DEFAULT_SOCKET;

static int opt_mem(int val, const char *optarg, int remote) {
    (void)val;
    (void)remote;
    if (!optarg || parse_bytes(optarg, &budget_bytes) != 0 || budget_bytes == 0) {
        slurm_error("salus: --salus-mem=%s is not a memory size (e.g. 8G, 512M)",
                    optarg ? optarg : "");
        return ESPANK_BAD_ARG;
    }
    return ESPANK_SUCCESS;
}

static int opt_priority(int val, const char *optarg, int remote) {
    (void)val;
    (void)remote;
    char *end = NULL;
    errno = 0;
    long p = optarg ? strtol(optarg, &end, 10) : 0;
    if (!optarg || !*optarg || *end || errno || p < INT32_MIN || p > INT32_MAX) {
        slurm_error("salus: --salus-priority=%s is not an integer", optarg ? optarg : "");
        return ESPANK_BAD_ARG;
    }
    priority = (int32_t)p;
    return ESPANK_SUCCESS;
}

static int opt_weight(int val, const char *optarg, int remote) {
    (void)val;
    (void)remote;
    char *end = NULL;
    double w = optarg ? strtod(optarg, &end) : 0;
    if (!optarg || !*optarg || *end || !(w > 0) || w > 1e9) {
        slurm_error("salus: --salus-weight=%s is not a number above 0", optarg ? optarg : "");
        return ESPANK_BAD_ARG;
    }
    weight = w;
    return ESPANK_SUCCESS;
}

static struct spank_option salus_options[] = {
    {"salus-mem", "SIZE",
     "Salus device memory budget of the job on each node (e.g. 8G); its sessions are "
     "refused beyond it",
     1, 0, opt_mem},
    {"salus-priority", "N", "priority of the job's Salus sessions (default 0)", 1, 0, opt_priority},
    {"salus-weight", "W", "weight of the job's Salus sessions under the fair policy (default 1)", 1,
     0, opt_weight},
    SPANK_OPTIONS_TABLE_END,
};

/* plugstack.conf arguments: socket=PATH. */
static int parse_args(int argc, char **argv) {
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "socket=", 7) == 0 && argv[i][7]) {
            socket_path = argv[i] + 7;
        } else {
            slurm_error("salus: unknown plugstack.conf argument '%s' (socket=PATH)", argv[i]);
            return -1;
        }
    }
    return 0;
}

static int connect_daemon(salus_client **client) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = socket_path;
    opts.client_name = "slurm-spank";
    int rc = salus_connect(&opts, client);
    if (rc < 0)
        slurm_error("salus: cannot reach salusd at %s: %s", socket_path, salus_last_error());
    return rc;
}

/* Registered here: Slurm 22.05's sbatch did not offer the options of a
 * spank_options table in our test, but takes registered ones. */
int slurm_spank_init(spank_t sp, int argc, char **argv) {
    for (struct spank_option *o = salus_options; o->name; ++o) {
        if (spank_option_register(sp, o) != ESPANK_SUCCESS) {
            slurm_error("salus: cannot register option --%s", o->name);
            return -1;
        }
    }
    return parse_args(argc, argv);
}

/* In slurmstepd as root, before the tasks become the user: registers the
 * tenant (again for every step: registering is idempotent) and hands the
 * tasks the socket and the tenant. */
int slurm_spank_user_init(spank_t sp, int argc, char **argv) {
    (void)argc;
    (void)argv;
    if (!spank_remote(sp)) return 0;
    if (spank_setenv(sp, "SALUS_SOCKET", socket_path, 1) != ESPANK_SUCCESS) {
        slurm_error("salus: cannot set SALUS_SOCKET in the job environment");
        return -1;
    }
    if (budget_bytes == 0) return 0;
    uint32_t job = 0;
    uid_t uid = 0;
    if (spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS ||
        spank_get_item(sp, S_JOB_UID, &uid) != ESPANK_SUCCESS) {
        slurm_error("salus: cannot read the job id or user");
        return -1;
    }
    salus_client *client = NULL;
    if (connect_daemon(&client) < 0) return -1;
    salus_tenant t;
    salus_tenant_init(&t, SALUS_TENANT_VERSION);
    t.id = job;
    t.uid = (uint32_t)uid;
    t.budget_bytes = budget_bytes;
    t.priority = priority;
    t.weight = weight;
    int rc = salus_set_tenant(client, &t, NULL);
    if (rc < 0)
        slurm_error("salus: cannot register job %" PRIu32 ": %s", job,
                    salus_client_last_error(client));
    salus_disconnect(client);
    if (rc < 0) return -1;
    char id[16];
    snprintf(id, sizeof id, "%" PRIu32, job);
    if (spank_setenv(sp, "SALUS_TENANT", id, 1) != ESPANK_SUCCESS) {
        slurm_error("salus: cannot set SALUS_TENANT in the job environment");
        return -1;
    }
    slurm_info("salus: job %" PRIu32 " registered with a budget of %" PRIu64 " bytes", job,
               budget_bytes);
    return 0;
}

/* In slurmd's epilog, as root, after the job's processes were killed: ends
 * the tenant, whatever its processes left behind. A job without a tenant
 * (no --salus-mem) is nothing to end. */
int slurm_spank_job_epilog(spank_t sp, int argc, char **argv) {
    /* The job-script context calls no slurm_spank_init: read the arguments here. */
    if (parse_args(argc, argv) != 0) return -1;
    uint32_t job = 0;
    if (spank_get_item(sp, S_JOB_ID, &job) != ESPANK_SUCCESS) return 0;
    salus_client *client = NULL;
    /* No daemon: nothing of the job is left in it. */
    if (connect_daemon(&client) < 0) return 0;
    uint32_t closed = 0;
    int rc = salus_end_tenant(client, job, &closed);
    if (rc == 0)
        slurm_info("salus: job %" PRIu32 " ended: %" PRIu32 " session(s) closed", job, closed);
    else if (rc != SALUS_EINVAL)
        slurm_error("salus: cannot end job %" PRIu32 ": %s", job, salus_client_last_error(client));
    salus_disconnect(client);
    return 0;
}
