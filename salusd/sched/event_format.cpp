#include "sched/event_format.h"

namespace salus::sched {

const char *event_kind_name(EventKind kind) {
    switch (kind) {
    case EventKind::submit:
        return "submit";
    case EventKind::wait:
        return "wait";
    case EventKind::refuse:
        return "refuse";
    case EventKind::admit:
        return "admit";
    case EventKind::join:
        return "join";
    case EventKind::move:
        return "move";
    case EventKind::request:
        return "request";
    case EventKind::start:
        return "start";
    case EventKind::end:
        return "end";
    case EventKind::job_switch:
        return "switch";
    case EventKind::hold:
        return "hold";
    case EventKind::unhold:
        return "unhold";
    case EventKind::close:
        return "close";
    case EventKind::pause:
        return "pause";
    case EventKind::resume:
        return "resume";
    case EventKind::dropped:
        return "dropped";
    }
    return "?";
}

bool event_has_lane(EventKind kind) {
    switch (kind) {
    case EventKind::admit:
    case EventKind::join:
    case EventKind::move:
    case EventKind::start:
    case EventKind::end:
    case EventKind::job_switch:
    case EventKind::hold:
    case EventKind::unhold:
        return true;
    default:
        return false;
    }
}

std::string seconds(TimeNs ns) {
    std::string frac = std::to_string(ns % 1'000'000'000 / 1000);
    return std::to_string(ns / 1'000'000'000) + "." + std::string(6 - frac.size(), '0') + frac;
}

namespace {

void append_field(std::string &out, std::string_view text) {
    for (char c : text) out += c == ',' || c == '\n' || c == '\r' ? '_' : c;
}

} // namespace

void append_event_line(std::string &out, TimeNs t, EventKind kind, std::string_view job,
                       LaneId lane, std::string_view detail) {
    out += seconds(t);
    out += ',';
    out += event_kind_name(kind);
    out += ',';
    append_field(out, job);
    out += ',';
    if (event_has_lane(kind)) out += std::to_string(lane);
    out += ',';
    append_field(out, detail);
    out += '\n';
}

} // namespace salus::sched
