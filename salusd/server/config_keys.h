// Every configuration key of salusd, in one table. The command line (each
// key is also a --flag), the config file, --help, the sample file and the
// reload logic are all derived from it, so a flag and its key cannot drift
// apart: a new option is one row in config_keys.cpp.
#pragma once

#include "server/options.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace salus::server {

struct ConfigKey {
    const char *section; // [section] of the file
    const char *name;    // the key in the file, and the long flag --name
    char short_flag;     // e.g. 'v', or 0
    const char *metavar; // the flag's argument; nullptr for a switch (--name[=yes|no])
    const char *help;    // one line
    const char *sample;  // the default as the sample file and --help show it
    // Whether SIGHUP applies a new value at once; the others need a restart.
    bool reloadable;
    // Parses a value into *options; false with *error saying what is expected.
    std::function<bool(const std::string &text, Options *options, std::string *error)> parse;
    // The value in *options, as the file would say it.
    std::function<std::string(const Options &options)> format;
};

// In the order --help and the sample file list them, grouped by section.
const std::vector<ConfigKey> &config_keys();
const ConfigKey *find_config_key(std::string_view section, std::string_view name);
// Whether a section has any key.
bool is_config_section(std::string_view section);

} // namespace salus::server
