#include "server/names.h"

#include "utf8.h"

#include <cstdio>

namespace salus::server {

namespace {

const unsigned char *bytes(std::string_view text) {
    return reinterpret_cast<const unsigned char *>(text.data());
}

std::string hex_escape(const char *format, unsigned value) {
    char buf[8];
    std::snprintf(buf, sizeof buf, format, value);
    return buf;
}

} // namespace

Status check_name(std::string_view name, const char *what, size_t max_bytes) {
    if (name.size() > max_bytes) {
        return Status(SALUS_EINVAL, std::string(what) + " of " + std::to_string(name.size()) +
                                        " bytes is over the limit of " + std::to_string(max_bytes) +
                                        " bytes");
    }
    for (size_t at = 0; at < name.size();) {
        uint32_t cp = 0;
        size_t len = salus_utf8_next(bytes(name) + at, name.size() - at, &cp);
        if (len == 0) {
            return Status(SALUS_EINVAL, std::string(what) + " is not valid UTF-8 (byte " +
                                            std::to_string(at) + ")");
        }
        if (salus_is_control(cp)) {
            return Status(SALUS_EINVAL, std::string(what) + " has a control character (" +
                                            hex_escape("U+%04X", cp) + " at byte " +
                                            std::to_string(at) + "): names are printable text");
        }
        at += len;
    }
    return {};
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t at = 0; at < text.size();) {
        uint32_t cp = 0;
        size_t len = salus_utf8_next(bytes(text) + at, text.size() - at, &cp);
        if (len == 0) {
            out += hex_escape("\\x%02X", bytes(text)[at]);
            len = 1;
        } else if (salus_is_control(cp)) {
            out += hex_escape(cp < 0x80 ? "\\x%02X" : "\\u%04X", cp);
        } else {
            out.append(text, at, len);
        }
        at += len;
    }
    return out;
}

} // namespace salus::server
