#include "server/resource_limits.h"

namespace salus::server {

std::string limit_message(const std::string &what, uint64_t limit, const char *key) {
    return what + " (limit " + std::to_string(limit) + ", [limits] " + key + ")";
}

} // namespace salus::server
