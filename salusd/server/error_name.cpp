#include "server/error_name.h"

#include <salus/salus.h>

namespace salus::server {

const char *error_code_name(int code) {
    switch (code) {
    case SALUS_OK:
        return "SALUS_OK";
    case SALUS_EINVAL:
        return "SALUS_EINVAL";
    case SALUS_ENOMEM:
        return "SALUS_ENOMEM";
    case SALUS_ECONNECT:
        return "SALUS_ECONNECT";
    case SALUS_EPROTO:
        return "SALUS_EPROTO";
    case SALUS_EVERSION:
        return "SALUS_EVERSION";
    case SALUS_EGRAPH:
        return "SALUS_EGRAPH";
    case SALUS_ENOSESSION:
        return "SALUS_ENOSESSION";
    case SALUS_ESHAPE:
        return "SALUS_ESHAPE";
    case SALUS_ETOOBIG:
        return "SALUS_ETOOBIG";
    case SALUS_EEXEC:
        return "SALUS_EEXEC";
    case SALUS_ENOTSUP:
        return "SALUS_ENOTSUP";
    case SALUS_ERESOURCE:
        return "SALUS_ERESOURCE";
    case SALUS_ECANCELED:
        return "SALUS_ECANCELED";
    case SALUS_EINTERNAL:
        return "SALUS_EINTERNAL";
    case SALUS_ESHUTDOWN:
        return "SALUS_ESHUTDOWN";
    case SALUS_EPERM:
        return "SALUS_EPERM";
    }
    return "unknown error";
}

} // namespace salus::server
