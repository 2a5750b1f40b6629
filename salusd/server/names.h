// Text that clients choose (client, session and graph names) reaches
// listings, metrics, log lines and other users' terminals. Names are checked
// when they arrive; anything printed is escaped as well, for text that came
// another way (an error quoting a variable, a name truncated mid-character).
#pragma once

#include "common/status.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace salus::server {

// OK when `name` is valid UTF-8, has no control character and is at most
// `max_bytes` long; else SALUS_EINVAL naming `what` ("session name") and the
// rule it breaks.
Status check_name(std::string_view name, const char *what, size_t max_bytes);

// `text` with every byte that is not part of valid UTF-8 and every control
// character written as an escape (\xNN, or \u00NN for C1 controls), so that
// it stays one printable, valid UTF-8 line.
std::string printable(std::string_view text);

// printable(text), held to about 1 KiB however long `text` is: past that, its
// head and its tail (where messages say what is wrong) around " ... ".
std::string printable_bounded(std::string_view text);

} // namespace salus::server
