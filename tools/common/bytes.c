#include "bytes.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_bytes(const char *text, uint64_t *out) {
    if (!text || !isdigit((unsigned char)text[0])) return -1;
    errno = 0;
    char *end = NULL;
    unsigned long long value = strtoull(text, &end, 10);
    if (errno != 0) return -1;
    static const char units[] = "KMGT";
    unsigned shift = 0;
    if (*end) {
        const char *u = strchr(units, toupper((unsigned char)*end));
        if (!u) {
            if (strcmp(end, "B") != 0) return -1;
        } else {
            shift = 10u * (unsigned)(u - units + 1);
            ++end;
            if (strcmp(end, "") != 0 && strcmp(end, "B") != 0 && strcmp(end, "iB") != 0) return -1;
        }
    }
    if (shift && value > (UINT64_MAX >> shift)) return -1;
    *out = (uint64_t)value << shift;
    return 0;
}
