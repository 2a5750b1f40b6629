// salus-sim: salusd's scheduler and admission on simulated time. Reads a job
// trace and workload profiles, prints a readable report, writes CSV.
#include "input.h"
#include "report.h"
#include "sim.h"
#include "summary.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <string>

namespace {

using namespace salus::sim;

constexpr const char kUsage[] =
    "Usage: salus-sim --trace FILE --profiles FILE --policy NAME [OPTION...]\n"
    "\n"
    "Simulates salusd's scheduler and memory admission on a job trace, with simulated\n"
    "time in place of the clock and the profiles' iteration times in place of the device.\n"
    "\n"
    "  --trace FILE          jobs: CSV with job,workload,iterations,submit_s,priority\n"
    "  --profiles FILE       workloads: CSV with workload,persistent_mb,peak_mb,iter_s\n"
    "                        (as salus-workloads.csv)\n"
    "  --policy NAME         fifo, srtf, pack, fair or priority\n"
    "  --lanes N             lanes (parallel streams) at most; 0: no limit (default 0)\n"
    "  --memory SIZE         device memory pool, bytes or with K, M, G, T (default 16G)\n"
    "  --admission MODE      safe: sum(P) + max(T) per lane; static: sum(P + T)\n"
    "                        (default safe)\n"
    "  --max-overtakes N     a session waiting for memory is overtaken at most N times\n"
    "                        (default 4)\n"
    "  --no-rebalance        a lane left empty takes no session of a crowded one\n"
    "                        (salusd rebalances; this is for comparison)\n"
    "  --client MODEL        pipelined: the next iteration is always queued; sync: it is\n"
    "                        queued --think seconds after the last one ends\n"
    "                        (default pipelined)\n"
    "  --think SECONDS       a sync client's think time (default 0)\n"
    "  --hold-max-us N       longest a lane is held for a sync client the policy\n"
    "                        prefers, as salusd's hold-max-us; 0: never (default 5000)\n"
    "  --default-iter SECONDS  iteration time of workloads whose iter_s is blank\n"
    "                        (without it such a workload in the trace is an error)\n"
    "  --jitter F            each iteration takes iter_s x (1 + F x U(-1, 1)), 0 <= F < 1\n"
    "                        (default 0: exactly iter_s)\n"
    "  --seed N              seeds the jitter, the only thing drawn at random (default 1)\n"
    "  --out FILE            per-job rows as CSV\n"
    "  --summary FILE        the summary as CSV (metric,value)\n"
    "  --timeline FILE       memory and lanes in use over time as CSV\n"
    "  --log FILE            every event as CSV\n"
    "  --check               verify the scheduler's and admission's invariants at every\n"
    "                        event; a violation is an error\n"
    "  --quiet               print the summary without the table of jobs\n"
    "  --help                print this help\n"
    "  --version             print the version\n"
    "\n"
    "Lanes run side by side without slowing each other, and moving memory when lanes\n"
    "are re-partitioned costs no time (the pause it needs does). The report ends with\n"
    "the summary; its line \"average JCT: X s\" is the average job completion time.\n"
    "Exit status: 0, 1 when an input cannot be read or the simulation fails, 2 on a\n"
    "usage error.\n";

int usage_error(const std::string &message) {
    std::fprintf(stderr, "salus-sim: %s\nTry 'salus-sim --help'.\n", message.c_str());
    return 2;
}

bool write_to(const std::string &path, const std::function<void(std::ostream &)> &write,
              std::string *error) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (out) write(out);
    out.close();
    if (!out) {
        *error = path + ": cannot write";
        return false;
    }
    return true;
}

} // namespace

int main(int argc, char **argv) {
    // Options that take a value, and flags.
    static const char *const kValued[] = {
        "--trace",        "--profiles", "--policy", "--lanes",       "--memory",
        "--admission",    "--client",   "--think",  "--seed",        "--out",
        "--summary",      "--timeline", "--log",    "--hold-max-us", "--max-overtakes",
        "--default-iter", "--jitter"};
    std::map<std::string, std::string> values;
    bool check = false, quiet = false, rebalance = true;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (arg == "--version") {
            std::printf("salus-sim %s\n", SALUS_SIM_VERSION);
            return 0;
        }
        if (arg == "--check") {
            check = true;
            continue;
        }
        if (arg == "--quiet") {
            quiet = true;
            continue;
        }
        if (arg == "--no-rebalance") {
            rebalance = false;
            continue;
        }
        std::string value;
        const size_t eq = arg.find('=');
        if (eq != std::string::npos) {
            value = arg.substr(eq + 1);
            arg = arg.substr(0, eq);
        }
        bool known = false;
        for (const char *name : kValued) known = known || arg == name;
        if (!known) return usage_error("unknown option '" + arg + "'");
        if (eq == std::string::npos) {
            if (i + 1 >= argc) return usage_error(arg + " needs a value");
            value = argv[++i];
        }
        values[arg] = value;
    }
    for (const char *required : {"--trace", "--profiles", "--policy"}) {
        if (!values.count(required)) return usage_error(std::string(required) + " is required");
    }

    SimOptions options;
    options.check = check;
    options.rebalance = rebalance;
    auto policy = salus::sched::parse_policy(values["--policy"]);
    if (!policy) return usage_error("unknown policy '" + values["--policy"] + "'");
    options.policy = *policy;
    uint64_t n = 0;
    if (values.count("--lanes")) {
        if (!parse_u64(values["--lanes"], &n) || n > 65536) return usage_error("bad --lanes");
        options.lanes = static_cast<uint32_t>(n);
    }
    if (values.count("--memory") &&
        (!parse_size(values["--memory"], &options.memory_bytes) || options.memory_bytes == 0)) {
        return usage_error("bad --memory (bytes, or a number with K, M, G or T)");
    }
    if (values.count("--admission")) {
        const std::string &mode = values["--admission"];
        if (mode != "safe" && mode != "static") return usage_error("--admission: safe or static");
        options.admission = mode == "safe" ? salus::lanes::AdmissionMode::Safe
                                           : salus::lanes::AdmissionMode::Static;
    }
    if (values.count("--max-overtakes")) {
        if (!parse_u64(values["--max-overtakes"], &n) || n > 1'000'000) {
            return usage_error("bad --max-overtakes");
        }
        options.max_overtakes = static_cast<uint32_t>(n);
    }
    if (values.count("--client")) {
        const std::string &c = values["--client"];
        if (c != "pipelined" && c != "sync") return usage_error("--client: pipelined or sync");
        options.client = c == "sync" ? ClientModel::sync : ClientModel::pipelined;
    }
    if (values.count("--think") && !parse_seconds(values["--think"], &options.think_ns)) {
        return usage_error("bad --think (seconds >= 0)");
    }
    if (values.count("--hold-max-us")) {
        if (!parse_u64(values["--hold-max-us"], &n) || n > 3'600'000'000ull) {
            return usage_error("bad --hold-max-us");
        }
        options.hold_max_ns = n * 1000;
    }
    if (values.count("--jitter") && (!parse_double(values["--jitter"], &options.jitter) ||
                                     options.jitter < 0 || options.jitter >= 1)) {
        return usage_error("bad --jitter (0 <= F < 1)");
    }
    if (values.count("--seed") && !parse_u64(values["--seed"], &options.seed)) {
        return usage_error("bad --seed");
    }
    std::optional<double> default_iter;
    if (values.count("--default-iter")) {
        double s = 0;
        if (!parse_double(values["--default-iter"], &s) || s <= 0) {
            return usage_error("bad --default-iter (seconds > 0)");
        }
        default_iter = s;
    }

    std::string error, text;
    Profiles profiles;
    std::vector<JobSpec> jobs;
    if (!read_file(values["--profiles"], &text, &error) ||
        !parse_profiles(text, values["--profiles"], &profiles, &error) ||
        !read_file(values["--trace"], &text, &error) ||
        !parse_trace(text, values["--trace"], profiles, default_iter, &jobs, &error)) {
        std::fprintf(stderr, "salus-sim: %s\n", error.c_str());
        return 1;
    }

    SimResult result = simulate(jobs, options);
    if (!result.error.empty()) {
        std::fprintf(stderr, "salus-sim: %s\n", result.error.c_str());
        return 1;
    }
    Summary summary = summarize(jobs, result, options);
    const std::pair<const char *, std::function<void(std::ostream &)>> outputs[] = {
        {"--out", [&](std::ostream &o) { write_jobs_csv(o, jobs, result); }},
        {"--summary", [&](std::ostream &o) { write_summary_csv(o, summary); }},
        {"--timeline", [&](std::ostream &o) { write_timeline_csv(o, result.timeline); }},
        {"--log", [&](std::ostream &o) { write_log_csv(o, jobs, result.log); }},
    };
    for (const auto &[flag, write] : outputs) {
        if (values.count(flag) && !write_to(values[flag], write, &error)) {
            std::fprintf(stderr, "salus-sim: %s\n", error.c_str());
            return 1;
        }
    }
    print_report(std::cout, jobs, result, summary, options, !quiet);
    return std::cout.good() ? 0 : 1;
}
