#include "server/config_file.h"

#include "server/config_keys.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace salus::server {

namespace {

// Anything larger is not a config file someone wrote.
constexpr size_t kMaxFileBytes = 1 << 20;

std::string trim(const std::string &s) {
    const char *space = " \t\r";
    size_t begin = s.find_first_not_of(space);
    if (begin == std::string::npos) return "";
    size_t end = s.find_last_not_of(space);
    return s.substr(begin, end - begin + 1);
}

std::string section_names() {
    std::string names;
    std::string last;
    for (const ConfigKey &k : config_keys()) {
        if (k.section == last) continue;
        last = k.section;
        names += (names.empty() ? "[" : ", [") + last + "]";
    }
    return names;
}

// The section another key of this name belongs to, or "".
std::string section_of(const std::string &name) {
    for (const ConfigKey &k : config_keys()) {
        if (name == k.name) return k.section;
    }
    return "";
}

class Parser {
  public:
    Parser(const std::string &path, Options *options) : path_(path), options_(options) {}

    void line(unsigned number, const std::string &raw) {
        std::string text = trim(raw);
        if (text.empty() || text[0] == '#') return;
        if (text[0] == '[') {
            open_section(number, text);
            return;
        }
        size_t eq = text.find('=');
        if (eq == std::string::npos) {
            error(number, "expected [section], key = value or a # comment, not \"" + text + "\"");
            return;
        }
        assign(number, trim(text.substr(0, eq)), trim(text.substr(eq + 1)));
    }

    std::vector<std::string> errors() && { return std::move(errors_); }

  private:
    void error(unsigned number, const std::string &message) {
        errors_.push_back(path_ + ":" + std::to_string(number) + ": " + message);
    }

    void open_section(unsigned number, const std::string &text) {
        if (text.back() != ']') {
            error(number, "a section header ends with ']': \"" + text + "\"");
            section_valid_ = false;
            return;
        }
        section_ = trim(text.substr(1, text.size() - 2));
        section_valid_ = is_config_section(section_);
        if (!section_valid_) {
            error(number, "unknown section [" + section_ + "] (expected " + section_names() + ")");
        }
    }

    void assign(unsigned number, const std::string &name, const std::string &value) {
        if (name.empty()) {
            error(number, "a key is missing before '='");
            return;
        }
        if (section_.empty()) {
            error(number, "key \"" + name + "\" comes before any [section]");
            return;
        }
        // Keys of an unknown section were reported with it.
        if (!section_valid_) return;
        const ConfigKey *key = find_config_key(section_, name);
        if (!key) {
            std::string home = section_of(name);
            error(number, "unknown key \"" + name + "\" in [" + section_ + "]" +
                              (home.empty() ? "" : " (it belongs in [" + home + "])"));
            return;
        }
        auto [it, inserted] = first_line_.emplace(key, number);
        if (!inserted) {
            error(number, "duplicate key \"" + name + "\" in [" + section_ +
                              "] (first set on line " + std::to_string(it->second) + ")");
            return;
        }
        if (value.empty()) {
            error(number, "key \"" + name + "\" has no value (leave the key out for its default)");
            return;
        }
        std::string why;
        if (!key->parse(value, options_, &why)) {
            error(number, "invalid " + name + " \"" + value + "\": " + why);
        }
    }

    const std::string &path_;
    Options *options_;
    std::string section_;
    bool section_valid_ = false;
    std::map<const ConfigKey *, unsigned> first_line_;
    std::vector<std::string> errors_;
};

} // namespace

std::vector<std::string> parse_config_text(const std::string &path, const std::string &text,
                                           Options *options) {
    Parser parser(path, options);
    std::istringstream in(text);
    std::string raw;
    unsigned number = 0;
    while (std::getline(in, raw)) parser.line(++number, raw);
    return std::move(parser).errors();
}

std::vector<std::string> read_config_file(const std::string &path, bool must_exist,
                                          Options *options, bool *found) {
    *found = false;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && !must_exist) return {};
        return {path + ": cannot open: " + std::strerror(errno)};
    }
    std::string text;
    struct stat st;
    std::string error;
    if (fstat(fd, &st) != 0) {
        error = std::strerror(errno);
    } else if (S_ISDIR(st.st_mode)) {
        error = "is a directory";
    } else {
        char buf[4096];
        for (;;) {
            ssize_t n = read(fd, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) error = std::strerror(errno);
            if (n <= 0) break;
            text.append(buf, static_cast<size_t>(n));
            if (text.size() > kMaxFileBytes) {
                error = "larger than 1 MiB";
                break;
            }
        }
    }
    close(fd);
    if (!error.empty()) return {path + ": cannot read: " + error};
    *found = true;
    return parse_config_text(path, text, options);
}

} // namespace salus::server
