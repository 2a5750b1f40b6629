// Request handling: the handshake, sessions and their iterations, and the
// admin requests. Runs on the loop thread; session preparation goes to the
// worker pool, iterations to the engine's lanes.
#pragma once

#include "device/device.h"
#include "server/access.h"
#include "server/admin_replies.h"
#include "server/connection.h"
#include "server/engine.h"
#include "server/idle_trim.h"
#include "server/resource_limits.h"
#include "server/session.h"
#include "server/tenants.h"
#include "server/uid_limits.h"
#include "server/worker_pool.h"

#include <deque>
#include <functional>

namespace salus::server {

class Dispatcher {
  public:
    // The live, open connection with this id, or nullptr.
    using FindConnection = std::function<Connection *(uint64_t id)>;

    // `limits` are read as they are at each request (a reload applies).
    Dispatcher(Device *device, WorkerPool *pool, const Limits *limits,
               FindConnection find_connection);

    // Who may do what; the server sets its rules at start and on SIGHUP.
    Access &access() { return access_; }

    // The engine whose lanes run the iterations; set before the first request.
    void set_engine(Engine *engine) { engine_ = engine; }
    // Engine callbacks (loop thread).
    void on_iteration_done(IterationDone &done);
    void on_admitted(const SessionPtr &session);
    // The device is lost: every iteration of `work` and the creation of every
    // session of it fails with `message`.
    void fail_lost(const std::string &message, LostWork &work);

    void handle(Connection &connection, RequestFramePtr frame, uint64_t arrival_ns);
    // The connection is gone: its sessions close, queued iterations are
    // dropped, an iteration in flight finishes and its result is discarded.
    void drop_connection(Connection &connection);

    // Draining (the Drain request): new sessions are refused with
    // SALUS_ESHUTDOWN while the open ones go on.
    bool draining() const { return draining_; }
    // Shutting down: new sessions and iterations are refused; sessions
    // waiting for device memory are refused at once. Those queued finish.
    void begin_shutdown();
    bool shutting_down() const { return shutting_down_; }
    // Whether an iteration is queued, runs or has its reply being written,
    // or a session is being created.
    bool has_work();
    // The drain timeout passed: every queued and running iteration is
    // answered with SALUS_ESHUTDOWN saying `why`; nothing runs any more.
    void abandon_work(const std::string &why);

  private:
    struct Creation;
    struct GraphAddition;

    void on_hello(Connection &c, uint64_t id, const wire::Hello &hello);
    void on_create_session(Connection &c, uint64_t id, RequestFramePtr frame);
    void on_session_created(Creation &creation);
    void on_run_iteration(Connection &c, uint64_t id, RequestFramePtr frame, uint64_t arrival_ns);
    void on_close_session(Connection &c, uint64_t id, const wire::CloseSession &request);
    void on_add_graph(Connection &c, uint64_t id, RequestFramePtr frame);
    void on_graph_prepared(GraphAddition &addition);
    void on_read_variables(Connection &c, uint64_t id, RequestFramePtr frame, uint64_t arrival_ns);
    void on_write_variables(Connection &c, uint64_t id, RequestFramePtr frame, uint64_t arrival_ns);
    // Queues work on the session's lane, behind what the client sent before;
    // its reply will take `reply_bytes` at most.
    void enqueue_work(Connection &c, const SessionPtr &session, uint64_t id, RequestFramePtr frame,
                      QueuedIteration work, uint64_t reply_bytes, uint64_t arrival_ns);
    // Why another session of this connection is refused now
    // ([limits] sessions-per-*), or "".
    std::string session_limit(const Connection &c) const;
    void on_set_policy(Connection &c, uint64_t id, const wire::SetPolicy &request);
    void on_list_sessions(Connection &c, uint64_t id);
    void on_get_status(Connection &c, uint64_t id);
    void on_drain(Connection &c, uint64_t id, const wire::Drain &request);
    // Tenants (dispatcher_tenants.cpp).
    void on_set_tenant(Connection &c, uint64_t id, const wire::SetTenant &request);
    void on_end_tenant(Connection &c, uint64_t id, const wire::EndTenant &request);
    void on_list_tenants(Connection &c, uint64_t id);
    // Charges a new session's P + T to its connection's tenant, whose
    // priority and weight it takes; SALUS_ERESOURCE over the budget.
    Status charge_tenant(const Connection &c, sched::SessionParams *params);
    // Why a new session is refused now, or "" when it is not.
    std::string refusal() const;

    // The session `session_id` of this connection, or nullptr after replying
    // SALUS_ENOSESSION.
    SessionPtr find_owned_session(Connection &c, uint64_t request_id, uint64_t session_id);
    // The same, of any connection when `any_owner`.
    SessionPtr find_session(Connection &c, uint64_t request_id, uint64_t session_id,
                            bool any_owner);
    void finish_close(const SessionPtr &session);
    // sessions_ and open_per_uid_ change together, only through these.
    void insert_session(const SessionPtr &session);
    void erase_session(uint64_t session_id);
    // Ends the session in the engine and keeps its last report for listings.
    void retire(const SessionPtr &session);

    Device *device_;
    WorkerPool *pool_;
    const Limits *limits_;
    FindConnection find_connection_;
    Engine *engine_ = nullptr;
    Access access_;
    SessionTable sessions_;
    TenantTable tenants_;
    std::deque<SessionReport> closed_; // the most recent, oldest first
    IdleTrim idle_trim_;
    uint64_t next_session_id_ = 1;
    unsigned creations_in_flight_ = 0; // CreateSessions on the workers
    UidCounter creating_per_uid_;      // ...by uid, for sessions-per-uid
    UidCounter open_per_uid_;          // sessions_ by uid, for the same
    bool draining_ = false;
    bool shutting_down_ = false;
};

} // namespace salus::server
