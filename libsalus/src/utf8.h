/* UTF-8 as salusd checks names and the tools print them: one decoder, so
 * that what the daemon accepts and what salusctl escapes agree.
 * Header-only, for C (salusctl) and C++ (salusd) alike. */
#ifndef SALUS_UTF8_H
#define SALUS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length of the well-formed UTF-8 sequence at the start of s (n bytes
 * long), with its code point in *cp; 0 when there is none: a stray
 * continuation byte, a truncated sequence, an overlong form, a surrogate or
 * a code point above U+10FFFF. */
static inline size_t salus_utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    unsigned char lead = s[0];
    if (lead < 0x80) {
        *cp = lead;
        return 1;
    }
    size_t len;
    uint32_t v, min;
    if (lead >= 0xC2 && lead <= 0xDF) {
        len = 2, v = lead & 0x1Fu, min = 0x80;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        len = 3, v = lead & 0x0Fu, min = 0x800;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        len = 4, v = lead & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; ++i) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

/* C0 controls, DEL and C1 controls: in a name they could end a line, forge
 * a log line or send a terminal an escape sequence. */
static inline int salus_is_control(uint32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

#endif
