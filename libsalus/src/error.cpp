// salus_strerror, the thread-local last error and the helpers that set it.
#include "error.h"

#include "connection.h"

namespace salus::client {

namespace {

thread_local std::string tl_last_error;
thread_local std::string tl_copy;

void assign(std::string *dst, const std::string &src) noexcept {
    try {
        *dst = src;
    } catch (...) {
        // Out of memory while recording the error: keep a shorter message
        // (clear() and a small literal do not allocate past the SSO buffer).
        dst->clear();
    }
}

} // namespace

int fail(int code, const std::string &message) noexcept {
    assign(&tl_last_error, message);
    return code;
}

int fail(Connection *conn, int code, const std::string &message) noexcept {
    fail(code, message);
    if (conn) conn->set_last_error(message);
    return code;
}

const char *thread_copy(const std::string &s) noexcept {
    assign(&tl_copy, s);
    return tl_copy.c_str();
}

} // namespace salus::client

extern "C" {

const char *salus_strerror(int error) {
    switch (error) {
    case SALUS_OK:
        return "success";
    case SALUS_EINVAL:
        return "invalid argument";
    case SALUS_ENOMEM:
        return "out of host memory";
    case SALUS_ECONNECT:
        return "cannot reach the daemon, or it went away";
    case SALUS_EPROTO:
        return "malformed or unexpected message";
    case SALUS_EVERSION:
        return "protocol versions do not match";
    case SALUS_EGRAPH:
        return "the graph is invalid";
    case SALUS_ENOSESSION:
        return "unknown or closed session";
    case SALUS_ESHAPE:
        return "a fed tensor has the wrong dtype, shape or size";
    case SALUS_ETOOBIG:
        return "over a configured size limit";
    case SALUS_EEXEC:
        return "a kernel failed during an iteration";
    case SALUS_ENOTSUP:
        return "not supported by this daemon";
    case SALUS_ERESOURCE:
        return "the daemon lacks device memory for this";
    case SALUS_ECANCELED:
        return "the iteration was dropped before it ran";
    case SALUS_EINTERNAL:
        return "internal error";
    case SALUS_ESHUTDOWN:
        return "the daemon is draining or shutting down";
    case SALUS_EPERM:
        return "not permitted to this user";
    default:
        return "unknown error";
    }
}

const char *salus_last_error(void) {
    return salus::client::tl_last_error.c_str();
}

} // extern "C"
