/* Human units, JSON and Prometheus escaping, and text tables. */
#include "salusctl.h"

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

void sanitize(char *s) {
    for (; *s; ++s)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

void json_string(const char *s, size_t len) {
    putchar('"');
    for (size_t i = 0; i < len && s[i] != '\0'; ++i) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
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
            if (c < 0x20)
                printf("\\u%04x", c);
            else
                putchar(c);
        }
    }
    putchar('"');
}

/* Prometheus label values escape only backslash, double quote and newline. */
void prom_label(const char *s, size_t len) {
    for (size_t i = 0; i < len && s[i] != '\0'; ++i) {
        switch (s[i]) {
        case '\\':
            fputs("\\\\", stdout);
            break;
        case '"':
            fputs("\\\"", stdout);
            break;
        case '\n':
            fputs("\\n", stdout);
            break;
        default:
            putchar(s[i]);
        }
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
