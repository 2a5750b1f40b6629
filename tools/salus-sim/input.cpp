#include "input.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace salus::sim {

namespace {

std::string trim(const std::string &s) {
    size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

// Plain CSV as these files use it: no quoting, '#' starts a comment line.
std::vector<std::string> split(const std::string &line) {
    std::vector<std::string> fields;
    std::stringstream in(line);
    std::string field;
    while (std::getline(in, field, ',')) fields.push_back(trim(field));
    if (!line.empty() && line.back() == ',') fields.emplace_back();
    return fields;
}

// A CSV file's rows as maps from header names to fields.
struct Table {
    struct Row {
        size_t line = 0;
        std::map<std::string, std::string> fields;
    };
    std::vector<Row> rows;
};

bool parse_table(const std::string &text, const std::string &source,
                 const std::vector<std::string> &required, Table *out, std::string *error) {
    std::stringstream in(text);
    std::string line;
    std::vector<std::string> header;
    size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> fields = split(line);
        if (header.empty()) {
            header = fields;
            std::set<std::string> have(header.begin(), header.end());
            for (const std::string &name : required) {
                if (!have.count(name)) {
                    *error = source + ":" + std::to_string(number) + ": no column '" + name + "'";
                    return false;
                }
            }
            continue;
        }
        if (fields.size() != header.size()) {
            *error = source + ":" + std::to_string(number) + ": " + std::to_string(fields.size()) +
                     " fields, the header has " + std::to_string(header.size());
            return false;
        }
        Table::Row row;
        row.line = number;
        for (size_t i = 0; i < header.size(); ++i) row.fields[header[i]] = fields[i];
        out->rows.push_back(std::move(row));
    }
    if (header.empty()) {
        *error = source + ": empty, no header";
        return false;
    }
    return true;
}

std::string where(const std::string &source, const Table::Row &row) {
    return source + ":" + std::to_string(row.line) + ": ";
}

} // namespace

bool parse_double(const std::string &text, double *out) {
    if (text.empty()) return false;
    errno = 0;
    char *end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (errno != 0 || *end != '\0' || !std::isfinite(v)) return false;
    *out = v;
    return true;
}

bool parse_u64(const std::string &text, uint64_t *out) {
    if (text.empty() || text[0] < '0' || text[0] > '9') return false;
    errno = 0;
    char *end = nullptr;
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return false;
    *out = v;
    return true;
}

bool parse_seconds(const std::string &text, TimeNs *out) {
    double s = 0;
    // Up to about 292 years in nanoseconds.
    if (!parse_double(text, &s) || s < 0 || s > 9e9) return false;
    *out = static_cast<TimeNs>(std::llround(s * 1e9));
    return true;
}

bool parse_size(const std::string &text, uint64_t *out) {
    static const std::pair<char, uint64_t> kUnits[] = {
        {'K', 1ull << 10}, {'M', 1ull << 20}, {'G', 1ull << 30}, {'T', 1ull << 40}};
    std::string digits = text;
    uint64_t factor = 1;
    for (const auto &[suffix, f] : kUnits) {
        if (!text.empty() && text.back() == suffix) {
            digits = text.substr(0, text.size() - 1);
            factor = f;
        }
    }
    uint64_t v = 0;
    if (!parse_u64(digits, &v) || v > UINT64_MAX / factor) return false;
    *out = v * factor;
    return true;
}

uint64_t mib_to_bytes(double mib) {
    if (!(mib > 0)) return 0;
    const auto bytes = static_cast<uint64_t>(std::ceil(mib * 1048576.0));
    return (bytes + lanes::kLaneAlignment - 1) / lanes::kLaneAlignment * lanes::kLaneAlignment;
}

bool read_file(const std::string &path, std::string *out, std::string *error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        *error = path + ": cannot open";
        return false;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    *out = buffer.str();
    return true;
}

bool parse_profiles(const std::string &text, const std::string &source, Profiles *out,
                    std::string *error) {
    Table table;
    if (!parse_table(text, source, {"workload", "persistent_mb", "peak_mb", "iter_s"}, &table,
                     error)) {
        return false;
    }
    for (const Table::Row &row : table.rows) {
        const std::string &name = row.fields.at("workload");
        double p = 0, peak = 0, iter = 0;
        if (name.empty() || !parse_double(row.fields.at("persistent_mb"), &p) || p < 0 ||
            !parse_double(row.fields.at("peak_mb"), &peak) || peak < p) {
            *error = where(source, row) + "needs a workload and 0 <= persistent_mb <= peak_mb";
            return false;
        }
        Profile profile;
        profile.persistent_bytes = mib_to_bytes(p);
        profile.ephemeral_bytes = mib_to_bytes(peak - p);
        const std::string &iter_s = row.fields.at("iter_s");
        if (!iter_s.empty()) {
            if (!parse_double(iter_s, &iter) || iter <= 0) {
                *error = where(source, row) + "iter_s must be a number > 0 or blank";
                return false;
            }
            profile.iter_s = iter;
        }
        if (!out->emplace(name, profile).second) {
            *error = where(source, row) + "workload '" + name + "' twice";
            return false;
        }
    }
    return true;
}

bool parse_trace(const std::string &text, const std::string &source, const Profiles &profiles,
                 std::optional<double> default_iter_s, std::vector<JobSpec> *out,
                 std::string *error) {
    Table table;
    if (!parse_table(text, source, {"job", "workload", "iterations", "submit_s"}, &table, error)) {
        return false;
    }
    std::set<std::string> names;
    for (const Table::Row &row : table.rows) {
        JobSpec job;
        job.name = row.fields.at("job");
        job.workload = row.fields.at("workload");
        if (job.name.empty() || !names.insert(job.name).second) {
            *error = where(source, row) + "every job needs a name of its own";
            return false;
        }
        auto profile = profiles.find(job.workload);
        if (profile == profiles.end()) {
            *error = where(source, row) + "no profile for workload '" + job.workload + "'";
            return false;
        }
        if (!parse_u64(row.fields.at("iterations"), &job.iterations) || job.iterations == 0) {
            *error = where(source, row) + "iterations must be a whole number > 0";
            return false;
        }
        if (!parse_seconds(row.fields.at("submit_s"), &job.submit_ns)) {
            *error = where(source, row) + "submit_s must be seconds >= 0";
            return false;
        }
        auto priority = row.fields.find("priority");
        if (priority != row.fields.end() && !priority->second.empty()) {
            errno = 0;
            char *end = nullptr;
            long v = std::strtol(priority->second.c_str(), &end, 10);
            if (errno != 0 || *end != '\0' || v < -1000000 || v > 1000000) {
                *error = where(source, row) + "priority must be a whole number";
                return false;
            }
            job.priority = static_cast<int>(v);
        }
        std::optional<double> iter_s = profile->second.iter_s;
        if (!iter_s) iter_s = default_iter_s;
        if (!iter_s) {
            *error = where(source, row) + "workload '" + job.workload +
                     "' has no iter_s in the profiles; give one with --default-iter";
            return false;
        }
        job.iteration_ns = std::max<TimeNs>(1, static_cast<TimeNs>(std::llround(*iter_s * 1e9)));
        job.persistent_bytes = profile->second.persistent_bytes;
        job.ephemeral_bytes = profile->second.ephemeral_bytes;
        out->push_back(std::move(job));
    }
    return true;
}

} // namespace salus::sim
