/* salusctl close ID: closes a session of any client; another user's needs an
 * administrator. Its queued iterations finish first. */
#include "salusctl.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int cmd_close(salus_client *client, uint64_t session_id, int json) {
    int rc = salus_close_session_by_id(client, session_id);
    if (rc < 0) {
        char what[64];
        snprintf(what, sizeof what, "close session %" PRIu64, session_id);
        return salus_failure(what, rc);
    }
    if (json)
        printf("{\"closed\":%" PRIu64 "}\n", session_id);
    else
        printf("closed: session %" PRIu64 "\n", session_id);
    return EXIT_SUCCESS;
}
