// salusd's command line: every configuration key as a --flag (from the one
// table in config_keys.h), and the options about the configuration itself.
#pragma once

#include "server/config_keys.h"
#include "server/options.h"

#include <string>
#include <utility>
#include <vector>

namespace salus::server {

enum class Action {
    Run,          // serve
    CheckConfig,  // --check-config: validate the file and the flags
    DumpConfig,   // --dump-config: print the configuration in effect
    SampleConfig, // --sample-config: print the commented sample file
};

struct CommandLine {
    Action action = Action::Run;
    std::string config_path; // the default file unless --config
    bool config_explicit = false;
    // Keys given as flags, in order, with their (already valid) values.
    std::vector<std::pair<const ConfigKey *, std::string>> flags;
};

// The config file read without --config (meson's sysconfdir/salus/salusd.conf).
const char *default_config_path();

// Parses argv. Returns -1 to go on, or the exit code when the process should
// stop: 0 after --help or --version, 2 after a bad flag (already reported).
int parse_command_line(int argc, char **argv, CommandLine *out);

// The options in effect: defaults, then the config file, then the flags.
// Returns every error, a file's as "PATH:LINE: message"; *file_found says
// whether a file was read. *out is meaningful only without errors.
std::vector<std::string> load_options(const CommandLine &command_line, Options *out,
                                      bool *file_found);

} // namespace salus::server
