// Error recording shared by every libsalus entry point.
#pragma once

#include <salus/salus.h>

#include <exception>
#include <new>
#include <string>

namespace salus::client {

class Connection;

// Records message as this thread's last error and returns code.
int fail(int code, const std::string &message) noexcept;
// Same, and also records it as the last error of the connection's client.
int fail(Connection *conn, int code, const std::string &message) noexcept;

// Runs body (returning an int code) and turns escaping C++ exceptions into
// codes: no exception may cross the C ABI.
template <typename F>
int guard(Connection *conn, F &&body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return fail(conn, SALUS_ENOMEM, "out of host memory");
    } catch (const std::exception &e) {
        return fail(conn, SALUS_EINTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        return fail(conn, SALUS_EINTERNAL, "internal error: unknown exception");
    }
}

template <typename F>
int guard(F &&body) noexcept {
    return guard(nullptr, static_cast<F &&>(body));
}

// A thread-local copy of s whose c_str() stays valid until the next libsalus
// call on this thread that returns a message.
const char *thread_copy(const std::string &s) noexcept;

} // namespace salus::client
