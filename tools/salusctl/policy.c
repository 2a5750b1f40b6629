/* salusctl policy [NAME]: shows or switches the scheduling policy. */
#include "salusctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_policy(salus_client *client, const char *name, int json) {
    salus_status st;
    int rc = salus_get_status(client, &st);
    if (rc < 0) return salus_failure("get status", rc);
    if (name) {
        rc = salus_set_policy(client, name);
        if (rc < 0) {
            char what[96];
            snprintf(what, sizeof what, "set policy '%s'", name);
            return salus_failure(what, rc);
        }
    }
    if (json) {
        fputs("{\"policy\":", stdout);
        if (name) {
            json_string(name, strlen(name));
            fputs(",\"previous\":", stdout);
        }
        json_string(st.policy, sizeof st.policy);
        fputs("}\n", stdout);
    } else if (name) {
        printf("policy: %s (was %.*s)\n", name, FIELD(st.policy));
    } else {
        printf("policy: %.*s\n", FIELD(st.policy));
    }
    return EXIT_SUCCESS;
}
