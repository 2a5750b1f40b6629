#include "server/names.h"

#include "utf8.h"

#include <algorithm>
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

// At most the first (or last) n bytes of valid UTF-8 `s`, whole characters.
std::string_view utf8_head(std::string_view s, size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

std::string_view utf8_tail(std::string_view s, size_t n) {
    if (s.size() <= n) return s;
    size_t at = s.size() - n;
    while (at < s.size() && (static_cast<unsigned char>(s[at]) & 0xC0) == 0x80) ++at;
    return s.substr(at);
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

std::string printable_bounded(std::string_view text) {
    constexpr size_t kHead = 640, kTail = 320;
    // Escaping makes text up to four times longer: only the ends of a long
    // text are escaped.
    std::string head = printable(text.substr(0, kHead + kTail));
    if (text.size() <= kHead + kTail && head.size() <= kHead + kTail) return head;
    std::string tail = printable(text.substr(text.size() - std::min(text.size(), kHead + kTail)));
    return std::string(utf8_head(head, kHead)) + " ... " + std::string(utf8_tail(tail, kTail));
}

} // namespace salus::server
