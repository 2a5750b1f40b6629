#include "server/config_write.h"

#include "server/config_keys.h"

#include <sstream>

namespace salus::server {

std::string wrap_text(const std::string &text, const std::string &prefix, size_t width) {
    std::istringstream words(text);
    std::string out, line, word;
    while (words >> word) {
        if (!line.empty() && prefix.size() + line.size() + 1 + word.size() > width) {
            out += prefix + line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + word;
    }
    if (!line.empty()) out += prefix + line + "\n";
    return out;
}

std::string sample_config() {
    std::string out =
        "# salusd.conf: the configuration of salusd(8), described in salusd.conf(5).\n"
        "#\n"
        "# Every key is shown commented out with its default: an empty file gives\n"
        "# the same daemon. Flags on salusd's command line override this file.\n"
        "# Check an edited file with `salusd --check-config` and apply it with\n"
        "# `systemctl reload salusd` (SIGHUP): keys marked (reload) change at once,\n"
        "# keys marked (restart) at the next start of salusd.\n";
    std::string section;
    for (const ConfigKey &k : config_keys()) {
        if (k.section != section) {
            section = k.section;
            out += "\n[" + section + "]\n";
        }
        std::string help = std::string(k.help) + (k.reloadable ? " (reload)" : " (restart)");
        out += "\n" + wrap_text(help, "# ", 78);
        out += "#" + std::string(k.name) + " = " + k.sample + "\n";
    }
    return out;
}

std::string dump_config(const Options &options) {
    std::string out = "# The configuration in effect: defaults, the config file, then flags.\n";
    std::string section;
    for (const ConfigKey &k : config_keys()) {
        if (k.section != section) {
            section = k.section;
            out += "\n[" + section + "]\n";
        }
        std::string value = k.format(options);
        if (value.empty()) {
            out += "# " + std::string(k.name) + ": no default here (XDG_RUNTIME_DIR is unset)\n";
        } else {
            out += std::string(k.name) + " = " + value + "\n";
        }
    }
    return out;
}

} // namespace salus::server
