// Configuration written out: the commented sample file installed as
// /etc/salus/salusd.conf (--sample-config) and the configuration in effect
// (--dump-config), both in the format config_file.h reads.
#pragma once

#include "server/options.h"

#include <string>

namespace salus::server {

// Every key commented out with its default and its help.
std::string sample_config();

// Every key with its value in *options. A key whose value cannot be told
// (the default socket without XDG_RUNTIME_DIR) is a comment saying why.
std::string dump_config(const Options &options);

// Words of text as lines of at most `width` columns, each starting with prefix.
std::string wrap_text(const std::string &text, const std::string &prefix, size_t width);

} // namespace salus::server
