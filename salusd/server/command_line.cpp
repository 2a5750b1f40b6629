#include "server/command_line.h"

#include "server/config_file.h"
#include "server/config_write.h"
#include "server/version.h"

#include <cstdio>
#include <cstring>
#include <getopt.h>

#ifndef SALUSD_CONFIG_PATH
#define SALUSD_CONFIG_PATH "/etc/salus/salusd.conf"
#endif

namespace salus::server {

namespace {

// getopt values of the options that are not keys; keys use 256 + their index.
enum { kConfig = 1, kCheckConfig, kDumpConfig, kSampleConfig, kVersion, kFirstKey = 256 };

constexpr size_t kHelpColumn = 27;
constexpr size_t kWidth = 79;

// "  --name ARG" padded to the help column, then the help wrapped beside it.
std::string help_entry(const std::string &flags, const std::string &help) {
    std::string lead = "  " + flags;
    std::string body = wrap_text(help, std::string(kHelpColumn, ' '), kWidth);
    if (lead.size() + 2 > kHelpColumn) return lead + "\n" + body;
    return lead + std::string(kHelpColumn - lead.size(), ' ') + body.substr(kHelpColumn);
}

std::string flag_text(const ConfigKey &k) {
    std::string text = k.short_flag ? std::string("-") + k.short_flag + ", " : "    ";
    text += std::string("--") + k.name;
    text += k.metavar ? std::string(" ") + k.metavar : "[=yes|no]";
    return text;
}

void print_usage() {
    std::string out = "Usage: salusd [OPTION]...\n"
                      "Serve deep-learning sessions of many clients on one device.\n"
                      "\n";
    out += wrap_text(std::string("Each option below is also a key of the config file (") +
                         default_config_path() +
                         " unless --config), in the section shown; flags override the file. "
                         "(reload): SIGHUP applies a changed value; (restart): a restart does.",
                     "", kWidth);
    std::string section;
    for (const ConfigKey &k : config_keys()) {
        if (k.section != section) {
            section = k.section;
            out += "\n[" + section + "]\n";
        }
        out += help_entry(flag_text(k), std::string(k.help) + " (default " + k.sample + "; " +
                                            (k.reloadable ? "reload" : "restart") + ")");
    }
    out += "\nConfiguration:\n";
    out += help_entry("    --config PATH", std::string("read PATH instead of ") +
                                               default_config_path() + ", which may be missing");
    out += help_entry("    --check-config",
                      "validate the config file and the flags, print each error as "
                      "PATH:LINE: message, and exit (0: valid)");
    out += help_entry("    --dump-config", "print the configuration in effect and exit");
    out += help_entry("    --sample-config",
                      "print a commented config file with every key and its default, and exit");
    out += "\n";
    out += help_entry("-h, --help", "show this help and exit");
    out += help_entry("    --version", "show the version and exit");
    std::fputs(out.c_str(), stdout);
}

int usage_error() {
    std::fprintf(stderr, "Try 'salusd --help' for more information.\n");
    return 2;
}

} // namespace

const char *default_config_path() {
    return SALUSD_CONFIG_PATH;
}

int parse_command_line(int argc, char **argv, CommandLine *out) {
    const std::vector<ConfigKey> &keys = config_keys();
    std::vector<option> long_options;
    std::string short_options = ":h";
    for (size_t i = 0; i < keys.size(); ++i) {
        const ConfigKey &k = keys[i];
        long_options.push_back({k.name, k.metavar ? required_argument : optional_argument, nullptr,
                                kFirstKey + static_cast<int>(i)});
        if (k.short_flag) short_options += k.short_flag;
    }
    long_options.push_back({"config", required_argument, nullptr, kConfig});
    long_options.push_back({"check-config", no_argument, nullptr, kCheckConfig});
    long_options.push_back({"dump-config", no_argument, nullptr, kDumpConfig});
    long_options.push_back({"sample-config", no_argument, nullptr, kSampleConfig});
    long_options.push_back({"help", no_argument, nullptr, 'h'});
    long_options.push_back({"version", no_argument, nullptr, kVersion});
    long_options.push_back({nullptr, 0, nullptr, 0});

    CommandLine cl;
    cl.config_path = default_config_path();
    opterr = 0; // our own messages below
    optind = 1;
    for (;;) {
        int previous = optind;
        int c = getopt_long(argc, argv, short_options.c_str(), long_options.data(), nullptr);
        if (c == -1) break;
        const ConfigKey *key = nullptr;
        if (c >= kFirstKey) {
            key = &keys[static_cast<size_t>(c - kFirstKey)];
        } else {
            for (const ConfigKey &k : keys) {
                if (k.short_flag && c == k.short_flag) key = &k;
            }
        }
        if (key) {
            std::string value = optarg ? optarg : "yes"; // a switch without =value
            Options scratch;
            std::string why;
            if (!key->parse(value, &scratch, &why)) {
                std::fprintf(stderr, "salusd: invalid --%s '%s': %s\n", key->name, value.c_str(),
                             why.c_str());
                return usage_error();
            }
            cl.flags.emplace_back(key, value);
            continue;
        }
        switch (c) {
        case kConfig:
            if (*optarg == '\0') {
                std::fprintf(stderr, "salusd: --config needs a non-empty path\n");
                return usage_error();
            }
            cl.config_path = optarg;
            cl.config_explicit = true;
            break;
        case kCheckConfig:
            cl.action = Action::CheckConfig;
            break;
        case kDumpConfig:
            cl.action = Action::DumpConfig;
            break;
        case kSampleConfig:
            cl.action = Action::SampleConfig;
            break;
        case 'h':
            print_usage();
            return 0;
        case kVersion:
            std::printf("salusd %s\n", kSalusdVersion);
            return 0;
        case ':':
            std::fprintf(stderr, "salusd: option '%s' needs a value\n", argv[previous]);
            return usage_error();
        default:
            std::fprintf(stderr, "salusd: unknown option '%s'\n", argv[previous]);
            return usage_error();
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "salusd: unexpected argument '%s'\n", argv[optind]);
        return usage_error();
    }
    *out = std::move(cl);
    return -1;
}

std::vector<std::string> load_options(const CommandLine &command_line, Options *out,
                                      bool *file_found) {
    Options options;
    std::vector<std::string> errors = read_config_file(
        command_line.config_path, command_line.config_explicit, &options, file_found);
    for (const auto &[key, value] : command_line.flags) {
        std::string why;
        if (!key->parse(value, &options, &why)) {
            errors.push_back("--" + std::string(key->name) + " " + value + ": " + why);
        }
    }
    if (errors.empty()) *out = options;
    return errors;
}

} // namespace salus::server
