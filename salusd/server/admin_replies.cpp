#include "server/admin_replies.h"

#include <vector>

namespace salus::server {

Reply list_sessions_reply(uint64_t request_id, const SessionTable &sessions, Engine &engine) {
    flatbuffers::FlatBufferBuilder fbb(128 + 160 * sessions.size());
    std::vector<flatbuffers::Offset<wire::SessionInfo>> infos;
    infos.reserve(sessions.size());
    for (const auto &entry : sessions) {
        const Session &s = *entry.second;
        std::optional<sched::SessionStats> stats = engine.stats(s.id);
        std::optional<SessionPlacement> where = engine.placement(s.id);
        auto name = fbb.CreateString(s.name);
        const char *state_name = stats ? sched::session_state_name(stats->state) : "queued";
        if (s.closing) state_name = "closing";
        auto state = fbb.CreateString(state_name);
        wire::SessionInfoBuilder info(fbb);
        info.add_session_id(s.id);
        info.add_name(name);
        info.add_client_pid(s.client_pid);
        info.add_persistent_bytes(s.params.persistent_bytes);
        info.add_ephemeral_bytes(s.params.ephemeral_bytes);
        info.add_iterations(s.iterations);
        info.add_run_ns(s.run_ns);
        info.add_state(state);
        if (where) info.add_lane(where->lane.lane);
        info.add_declared_iterations(s.params.declared_iterations);
        info.add_priority(s.params.priority);
        info.add_weight(s.params.weight);
        if (stats) {
            info.add_pending(static_cast<uint32_t>(stats->iterations_queued) +
                             (stats->state == sched::SessionState::running ? 1u : 0u));
            info.add_queueing_ns(stats->queueing_delay_ns);
            info.add_mean_iteration_ns(stats->mean_iteration_ns());
            info.add_admitted_ns(stats->admitted_ns);
        }
        infos.push_back(info.Finish());
    }
    auto body = wire::CreateListSessionsReplyDirect(fbb, &infos);
    return finish_message(fbb, request_id, wire::Body::ListSessionsReply, body.Union());
}

Reply status_reply(uint64_t request_id, const std::string &device, Engine &engine,
                   size_t open_sessions) {
    EngineStatus st = engine.status();
    flatbuffers::FlatBufferBuilder fbb(512 + 128 * st.lanes.size());
    std::vector<flatbuffers::Offset<wire::LaneStatus>> lanes;
    for (const LaneInfo &lane : st.lanes) {
        std::vector<uint64_t> ids;
        for (const SessionPlacement &p : lane.sessions) ids.push_back(p.session);
        lanes.push_back(wire::CreateLaneStatusDirect(fbb, lane.layout.lane, lane.layout.base,
                                                     lane.layout.capacity,
                                                     lane.layout.ephemeral_bytes, &ids));
    }
    auto body = wire::CreateStatusReplyDirect(
        fbb, device.c_str(), sched::policy_name(engine.policy()),
        lanes::admission_mode_name(engine.mode()), st.pool_bytes, st.free_bytes, &lanes, &st.queued,
        static_cast<uint32_t>(open_sessions), st.switches, st.switch_p50_ns, st.switch_p99_ns);
    return finish_message(fbb, request_id, wire::Body::StatusReply, body.Union());
}

Reply set_policy_reply(uint64_t request_id, sched::Policy policy, sched::Policy previous) {
    flatbuffers::FlatBufferBuilder fbb(64);
    auto body = wire::CreateSetPolicyReplyDirect(fbb, sched::policy_name(policy),
                                                 sched::policy_name(previous));
    return finish_message(fbb, request_id, wire::Body::SetPolicyReply, body.Union());
}

} // namespace salus::server
