// Symbolic names of SALUS_E... codes for log lines ("SALUS_EGRAPH").
#pragma once

namespace salus::server {

const char *error_code_name(int code);

} // namespace salus::server
