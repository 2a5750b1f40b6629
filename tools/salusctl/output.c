/* Human units, JSON and Prometheus escaping, and text tables. */
#include "salusctl.h"

#include "utf8.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void human_bytes(char *buf, size_t size, uint64_t bytes) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    if (bytes < 1024) {
        snprintf(buf, size, "%" PRIu64 " B", bytes);
        return;
    }
    double v = (double)bytes / 1024.0;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof *units) {
        v /= 1024.0;
        ++u;
    }
    snprintf(buf, size, "%.1f %s", v, units[u]);
}

void human_ns(char *buf, size_t size, uint64_t ns) {
    if (ns < 1000)
        snprintf(buf, size, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, size, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, size, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(buf, size, "%.2f s", (double)ns / 1e9);
}

/* The next character of s: its length in *len, or 0 with *len 1 for a byte
 * that is not valid UTF-8 (a name may have come in another way, or been
 * truncated mid-character to fit its field). */
static size_t next_char(const char *s, size_t n, uint32_t *cp) {
    size_t len = salus_utf8_next((const unsigned char *)s, n, cp);
    if (len == 0) *cp = 0xFFFD;
    return len ? len : 1;
}

void sanitize(char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = next_char(s + i, n - i, &cp);
        if (cp == 0xFFFD || salus_is_control(cp)) memset(s + i, '?', len);
        i += len;
    }
}

void json_string(const char *s, size_t len) {
    size_t n = strnlen(s, len);
    putchar('"');
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = next_char(s + i, n - i, &cp);
        switch (cp) {
        case '"':
            fputs("\\\"", stdout);
            break;
        case '\\':
            fputs("\\\\", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        case '\r':
            fputs("\\r", stdout);
            break;
        case '\t':
            fputs("\\t", stdout);
            break;
        default:
            /* JSON text is UTF-8 with C0 controls escaped; the rest of the
             * controls are escaped too, so no terminal sees them raw. */
            if (salus_is_control(cp) || cp == 0xFFFD)
                printf("\\u%04" PRIx32, cp);
            else
                fwrite(s + i, 1, k, stdout);
        }
        i += k;
    }
    putchar('"');
}

/* Prometheus label values are UTF-8 escaping only backslash, double quote
 * and newline: other controls and bytes that are not UTF-8 become U+FFFD, so
 * that every sample stays one valid line. */
void prom_label(const char *s, size_t len) {
    size_t n = strnlen(s, len);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = next_char(s + i, n - i, &cp);
        if (cp == '\\')
            fputs("\\\\", stdout);
        else if (cp == '"')
            fputs("\\\"", stdout);
        else if (cp == '\n')
            fputs("\\n", stdout);
        else if (salus_is_control(cp) || cp == 0xFFFD)
            fputs("\xEF\xBF\xBD", stdout);
        else
            fwrite(s + i, 1, k, stdout);
        i += k;
    }
}

struct table {
    size_t columns;
    const int *left;
    size_t rows, cap;
    char **cells; /* rows x columns, row 0 the header */
};

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (!p) {
        fputs("salusctl: out of memory\n", stderr);
        exit(EXIT_FAILURE);
    }
    return p;
}

static char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

table *table_new(size_t columns, const char *const *header, const int *left_aligned) {
    table *t = xrealloc(NULL, sizeof *t);
    t->columns = columns;
    t->left = left_aligned;
    t->rows = 0;
    t->cap = 0;
    t->cells = NULL;
    table_add(t, header);
    return t;
}

void table_add(table *t, const char *const *cells) {
    if (t->rows == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->cells = xrealloc(t->cells, t->cap * t->columns * sizeof *t->cells);
    }
    for (size_t c = 0; c < t->columns; ++c) t->cells[t->rows * t->columns + c] = xstrdup(cells[c]);
    ++t->rows;
}

void table_print(const table *t) {
    size_t *width = xrealloc(NULL, t->columns * sizeof *width);
    memset(width, 0, t->columns * sizeof *width);
    for (size_t r = 0; r < t->rows; ++r)
        for (size_t c = 0; c < t->columns; ++c) {
            size_t len = strlen(t->cells[r * t->columns + c]);
            if (len > width[c]) width[c] = len;
        }
    for (size_t r = 0; r < t->rows; ++r) {
        for (size_t c = 0; c < t->columns; ++c) {
            const char *cell = t->cells[r * t->columns + c];
            int last = c + 1 == t->columns;
            if (t->left[c] && last)
                fputs(cell, stdout); /* no trailing blanks */
            else if (t->left[c])
                printf("%-*s", (int)width[c], cell);
            else
                printf("%*s", (int)width[c], cell);
            fputs(last ? "\n" : "  ", stdout);
        }
    }
    free(width);
}

void table_free(table *t) {
    if (!t) return;
    for (size_t i = 0; i < t->rows * t->columns; ++i) free(t->cells[i]);
    free(t->cells);
    free(t);
}
