// Status: an error code (a negative SALUS_E... value) with a message, or OK.
// Carried through validation, planning and execution so the daemon can send
// the exact reason to the client.
#pragma once

#include <salus/salus.h>

#include <string>
#include <utility>

namespace salus {

class [[nodiscard]] Status {
  public:
    Status() = default;
    Status(int code, std::string message) : code_(code), message_(std::move(message)) {}

    static Status ok_status() { return {}; }

    bool ok() const { return code_ == SALUS_OK; }
    int code() const { return code_; }
    const std::string &message() const { return message_; }

  private:
    int code_ = SALUS_OK;
    std::string message_;
};

#define SALUS_RETURN_IF_ERROR(expr)                                                                \
    do {                                                                                           \
        ::salus::Status salus_status_ = (expr);                                                    \
        if (!salus_status_.ok()) return salus_status_;                                             \
    } while (0)

} // namespace salus
