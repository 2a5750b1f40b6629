#include "server/admin_replies.h"

#include <vector>

namespace salus::server {

SessionReport report_session(const Session &s, Engine &engine) {
    SessionReport r;
    r.id = s.id;
    r.name = s.name;
    r.client_pid = s.client_pid;
    r.client_uid = s.client_uid;
    r.tenant = s.tenant;
    r.params = s.params;
    r.iterations = s.iterations;
    r.run_ns = s.run_ns;
    std::optional<sched::SessionStats> stats = engine.stats(s.id);
    r.state = stats ? sched::session_state_name(stats->state) : "queued";
    if (s.closing) r.state = "closing";
    if (std::optional<SessionPlacement> where = engine.placement(s.id)) r.lane = where->lane.lane;
    if (stats) {
        r.pending = static_cast<uint32_t>(stats->iterations_queued) +
                    (stats->state == sched::SessionState::running ? 1u : 0u);
        r.queueing_ns = stats->queueing_delay_ns;
        r.mean_iteration_ns = stats->mean_iteration_ns();
        r.admitted_ns = stats->admitted_ns;
    }
    return r;
}

namespace {

flatbuffers::Offset<wire::SessionInfo> session_info(flatbuffers::FlatBufferBuilder &fbb,
                                                    const SessionReport &r) {
    auto name = fbb.CreateString(r.name);
    auto state = fbb.CreateString(r.state);
    wire::SessionInfoBuilder info(fbb);
    info.add_session_id(r.id);
    info.add_name(name);
    info.add_client_pid(r.client_pid);
    info.add_client_uid(r.client_uid);
    info.add_persistent_bytes(r.params.persistent_bytes);
    info.add_ephemeral_bytes(r.params.ephemeral_bytes);
    info.add_iterations(r.iterations);
    info.add_pending(r.pending);
    info.add_run_ns(r.run_ns);
    info.add_state(state);
    if (r.lane) info.add_lane(*r.lane);
    info.add_declared_iterations(r.params.declared_iterations);
    info.add_priority(r.params.priority);
    info.add_weight(r.params.weight);
    info.add_queueing_ns(r.queueing_ns);
    info.add_mean_iteration_ns(r.mean_iteration_ns);
    info.add_admitted_ns(r.admitted_ns);
    info.add_completed_ns(r.completed_ns);
    info.add_tenant(r.tenant);
    return info.Finish();
}

flatbuffers::Offset<wire::TenantInfo> tenant_info(flatbuffers::FlatBufferBuilder &fbb,
                                                  const Tenant &t) {
    return wire::CreateTenantInfo(fbb, t.id, t.uid, t.budget_bytes, t.priority, t.weight,
                                  t.used_bytes, t.sessions);
}

} // namespace

Reply list_sessions_reply(uint64_t request_id, const SessionTable &sessions,
                          const std::deque<SessionReport> &history, Engine &engine,
                          Visibility visible) {
    size_t n = sessions.size() + history.size();
    flatbuffers::FlatBufferBuilder fbb(128 + 192 * n);
    std::vector<flatbuffers::Offset<wire::SessionInfo>> infos;
    infos.reserve(n);
    for (const auto &entry : sessions) {
        if (!visible.shows(entry.second->client_uid)) continue;
        infos.push_back(session_info(fbb, report_session(*entry.second, engine)));
    }
    for (const SessionReport &r : history) {
        if (visible.shows(r.client_uid)) infos.push_back(session_info(fbb, r));
    }
    auto body = wire::CreateListSessionsReplyDirect(fbb, &infos);
    return finish_message(fbb, request_id, wire::Body::ListSessionsReply, body.Union());
}

Reply status_reply(uint64_t request_id, const Device &device, Engine &engine,
                   const SessionTable &sessions, AdmissionState admission, Visibility visible) {
    EngineStatus st = engine.status();
    auto shown = [&](uint64_t id) {
        auto it = sessions.find(id);
        return visible.everyone || (it != sessions.end() && visible.shows(it->second->client_uid));
    };
    std::vector<uint64_t> queued;
    for (uint64_t id : st.queued) {
        if (shown(id)) queued.push_back(id);
    }
    DeviceFacts facts = device.facts();
    flatbuffers::FlatBufferBuilder fbb(768 + 160 * st.lanes.size());
    std::vector<flatbuffers::Offset<wire::LaneStatus>> lanes;
    for (size_t i = 0; i < st.lanes.size(); ++i) {
        const LaneInfo &lane = st.lanes[i];
        std::vector<uint64_t> ids;
        for (const SessionPlacement &p : lane.sessions) {
            if (shown(p.session)) ids.push_back(p.session);
        }
        lanes.push_back(wire::CreateLaneStatusDirect(
            fbb, lane.layout.lane, lane.layout.base, lane.layout.capacity,
            lane.layout.ephemeral_bytes, &ids, lane.persistent_bytes, st.lane_streams[i].c_str()));
    }
    auto device_info =
        wire::CreateDeviceInfoDirect(fbb, device_type_name(device.type()), facts.name.c_str(),
                                     facts.index, facts.total_bytes, facts.free_bytes);
    const sched::HoldStats &h = st.holds;
    auto holds = wire::CreateHoldCounts(fbb, h.granted, h.returned, h.expired, h.early, h.held_ns);
    auto body = wire::CreateStatusReplyDirect(
        fbb, device.description().c_str(), sched::policy_name(engine.policy()),
        lanes::admission_mode_name(engine.mode()), st.pool_bytes, st.free_bytes, &lanes, &queued,
        static_cast<uint32_t>(sessions.size()), st.switches, st.switch_p50_ns, st.switch_p99_ns,
        device_info, admission.draining, admission.shutting_down, holds);
    return finish_message(fbb, request_id, wire::Body::StatusReply, body.Union());
}

Reply drain_reply(uint64_t request_id, bool draining, bool previous, uint32_t open_sessions) {
    flatbuffers::FlatBufferBuilder fbb(64);
    auto body = wire::CreateDrainReply(fbb, draining, previous, open_sessions);
    return finish_message(fbb, request_id, wire::Body::DrainReply, body.Union());
}

Reply set_policy_reply(uint64_t request_id, sched::Policy policy, sched::Policy previous) {
    flatbuffers::FlatBufferBuilder fbb(64);
    auto body = wire::CreateSetPolicyReplyDirect(fbb, sched::policy_name(policy),
                                                 sched::policy_name(previous));
    return finish_message(fbb, request_id, wire::Body::SetPolicyReply, body.Union());
}

Reply set_tenant_reply(uint64_t request_id, const Tenant &tenant, bool created) {
    flatbuffers::FlatBufferBuilder fbb(128);
    auto body = wire::CreateSetTenantReply(fbb, tenant_info(fbb, tenant), created);
    return finish_message(fbb, request_id, wire::Body::SetTenantReply, body.Union());
}

Reply end_tenant_reply(uint64_t request_id, uint32_t tenant, uint32_t closed_sessions,
                       uint64_t freed_bytes) {
    flatbuffers::FlatBufferBuilder fbb(64);
    auto body = wire::CreateEndTenantReply(fbb, tenant, closed_sessions, freed_bytes);
    return finish_message(fbb, request_id, wire::Body::EndTenantReply, body.Union());
}

Reply list_tenants_reply(uint64_t request_id, const TenantTable &tenants,
                         const Visibility &visible) {
    flatbuffers::FlatBufferBuilder fbb(64 + 96 * tenants.all().size());
    std::vector<flatbuffers::Offset<wire::TenantInfo>> infos;
    for (const auto &[id, t] : tenants.all()) {
        if (visible.shows(t.uid)) infos.push_back(tenant_info(fbb, t));
    }
    auto body = wire::CreateListTenantsReplyDirect(fbb, &infos);
    return finish_message(fbb, request_id, wire::Body::ListTenantsReply, body.Union());
}

} // namespace salus::server
