/* SPDX-License-Identifier: MIT */
/*
 * libsalus: the client library of the Salus GPU-sharing service.
 *
 * Conventions (as in libgit2 and libsystemd):
 *  - every symbol has the salus_ prefix; handles are opaque;
 *  - functions return 0 on success or a negative SALUS_E... code;
 *  - output parameters are written only on success;
 *  - a failing call records a message, read with salus_last_error() on the
 *    same thread, or salus_client_last_error() for calls on a client;
 *  - free functions accept NULL;
 *  - option structs start with a version field: initialise them with the
 *    matching *_options_init() so old binaries keep working with new libraries.
 *
 * A salus_client may be used from several threads at once.
 *
 * When the daemon shuts down (SIGTERM) it tells every client, lets the
 * iterations it already queued finish within its drain timeout, and answers
 * everything else with SALUS_ESHUTDOWN; once it has closed the connection,
 * calls on the client fail with SALUS_ECONNECT, the message saying why. No
 * call waits for a daemon that is gone.
 */
#ifndef SALUS_SALUS_H
#define SALUS_SALUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SALUS_EXTERN __attribute__((visibility("default")))
#else
#define SALUS_EXTERN
#endif

/* The wire protocol version this library speaks. */
#define SALUS_PROTOCOL_VERSION 1

/* Error codes. Always negative; 0 is success. */
enum salus_error {
    SALUS_OK = 0,
    SALUS_EINVAL = -1,     /* invalid argument */
    SALUS_ENOMEM = -2,     /* out of host memory */
    SALUS_ECONNECT = -3,   /* cannot reach the daemon, or it went away */
    SALUS_EPROTO = -4,     /* malformed or unexpected message */
    SALUS_EVERSION = -5,   /* protocol versions do not match */
    SALUS_EGRAPH = -6,     /* the graph is invalid */
    SALUS_ENOSESSION = -7, /* unknown or closed session */
    SALUS_ESHAPE = -8,     /* a fed tensor has the wrong dtype, shape or size */
    SALUS_ETOOBIG = -9,    /* over a configured size limit */
    SALUS_EEXEC = -10,     /* a kernel failed during an iteration */
    SALUS_ENOTSUP = -11,   /* valid but not supported by this daemon */
    SALUS_ERESOURCE = -12, /* the daemon lacks device memory for this */
    SALUS_ECANCELED = -13, /* the iteration was dropped before it ran */
    SALUS_EINTERNAL = -14, /* a bug: please report it */
    SALUS_ESHUTDOWN = -15, /* the daemon is draining or shutting down */
    SALUS_EPERM = -16      /* not permitted to this user (since 0.4) */
};

/* Element types of tensors. Every dtype can be fed, fetched and passed
 * through Identity and Reshape; the computing ops take F32, arithmetic also
 * I32, I64 and F64 (see libsalus(3)). */
typedef enum salus_dtype {
    SALUS_DTYPE_F32 = 0,
    SALUS_DTYPE_F16 = 1,
    SALUS_DTYPE_BF16 = 2,
    SALUS_DTYPE_I32 = 3,
    SALUS_DTYPE_I64 = 4,
    SALUS_DTYPE_BOOL = 5, /* one byte, 0 or 1 (since 0.3) */
    SALUS_DTYPE_F64 = 6   /* IEEE double (since 0.3) */
} salus_dtype;

/* Largest tensor rank accepted anywhere. */
#define SALUS_MAX_RANK 8

/* Names the daemon shows to others: valid UTF-8 without control characters,
 * of at most these many bytes, else SALUS_EINVAL. A session name (and an
 * added graph's) fits salus_session_info.name; a client name, a file name. */
#define SALUS_MAX_SESSION_NAME_BYTES 63
#define SALUS_MAX_CLIENT_NAME_BYTES 255

typedef struct salus_client salus_client;
typedef struct salus_graph salus_graph;
typedef struct salus_session salus_session;
typedef struct salus_tensor salus_tensor;
typedef struct salus_pending salus_pending;

/* ---- errors -------------------------------------------------------------- */

/* A static English description of an error code; never NULL. */
SALUS_EXTERN const char *salus_strerror(int error);

/* The message of the last failing call on this thread, or "" if none. The
 * pointer stays valid until the next libsalus call on this thread. */
SALUS_EXTERN const char *salus_last_error(void);

/* ---- connection ---------------------------------------------------------- */

#define SALUS_CONNECT_OPTIONS_VERSION 2

typedef struct salus_connect_options {
    unsigned int version; /* SALUS_CONNECT_OPTIONS_VERSION */
    /* NULL: $SALUS_SOCKET, else the default path (salus_default_socket_path),
     * else, when nothing is there, the system daemon's /run/salus/salusd.sock. */
    const char *socket_path;
    const char *client_name; /* shown by the daemon; NULL: the program name (see
                              * SALUS_MAX_CLIENT_NAME_BYTES) */
    /* Version 2 (0.4): the tenant (a cluster job registered with the daemon,
     * see salus_set_tenant) this client's sessions are charged to; 0:
     * $SALUS_TENANT when set (Slurm jobs get it from the SPANK plugin), else
     * none. The daemon refuses the connection (SALUS_EINVAL) when the tenant
     * is not registered, SALUS_EPERM when it is another user's. */
    uint32_t tenant;
} salus_connect_options;

SALUS_EXTERN int salus_connect_options_init(salus_connect_options *opts, unsigned int version);

/* Writes the default socket path into buf: $XDG_RUNTIME_DIR/salus/salusd.sock
 * for a user (/run/user/UID/... when that is unset), /run/salus/salusd.sock
 * for root; $SALUS_SOCKET is not consulted. Returns the length, or
 * SALUS_ETOOBIG if it does not fit with its terminating NUL. */
SALUS_EXTERN int salus_default_socket_path(char *buf, size_t size);

/* Connects and negotiates the protocol. opts may be NULL. */
SALUS_EXTERN int salus_connect(const salus_connect_options *opts, salus_client **out);

/* Closes the connection; the daemon closes the client's sessions. Session and
 * pending handles of this client must be freed before or after, never used. */
SALUS_EXTERN void salus_disconnect(salus_client *client);

/* The message of the last failing call on this client, or "". Valid until the
 * next libsalus call on this thread. */
SALUS_EXTERN const char *salus_client_last_error(const salus_client *client);

/* ---- host tensors -------------------------------------------------------- */

/* A dense row-major tensor in host memory owned by the handle. data may be
 * NULL (zero-filled). */
SALUS_EXTERN int salus_tensor_new(salus_dtype dtype, const int64_t *shape, size_t rank,
                                  const void *data, salus_tensor **out);
/* A view of the caller's data instead of a copy: nbytes must be what the
 * shape needs (data may be NULL only when that is 0). The memory stays the
 * caller's: it must outlive the handle, and salus_tensor_free frees only the
 * handle. libsalus never writes to a view it is given as an input, so data
 * may be read-only memory when the view is only fed. (Since 0.2.) */
SALUS_EXTERN int salus_tensor_wrap(salus_dtype dtype, const int64_t *shape, size_t rank, void *data,
                                   size_t nbytes, salus_tensor **out);
SALUS_EXTERN void salus_tensor_free(salus_tensor *tensor);
SALUS_EXTERN salus_dtype salus_tensor_dtype(const salus_tensor *tensor);
SALUS_EXTERN size_t salus_tensor_rank(const salus_tensor *tensor);
/* Dimension i, or -1 when i >= rank. */
SALUS_EXTERN int64_t salus_tensor_dim(const salus_tensor *tensor, size_t i);
SALUS_EXTERN size_t salus_tensor_nbytes(const salus_tensor *tensor);
SALUS_EXTERN void *salus_tensor_data(salus_tensor *tensor);
SALUS_EXTERN const void *salus_tensor_const_data(const salus_tensor *tensor);

/* ---- graph builder ------------------------------------------------------- */

/*
 * Tensors and nodes get ids in the order they are added, starting at 0. Op
 * names follow ONNX/aten (MatMul, Add, Relu, SoftmaxCrossEntropy, ...);
 * see libsalus(3) for the catalogue with inputs, outputs and attributes.
 */
SALUS_EXTERN int salus_graph_new(salus_graph **out);
SALUS_EXTERN void salus_graph_free(salus_graph *graph);

/* A tensor the client feeds on every iteration. Tensor names must not be
 * NULL (they name the tensor in the daemon's error messages). */
SALUS_EXTERN int salus_graph_add_input(salus_graph *graph, const char *name, salus_dtype dtype,
                                       const int64_t *shape, size_t rank, uint32_t *out_id);
/* A persistent tensor initialised from data (nbytes must match the shape),
 * updated in place by ops such as SGDUpdate. With nbytes 0 (data may then be
 * NULL) it starts at zero (since 0.3): for a value written afterwards with
 * salus_session_write_variables (weights over the frame limit go in several
 * writes), or for a graph added to a session, whose variables' values are
 * the session's anyway. */
SALUS_EXTERN int salus_graph_add_variable(salus_graph *graph, const char *name, salus_dtype dtype,
                                          const int64_t *shape, size_t rank, const void *data,
                                          size_t nbytes, uint32_t *out_id);
/* A persistent read-only tensor. */
SALUS_EXTERN int salus_graph_add_constant(salus_graph *graph, const char *name, salus_dtype dtype,
                                          const int64_t *shape, size_t rank, const void *data,
                                          size_t nbytes, uint32_t *out_id);

/* Adds a node running op on the given input tensors and creates n_outputs
 * new intermediate tensors for its results (shapes are inferred by the
 * daemon). Their ids are written to out_ids (may be NULL when n_outputs is
 * 0); the node id to out_node (may be NULL). name may be NULL. */
SALUS_EXTERN int salus_graph_add_node(salus_graph *graph, const char *op, const char *name,
                                      const uint32_t *inputs, size_t n_inputs, size_t n_outputs,
                                      uint32_t *out_ids, uint32_t *out_node);

/* Attributes of a node; setting a name twice replaces the value. */
SALUS_EXTERN int salus_graph_set_attr_int(salus_graph *graph, uint32_t node, const char *name,
                                          int64_t value);
SALUS_EXTERN int salus_graph_set_attr_float(salus_graph *graph, uint32_t node, const char *name,
                                            double value);
SALUS_EXTERN int salus_graph_set_attr_ints(salus_graph *graph, uint32_t node, const char *name,
                                           const int64_t *values, size_t n);
SALUS_EXTERN int salus_graph_set_attr_floats(salus_graph *graph, uint32_t node, const char *name,
                                             const double *values, size_t n);
SALUS_EXTERN int salus_graph_set_attr_string(salus_graph *graph, uint32_t node, const char *name,
                                             const char *value);

/* Declares tensor as an output, returned after every iteration in the order
 * of these calls. */
SALUS_EXTERN int salus_graph_add_output(salus_graph *graph, uint32_t tensor);

/* Writes the graph in the Salus IR (a salus.ir.Graph flatbuffer with the
 * "SLGR" identifier, see libsalus/protocol/graph.fbs) into a new buffer of
 * *size bytes, released with salus_buffer_free(). This is exactly what the
 * daemon receives; tools use it to store graphs or check them offline. */
SALUS_EXTERN int salus_graph_export(const salus_graph *graph, void **out, size_t *size);
SALUS_EXTERN void salus_buffer_free(void *buffer);

SALUS_EXTERN size_t salus_graph_tensor_count(const salus_graph *graph);
SALUS_EXTERN size_t salus_graph_node_count(const salus_graph *graph);

/* The dtype and shape the daemon will give a tensor: a declared tensor's own,
 * an intermediate's from shape inference over the nodes it depends on, with
 * the daemon's own op schema and rules (attributes set so far count, absent
 * ones take their defaults). shape has room for SALUS_MAX_RANK dimensions;
 * *rank gets the rank. Fails with SALUS_EGRAPH and a message naming the node
 * (unknown op, bad attribute, shapes that do not fit). (Since 0.3.) */
SALUS_EXTERN int salus_graph_tensor_shape(const salus_graph *graph, uint32_t tensor,
                                          salus_dtype *dtype, int64_t *shape, size_t *rank);

/* Runs the checks and shape inference of salus_graph_tensor_shape() on node
 * (and the nodes it depends on): for nodes without outputs, such as in-place
 * updates. 0, or SALUS_EINVAL (unknown node) or SALUS_EGRAPH. (Since 0.3.) */
SALUS_EXTERN int salus_graph_check_node(const salus_graph *graph, uint32_t node);

/* The ops this library knows (the daemon of the same version runs them all;
 * doc/ops.md is their catalogue): the number, and the name of op i, or NULL
 * past the end. (Since 0.3.) */
SALUS_EXTERN size_t salus_op_count(void);
SALUS_EXTERN const char *salus_op_name(size_t i);

/* ---- sessions ------------------------------------------------------------ */

#define SALUS_SESSION_OPTIONS_VERSION 2

typedef struct salus_session_options {
    unsigned int version;         /* SALUS_SESSION_OPTIONS_VERSION */
    const char *name;             /* shown to others; NULL: none (see
                                   * SALUS_MAX_SESSION_NAME_BYTES) */
    uint64_t declared_iterations; /* planned iterations, 0: unknown */
    int32_t priority;             /* higher runs first under the priority policy;
                                   * above the daemon's ceiling: SALUS_EPERM */
    double weight;                /* share under the fair policy; 0 means 1;
                                   * above the daemon's ceiling: SALUS_EPERM */
    /* version 2: */
    uint64_t seed;                /* mixed into every random op's seed (Dropout
                                   * masks); 0: the graph's seeds alone. Sessions
                                   * of one graph draw different masks only
                                   * with different seeds */
} salus_session_options;

SALUS_EXTERN int salus_session_options_init(salus_session_options *opts, unsigned int version);

/* Sends the graph, which the daemon validates, plans and admits. When the
 * device memory pool cannot hold the session yet, it waits in the daemon's
 * admission queue and this call blocks until it is admitted (listings show it
 * as "queued"); SALUS_ERESOURCE when it could never fit, SALUS_ESHUTDOWN
 * when the daemon drains or shuts down. opts may be NULL. The graph may be
 * freed or reused afterwards. */
SALUS_EXTERN int salus_session_create(salus_client *client, const salus_graph *graph,
                                      const salus_session_options *opts, salus_session **out);

/* Closes the session on the daemon (waiting for its queued iterations) and
 * frees the handle, also when the daemon is gone (then SALUS_ECONNECT).
 * Pending handles of the session stay valid and receive their results. NULL
 * is a no-op. */
SALUS_EXTERN int salus_session_close(salus_session *session);

SALUS_EXTERN uint64_t salus_session_id(const salus_session *session);
/* Exact persistent (P) and ephemeral (T) device bytes planned for the graph. */
SALUS_EXTERN uint64_t salus_session_persistent_bytes(const salus_session *session);
SALUS_EXTERN uint64_t salus_session_ephemeral_bytes(const salus_session *session);
SALUS_EXTERN size_t salus_session_output_count(const salus_session *session);

/*
 * Runs one iteration and waits for it. inputs[i] feeds tensor input_ids[i];
 * every input of the graph must be fed once (else SALUS_EINVAL; a wrong
 * dtype or shape gives SALUS_ESHAPE, and the session goes on). On success
 * outputs[0..n_outputs) receive new tensors, one per graph output in order;
 * n_outputs must equal salus_session_output_count(). outputs may be NULL
 * when n_outputs is 0.
 */
SALUS_EXTERN int salus_session_run(salus_session *session, const uint32_t *input_ids,
                                   const salus_tensor *const *inputs, size_t n_inputs,
                                   salus_tensor **outputs, size_t n_outputs);

/* Queues one iteration and returns at once; iterations of a session run in
 * the order they were submitted, several may be in flight. The inputs are
 * copied: the caller may free them on return. */
SALUS_EXTERN int salus_session_submit(salus_session *session, const uint32_t *input_ids,
                                      const salus_tensor *const *inputs, size_t n_inputs,
                                      salus_pending **out);

/* Waits for a submitted iteration; outputs as in salus_session_run. A
 * pending handle can be waited on once successfully: a failed iteration
 * reports the same error on every wait, a second wait after a success fails
 * with SALUS_EINVAL. */
SALUS_EXTERN int salus_pending_wait(salus_pending *pending, salus_tensor **outputs,
                                    size_t n_outputs);
/* 1 if the result has arrived (wait will not block), 0 if not. */
SALUS_EXTERN int salus_pending_ready(const salus_pending *pending);
/* Waits at most timeout_ms milliseconds (negative: no limit) for the result
 * to arrive without taking it: 1 when it has (or the connection failed), so
 * that salus_pending_wait will not block, 0 when the time ran out. A caller
 * that must stay responsive (to signals, to cancellation) waits in slices.
 * (Since 0.2.) */
SALUS_EXTERN int salus_pending_poll(const salus_pending *pending, int timeout_ms);
/* The 1-based index of the iteration in its session, after a successful wait. */
SALUS_EXTERN uint64_t salus_pending_iteration(const salus_pending *pending);
/* Frees the handle; an iteration still in flight runs, its result is dropped. */
SALUS_EXTERN void salus_pending_free(salus_pending *pending);

/* ---- several graphs, one set of variables (since 0.3) --------------------- */

/*
 * A session starts with the graph it was created with, graph 0. Another graph
 * added to it reads and updates the same variables: the model in evaluation
 * mode next to its training step, or the same step at another batch size (a
 * short last batch, inference at several sizes). Each variable and constant
 * of the added graph must be one of the session's, by name, with the same
 * dtype and shape (a constant with the same value; the initial values of the
 * added graph's variables are ignored): SALUS_EGRAPH otherwise. P does not
 * change; a graph whose T is over the room the session's lane holds for it
 * is refused with SALUS_ERESOURCE (create the session with its largest graph
 * first). name: unique in the session, NULL for none. *index receives the
 * graph's number (1, 2, ...).
 */
SALUS_EXTERN int salus_session_add_graph(salus_session *session, const salus_graph *graph,
                                         const char *name, uint32_t *index);
SALUS_EXTERN size_t salus_session_graph_count(const salus_session *session);
/* Outputs of graph `graph` (0 for an unknown graph). */
SALUS_EXTERN size_t salus_session_graph_output_count(const salus_session *session, uint32_t graph);
/* salus_session_submit and salus_session_run for graph `graph` of the session;
 * n_outputs as salus_session_graph_output_count(). Iterations of all the
 * session's graphs run one at a time, in the order they were submitted. */
SALUS_EXTERN int salus_session_submit_graph(salus_session *session, uint32_t graph,
                                            const uint32_t *input_ids,
                                            const salus_tensor *const *inputs, size_t n_inputs,
                                            salus_pending **out);
SALUS_EXTERN int salus_session_run_graph(salus_session *session, uint32_t graph,
                                         const uint32_t *input_ids,
                                         const salus_tensor *const *inputs, size_t n_inputs,
                                         salus_tensor **outputs, size_t n_outputs);

/*
 * Variable values, between iterations: a checkpoint, or weights loaded into a
 * running session. A read or write waits for the iterations submitted before
 * it and comes before those submitted after it. names are variables (or, for
 * reading, constants) of the session's graph 0.
 *
 * salus_session_read_variables fills values[0..n) with new tensors (free
 * them with salus_tensor_free); SALUS_EINVAL naming the first unknown name,
 * SALUS_ETOOBIG when the values are over the daemon's frame limit (read
 * fewer at a time). salus_session_write_variables writes values[i] into
 * variable names[i], each of the variable's dtype and shape (else
 * SALUS_ESHAPE and nothing is written).
 */
SALUS_EXTERN int salus_session_read_variables(salus_session *session, const char *const *names,
                                              size_t n, salus_tensor **values);
SALUS_EXTERN int salus_session_write_variables(salus_session *session, const char *const *names,
                                               const salus_tensor *const *values, size_t n);

/* ---- daemon state -------------------------------------------------------- */

/* The lane of a session still waiting for device memory. */
#define SALUS_NO_LANE UINT64_MAX

typedef struct salus_session_info {
    uint64_t session_id;
    char name[SALUS_MAX_SESSION_NAME_BYTES + 1];
    int32_t client_pid;
    /* The client's user id (getpwuid(3) names it), (uint32_t)-1 when unknown.
     * Added in 0.2 in what was padding: the struct keeps its size and layout. */
    uint32_t client_uid;
    uint64_t persistent_bytes; /* P */
    uint64_t ephemeral_bytes;  /* T */
    uint64_t iterations;       /* completed */
    uint32_t pending;          /* queued or running */
    /* The tenant (cluster job) it is charged to, 0 for none. Added in 0.4 in
     * what was padding: the struct keeps its size and layout. */
    uint32_t tenant;
    uint64_t run_ns; /* total execution time */
    char state[16];  /* queued, waiting, ready, running, closing, closed */
    uint64_t lane;   /* SALUS_NO_LANE while queued for memory */
    uint64_t declared_iterations;
    int32_t priority;
    double weight;
    uint64_t queueing_ns;       /* total time its iterations waited to start */
    uint64_t mean_iteration_ns; /* 0 before the first iteration */
    uint64_t admitted_ns;       /* daemon's monotonic clock; 0 while queued */
    uint64_t completed_ns;      /* when it closed; 0 while open */
} salus_session_info;

/* Lists the sessions of every client. Writes at most max entries into infos
 * (which may be NULL when max is 0) and the total number into *count. */
SALUS_EXTERN int salus_list_sessions(salus_client *client, salus_session_info *infos, size_t max,
                                     size_t *count);

/* Switches the daemon's scheduling policy: "fifo", "srtf", "pack", "fair" or
 * "priority" (SALUS_EINVAL for another name). It applies from the next
 * iteration boundary; running iterations finish. */
SALUS_EXTERN int salus_set_policy(salus_client *client, const char *policy);

typedef struct salus_status {
    char device[64];     /* e.g. "cpu (2 cores)" */
    char policy[16];     /* the scheduling policy */
    char admission[16];  /* "safe" (sum P + max T) or "static" (sum P + T) */
    uint64_t pool_bytes; /* the device memory pool */
    uint64_t free_bytes; /* pool memory outside every lane */
    uint32_t lanes;
    uint32_t open_sessions;
    uint32_t queued_sessions; /* waiting for device memory */
    /* Job switches inside a lane, from the end of one session's iteration
     * kernels to the start of another's, over recent switches. */
    uint64_t switches;
    uint64_t switch_p50_ns;
    uint64_t switch_p99_ns;
} salus_status;

/* The daemon's device, memory pool, lanes and policy. */
SALUS_EXTERN int salus_get_status(salus_client *client, salus_status *out);

#define SALUS_HOLD_STATS_VERSION 1

/* The scheduler's holds for synchronous clients since the daemon started
 * (salusd(8), Synchronous clients). The caller sets version with
 * salus_hold_stats_init(); the library fills the fields that version has. */
typedef struct salus_hold_stats {
    unsigned int version; /* SALUS_HOLD_STATS_VERSION */
    uint64_t granted;     /* holds begun */
    uint64_t returned;    /* the session's next iteration came within the hold */
    uint64_t expired;     /* it did not: the lane idled until the hold's end */
    uint64_t early;       /* ended by a preferred session, a close, a move or a setting */
    uint64_t held_ns;     /* time lanes spent held, over the holds that ended */
} salus_hold_stats;

SALUS_EXTERN int salus_hold_stats_init(salus_hold_stats *stats, unsigned int version);
SALUS_EXTERN int salus_get_hold_stats(salus_client *client, salus_hold_stats *stats);

#define SALUS_DEVICE_INFO_VERSION 1

/* The device the daemon runs sessions on. The caller sets version with
 * salus_device_info_init(); the library fills the fields that version has. */
typedef struct salus_device_info {
    unsigned int version; /* SALUS_DEVICE_INFO_VERSION */
    char type[16];        /* "cpu" or "cuda" */
    char name[128];       /* the CPU model or the GPU's name */
    int32_t index;        /* CUDA device ordinal; -1 for the CPU */
    uint64_t total_bytes; /* the device's memory */
    uint64_t free_bytes;  /* free now, as the system or driver says (outside the pool) */
    uint64_t pool_bytes;  /* the pool salusd claimed at start */
} salus_device_info;

SALUS_EXTERN int salus_device_info_init(salus_device_info *info, unsigned int version);
SALUS_EXTERN int salus_get_device_info(salus_client *client, salus_device_info *info);

/* One lane: a contiguous range of the pool and one stream of execution. */
typedef struct salus_lane_info {
    uint64_t lane;
    uint64_t base; /* its offset in the pool */
    uint64_t capacity;
    uint64_t persistent_bytes; /* sum of its sessions' P */
    uint64_t ephemeral_bytes;  /* its ephemeral region: max(T), sum(T) under static admission */
    uint32_t sessions;         /* sessions placed in it (see salus_session_info.lane) */
    char stream[48];           /* its execution stream, e.g. "thread 4242" */
} salus_lane_info;

/* Draining, before a restart or maintenance: with enable non-zero the daemon
 * refuses new sessions (salus_session_create fails with SALUS_ESHUTDOWN)
 * while the open ones go on; with enable 0 it admits sessions again. Sessions
 * already waiting for device memory stay queued. Draining lasts until it is
 * ended or the daemon restarts. SALUS_ESHUTDOWN when ending it while the
 * daemon shuts down. */
SALUS_EXTERN int salus_drain(salus_client *client, int enable);

/* Closes session session_id, of any client, as salus_session_close would
 * (its queued iterations finish first); its client's next request on it
 * fails with SALUS_ENOSESSION. Another user's session needs an administrator
 * (SALUS_EPERM); SALUS_ENOSESSION when there is no such open session. */
SALUS_EXTERN int salus_close_session_by_id(salus_client *client, uint64_t session_id);

/* Writes 1 to *draining while the daemon refuses new sessions (draining, or
 * shutting down), else 0. */
SALUS_EXTERN int salus_get_draining(salus_client *client, int *draining);

/* Lists the lanes, by offset in the pool. Writes at most max entries into
 * lanes (which may be NULL when max is 0) and the total number into *count. */
SALUS_EXTERN int salus_list_lanes(salus_client *client, salus_lane_info *lanes, size_t max,
                                  size_t *count);

/* ---- tenants (since 0.4) ------------------------------------------------ */

/*
 * A tenant is a cluster job (its Slurm job id) that an administrator
 * registers with the daemon: the user whose clients may name it (see
 * salus_connect_options.tenant), a memory budget that bounds the sum of P + T
 * of its sessions (a session over it is refused with SALUS_ERESOURCE naming
 * the budget), and the priority and weight its sessions run with. Ending it
 * closes its sessions and the connections that opened them, and frees their
 * memory. Registering, updating and ending need root (SALUS_EPERM otherwise).
 */
#define SALUS_TENANT_VERSION 1

typedef struct salus_tenant {
    unsigned int version;  /* SALUS_TENANT_VERSION */
    uint32_t id;           /* not 0: the Slurm job id */
    uint32_t uid;          /* the user whose clients may name it */
    int32_t priority;      /* its sessions' priority */
    uint64_t budget_bytes; /* bound on the sum of P + T of its sessions */
    double weight;         /* its sessions' weight (fair policy); above 0 */
    uint64_t used_bytes;   /* listed: P + T of its sessions now */
    uint32_t sessions;     /* listed: its open sessions */
} salus_tenant;

/* Zeroes *tenant and sets its version and a weight of 1. */
SALUS_EXTERN int salus_tenant_init(salus_tenant *tenant, unsigned int version);
/* Registers the tenant tenant->id, or updates its budget, priority and weight
 * (its uid cannot change: SALUS_EINVAL). A lower budget applies to sessions
 * opened later. *created (may be NULL) gets 1 when it was new. */
SALUS_EXTERN int salus_set_tenant(salus_client *client, const salus_tenant *tenant, int *created);
/* Ends tenant `id`: closes its sessions and their clients' connections and
 * frees their memory. SALUS_EINVAL when it is not registered. The number of
 * sessions closed goes to *closed_sessions (may be NULL). */
SALUS_EXTERN int salus_end_tenant(salus_client *client, uint32_t id, uint32_t *closed_sessions);
/* Lists the tenants. tenants[0..max) must have been initialised with
 * salus_tenant_init (the version says what to fill); the total goes to *count. */
SALUS_EXTERN int salus_list_tenants(salus_client *client, salus_tenant *tenants, size_t max,
                                    size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* SALUS_SALUS_H */
