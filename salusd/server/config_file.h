// The config file, /etc/salus/salusd.conf by default (salusd.conf(5)):
//
//     # a comment
//     [server]
//     drain-timeout = 30s
//
// Lines are a [section], a key = value, a comment starting with #, or
// blank. Every key belongs to one section (config_keys.h); each may appear
// once. A missing key keeps its default, so an empty file is valid.
#pragma once

#include "server/options.h"

#include <string>
#include <vector>

namespace salus::server {

// Applies the keys of `text` to *options and returns every error found, each
// as "PATH:LINE: message" (`path` names the text in them). *options is only
// meaningful when nothing is returned.
std::vector<std::string> parse_config_text(const std::string &path, const std::string &text,
                                           Options *options);

// Reads the file at path and parses it as above. A missing file is no error
// unless must_exist; *found says whether there was one.
std::vector<std::string> read_config_file(const std::string &path, bool must_exist,
                                          Options *options, bool *found);

} // namespace salus::server
