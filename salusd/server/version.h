// The daemon's version, from the meson project (see server/meson.build).
#pragma once

namespace salus::server {

constexpr const char *kSalusdVersion = SALUSD_VERSION;

} // namespace salus::server
