#include "server/access.h"

#include "server/config_values.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace salus::server {

namespace {

// The groups of `uid` in the group database, when SO_PEERGROUPS is missing.
std::vector<uint32_t> user_groups(uint32_t uid, uint32_t gid) {
    std::vector<char> buf(16384);
    struct passwd pw, *found = nullptr;
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) != 0 || !found) return {};
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (getgrouplist(pw.pw_name, gid, groups.data(), &n) < 0) {
        groups.resize(static_cast<size_t>(n));
        if (getgrouplist(pw.pw_name, gid, groups.data(), &n) < 0) return {};
    }
    return std::vector<uint32_t>(groups.begin(), groups.begin() + n);
}

// The gid of group `name`, or false when there is no such group.
bool group_id(const std::string &name, uint32_t *gid) {
    std::vector<char> buf(16384);
    struct group gr, *found = nullptr;
    if (getgrnam_r(name.c_str(), &gr, buf.data(), buf.size(), &found) != 0 || !found) {
        return false;
    }
    *gid = gr.gr_gid;
    return true;
}

} // namespace

PeerIdentity read_peer_identity(int fd) {
    PeerIdentity peer;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return peer;
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    peer.gid = cred.gid;
    // The groups the process had when it connected (Linux 4.13 and later):
    // those of a process that dropped or added groups, not its user's.
    std::vector<gid_t> groups(64);
    len = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len);
    if (rc != 0 && errno == ERANGE) {
        groups.resize(len / sizeof(gid_t));
        rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &len);
    }
    if (rc == 0) {
        peer.groups.assign(groups.begin(), groups.begin() + len / sizeof(gid_t));
    } else {
        peer.groups = user_groups(peer.uid, peer.gid);
    }
    return peer;
}

bool Access::is_admin(const PeerIdentity &peer) const {
    if (peer.uid == PeerIdentity::kUnknown) return false;
    if (peer.uid == 0 || peer.uid == geteuid()) return true;
    // Looked up on every check, so a group created or changed after the
    // daemon started counts at once.
    uint32_t admin_gid = 0;
    if (!group_id(rules_.admin_group, &admin_gid)) return false;
    return peer.gid == admin_gid ||
           std::find(peer.groups.begin(), peer.groups.end(), admin_gid) != peer.groups.end();
}

Status Access::require_admin(const PeerIdentity &peer, std::string_view action) const {
    if (is_admin(peer)) return {};
    return Status(SALUS_EPERM,
                  std::string(action) + " needs root or membership of group " + rules_.admin_group);
}

Status Access::check_session_params(const PeerIdentity &peer,
                                    const sched::SessionParams &params) const {
    if (params.priority > rules_.max_priority) {
        return require_admin(peer, "priority " + std::to_string(params.priority) +
                                       " (above max-priority " +
                                       std::to_string(rules_.max_priority) + ")");
    }
    if (params.weight > rules_.max_weight) {
        return require_admin(peer, "weight " + format_real(params.weight) + " (above max-weight " +
                                       format_real(rules_.max_weight) + ")");
    }
    return {};
}

Visibility Access::visibility(const PeerIdentity &peer) const {
    Visibility v;
    v.everyone = is_admin(peer);
    v.uid = peer.uid;
    return v;
}

} // namespace salus::server
