// Reloading the configuration (SIGHUP): the keys that may change while
// sessions run take effect; the others are reported and kept.
#include "server/server.h"

#include "server/config_keys.h"
#include "server/log.h"
#include "server/notify.h"

#include <cstring>
#include <map>

namespace salus::server {

void Server::reload() {
    if (stopping_) {
        SALUS_LOG_INFO("received SIGHUP while shutting down: not reloading");
        return;
    }
    notify_reloading();
    SALUS_LOG_INFO("received SIGHUP: reloading the configuration");
    Options next;
    std::vector<std::string> errors = load_config_(&next);
    if (!errors.empty()) {
        for (const std::string &e : errors) SALUS_LOG_ERROR("reload refused: %s", e.c_str());
        SALUS_LOG_ERROR("reload refused: the running configuration stays as it was");
        notify_ready();
        return;
    }

    // How each reloadable key takes effect; configured_ holds its new value.
    const std::map<std::string, std::function<void()>> apply = {
        {"policy", [this] { engine_.set_policy(configured_.policy); }},
        {"max-overtakes", [this] { engine_.set_max_overtakes(configured_.max_overtakes); }},
        {"hold-max-us", [this] { engine_.set_hold_max(configured_.hold_max_us * 1000ull); }},
        // New connections are opened with it: the open ones negotiated theirs.
        {"max-frame-bytes", [this] { options_.max_frame_bytes = configured_.max_frame_bytes; }},
        {"drain-timeout", [this] { options_.drain_timeout_ms = configured_.drain_timeout_ms; }},
        {"verbose", [this] { set_verbose_logging(configured_.verbose); }},
        // Access is checked per request: the next one sees the new rules.
        {"admin-group", [this] { dispatcher_.access().set_rules(configured_.access); }},
        {"max-priority", [this] { dispatcher_.access().set_rules(configured_.access); }},
        {"max-weight", [this] { dispatcher_.access().set_rules(configured_.access); }},
    };
    std::string changes;
    for (const ConfigKey &key : config_keys()) {
        std::string before = key.format(configured_);
        std::string after = key.format(next);
        if (before == after) continue;
        auto applier = apply.find(key.name);
        // Every [limits] key: connections and the dispatcher read them live.
        std::function<void()> apply_limits = [this] { options_.limits = configured_.limits; };
        bool is_limit = std::strcmp(key.section, "limits") == 0;
        if (!key.reloadable || (applier == apply.end() && !is_limit)) {
            SALUS_LOG_WARNING("reload: [%s] %s changed from %s to %s, which needs a restart; "
                              "keeping the running value",
                              key.section, key.name, before.c_str(), after.c_str());
            continue;
        }
        std::string ignored;
        key.parse(after, &configured_, &ignored);
        (is_limit ? apply_limits : applier->second)();
        changes +=
            (changes.empty() ? "" : ", ") + std::string(key.name) + " " + before + " -> " + after;
    }
    if (changes.empty()) {
        SALUS_LOG_INFO("configuration reloaded: nothing to change");
    } else {
        SALUS_LOG_INFO("configuration reloaded: %s", changes.c_str());
    }
    notify_ready();
}

} // namespace salus::server
