/* Memory sizes as operators write them: salusctl's and the SPANK plugin's. */
#ifndef SALUS_TOOLS_BYTES_H
#define SALUS_TOOLS_BYTES_H

#include <stdint.h>

/* Parses a byte count with an optional binary unit, as Slurm writes GRES
 * counts: "1073741824", "512M", "8G", "8GiB", "1T" (K, M, G, T are powers of
 * 1024, with or without "iB" or "B"). 0 on success, -1 on anything else or
 * on overflow; *out is written only on success. */
int parse_bytes(const char *text, uint64_t *out);

#endif
