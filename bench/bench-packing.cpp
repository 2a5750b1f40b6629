// The original Salus inference experiment, on the lanes module: 42 jobs
// (three instances of 14 models at batch 1) offered to 16 GiB devices. How
// many does one device admit under the safety condition (sum P + max T per
// lane) against static partitioning (sum P + sum T), and how many devices
// does each need for all 42?
//
//   bench-packing [--csv WORKLOADS_CSV] [--device-gib N]
//
// The models: every inference (`eval`) workload of the data file at batch 1
// except speech, plus seq2seq_small, as the original evaluation chose them.
// Jobs are offered in three rounds of the 14 models; a device takes a job when
// admission would admit it at once (it never waits in a queue here).
#include "lanes/admission.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#ifndef SALUS_WORKLOADS_CSV
#define SALUS_WORKLOADS_CSV "tests/data/salus-workloads.csv"
#endif

namespace {

using salus::lanes::Admission;
using salus::lanes::AdmissionMode;
using salus::lanes::AdmitResult;
using salus::lanes::kLaneAlignment;
using salus::lanes::SessionId;

constexpr double kMiB = 1024.0 * 1024.0;

struct Job {
    std::string workload;
    std::string model;
    std::string mode;
    double p_mib;
    double peak_mib;
    uint64_t p; // bytes, rounded up to the lane alignment
    uint64_t t;
};

uint64_t mib_to_bytes(double mib) {
    const double cells = std::ceil(mib * kMiB / static_cast<double>(kLaneAlignment) - 1e-6);
    return static_cast<uint64_t>(std::max(cells, 0.0)) * kLaneAlignment;
}

std::vector<Job> load_models(const std::string &path) {
    std::ifstream in(path);
    if (!in) {
        std::fprintf(stderr, "bench-packing: cannot read %s\n", path.c_str());
        std::exit(1);
    }
    std::vector<Job> models;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::vector<std::string> c;
        std::stringstream row(line);
        std::string col;
        while (std::getline(row, col, ',')) c.push_back(col);
        if (c.size() < 6) continue;
        const bool infer_batch1 = c[3] == "infer" && c[2] == "1" && c[1] != "speech";
        if (!infer_batch1 && c[0] != "seq2seq_small") continue;
        Job job{c[0], c[1], c[3], std::stod(c[4]), std::stod(c[5]), 0, 0};
        job.p = mib_to_bytes(job.p_mib);
        job.t = mib_to_bytes(job.peak_mib - job.p_mib);
        models.push_back(job);
    }
    return models;
}

struct OneDevice {
    int admitted = 0;
    size_t lanes = 0;
    double used_mib = 0;
    std::vector<std::string> left_out;
};

OneDevice fill_one(const std::vector<Job> &jobs, uint64_t device, AdmissionMode mode) {
    Admission admission(device, mode);
    OneDevice out;
    SessionId id = 0;
    for (const Job &job : jobs) {
        ++id;
        if (!admission.can_admit_now(job.p, job.t)) {
            out.left_out.push_back(job.workload);
            continue;
        }
        AdmitResult r = admission.admit(id, job.p, job.t);
        if (!r.status.ok() || r.queued) std::abort();
        ++out.admitted;
    }
    const std::string err = admission.check_invariants();
    if (!err.empty()) {
        std::fprintf(stderr, "bench-packing: %s\n", err.c_str());
        std::exit(1);
    }
    out.lanes = admission.lane_count();
    out.used_mib = static_cast<double>(admission.used_bytes()) / kMiB;
    return out;
}

// First fit over devices: each job goes to the first device that admits it.
size_t devices_needed(const std::vector<Job> &jobs, uint64_t device, AdmissionMode mode) {
    std::vector<std::unique_ptr<Admission>> devices;
    SessionId id = 0;
    for (const Job &job : jobs) {
        ++id;
        bool placed = false;
        for (auto &d : devices) {
            if (d->can_admit_now(job.p, job.t)) {
                placed = d->admit(id, job.p, job.t).status.ok();
                break;
            }
        }
        if (placed) continue;
        devices.push_back(std::make_unique<Admission>(device, mode));
        if (!devices.back()->admit(id, job.p, job.t).status.ok()) std::abort();
    }
    return devices.size();
}

} // namespace

int main(int argc, char **argv) {
    std::string csv = SALUS_WORKLOADS_CSV;
    uint64_t device_gib = 16;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--csv") == 0 && i + 1 < argc) {
            csv = argv[++i];
        } else if (std::strcmp(argv[i], "--device-gib") == 0 && i + 1 < argc) {
            device_gib = std::strtoull(argv[++i], nullptr, 10);
        } else {
            std::fprintf(stderr, "usage: bench-packing [--csv WORKLOADS_CSV] [--device-gib N]\n");
            return 2;
        }
    }
    const uint64_t device = device_gib << 30;
    const std::vector<Job> models = load_models(csv);

    std::printf("bench-packing: the original Salus inference experiment on %llu GiB devices\n",
                static_cast<unsigned long long>(device_gib));
    std::printf("data: %s\n\n", csv.c_str());
    std::printf("  %-3s %-12s %-18s %-6s %9s %9s %9s\n", "#", "model", "workload", "mode", "P MiB",
                "T MiB", "peak MiB");
    double sum_p = 0, sum_t = 0, max_t = 0;
    for (size_t i = 0; i < models.size(); ++i) {
        const Job &m = models[i];
        const double t = m.peak_mib - m.p_mib;
        std::printf("  %-3zu %-12s %-18s %-6s %9.1f %9.1f %9.1f%s\n", i + 1, m.model.c_str(),
                    m.workload.c_str(), m.mode.c_str(), m.p_mib, t, m.peak_mib,
                    m.mode == "train" ? "  (a training workload in the file: used as given)" : "");
        sum_p += 3 * m.p_mib;
        sum_t += 3 * t;
        max_t = std::max(max_t, t);
    }
    if (models.size() != 14) {
        std::fprintf(stderr, "bench-packing: expected 14 models, found %zu\n", models.size());
        return 1;
    }
    std::vector<Job> jobs;
    for (int round = 0; round < 3; ++round) jobs.insert(jobs.end(), models.begin(), models.end());
    std::vector<Job> largest_first = jobs;
    std::stable_sort(largest_first.begin(), largest_first.end(),
                     [](const Job &a, const Job &b) { return a.p + a.t > b.p + b.t; });

    const double device_mib = static_cast<double>(device) / kMiB;
    std::printf("\n%zu jobs (3 rounds of the 14 models): sum P %.1f MiB, sum T %.1f MiB, "
                "max T %.1f MiB\n",
                jobs.size(), sum_p, sum_t, max_t);
    std::printf("all 42 in one lane need sum P + max T = %.1f MiB; static partitions need "
                "sum P + sum T = %.1f MiB (device: %.0f MiB)\n\n",
                sum_p + max_t, sum_p + sum_t, device_mib);

    struct Row {
        const char *name;
        AdmissionMode mode;
        OneDevice one;
        size_t devices_arrival;
        size_t devices_largest;
    };
    Row rows[] = {{"safe    sum P + max T", AdmissionMode::Safe, {}, 0, 0},
                  {"static  sum P + sum T", AdmissionMode::Static, {}, 0, 0}};
    for (Row &row : rows) {
        row.one = fill_one(jobs, device, row.mode);
        row.devices_arrival = devices_needed(jobs, device, row.mode);
        row.devices_largest = devices_needed(largest_first, device, row.mode);
    }
    std::printf("%-22s | %-29s | %-26s\n", "", "one device", "devices for all 42");
    std::printf("%-22s | %8s %6s %13s | %13s %12s\n", "condition", "admitted", "lanes",
                "memory used", "in rounds", "largest first");
    for (const Row &row : rows) {
        std::printf("%-22s | %5d/42 %6zu %9.0f MiB | %13zu %12zu\n", row.name, row.one.admitted,
                    row.one.lanes, row.one.used_mib, row.devices_arrival, row.devices_largest);
    }
    const Row &safe = rows[0];
    const Row &fixed = rows[1];
    std::printf("%-22s | %7.2fx %6s %13s | %12.2fx %11.2fx\n", "ratio safe / static",
                static_cast<double>(safe.one.admitted) / fixed.one.admitted, "", "",
                static_cast<double>(fixed.devices_arrival) / safe.devices_arrival,
                static_cast<double>(fixed.devices_largest) / safe.devices_largest);
    std::printf("(device ratio: static devices / safe devices)\n");
    for (const Row &row : rows) {
        if (row.one.left_out.empty()) continue;
        std::printf("\n%s: one device left out %zu jobs:", row.name, row.one.left_out.size());
        for (const Job &m : models) {
            const auto n = std::count(row.one.left_out.begin(), row.one.left_out.end(), m.workload);
            if (n > 0) std::printf(" %s x%td", m.workload.c_str(), n);
        }
        std::printf("\n");
    }
    return 0;
}
