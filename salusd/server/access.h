// Who may do what. Every request is authorized from the identity the kernel
// reports for the connection's peer (SO_PEERCRED, SO_PEERGROUPS), never from
// anything the client says. Administrators are root, the daemon's own user
// (whoever runs a personal daemon administers it) and the members of the
// admin group; everyone else may run sessions and see only their own.
//
// A handler for an admin-only request does:
//
//     if (Status st = access_.require_admin(c.peer(), "tenant"); !st.ok()) {
//         c.send_error(id, st.code(), st.message()); // SALUS_EPERM
//         return;
//     }
#pragma once

#include "common/status.h"
#include "sched/types.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace salus::server {

// The user at the other end of a connection, as the kernel saw it connect.
struct PeerIdentity {
    static constexpr uint32_t kUnknown = 0xFFFFFFFF;
    int pid = 0;
    uint32_t uid = kUnknown; // kUnknown: the socket did not say
    uint32_t gid = kUnknown;
    std::vector<uint32_t> groups; // supplementary groups
};

// The peer of the connected Unix socket `fd`. Its supplementary groups come
// from SO_PEERGROUPS, or, on kernels without it, from its user's group list.
PeerIdentity read_peer_identity(int fd);

// The configured part ([access] in salusd.conf; reloadable).
struct AccessRules {
    std::string admin_group = "salus-admin";
    int32_t max_priority = 0; // highest session priority a non-administrator may ask
    double max_weight = 1.0;  // highest fair-share weight a non-administrator may ask
};

// Whose sessions a listing shows: everyone's, or those of one user.
struct Visibility {
    bool everyone = false;
    uint32_t uid = PeerIdentity::kUnknown;
    bool shows(uint32_t owner_uid) const {
        return everyone || (uid != PeerIdentity::kUnknown && owner_uid == uid);
    }
};

class Access {
  public:
    void set_rules(AccessRules rules) { rules_ = std::move(rules); }
    const AccessRules &rules() const { return rules_; }

    // Root, the daemon's own user, or a member of the admin group (as its
    // primary or a supplementary group).
    bool is_admin(const PeerIdentity &peer) const;
    // OK for an administrator; else SALUS_EPERM saying "`action` needs root
    // or membership of group salus-admin".
    Status require_admin(const PeerIdentity &peer, std::string_view action) const;
    // A new session's priority and weight: above the ceilings needs an
    // administrator (SALUS_EPERM).
    Status check_session_params(const PeerIdentity &peer, const sched::SessionParams &params) const;
    // Everyone's sessions for administrators, else the peer's own.
    Visibility visibility(const PeerIdentity &peer) const;

  private:
    AccessRules rules_;
};

} // namespace salus::server
