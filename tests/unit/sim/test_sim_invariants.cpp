// Random traces over the measured workloads, under every policy, admission
// mode, lane limit and client model: the simulator's own checks (the safety
// condition of every lane at every instant, iterations only on the lane
// admission gave, no memory moved under a running iteration) and the event
// log's (one iteration per lane at a time, no job lost, no session overtaken
// more than max_overtakes times) hold, and a seed gives one result.
#include "input.h"
#include "sim_test_util.h"
#include "summary.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <tuple>

namespace salus::sim::test {
namespace {

using sched::Policy;

Profiles load_profiles() {
    const char *path = std::getenv("SALUS_WORKLOADS_CSV");
    std::string text, error;
    Profiles profiles;
    EXPECT_TRUE(path != nullptr) << "SALUS_WORKLOADS_CSV is not set";
    if (path == nullptr) return profiles;
    EXPECT_TRUE(read_file(path, &text, &error)) << error;
    EXPECT_TRUE(parse_profiles(text, path, &profiles, &error)) << error;
    return profiles;
}

// n jobs of random workloads (those without iter_s take 0.05 s), arriving
// over `spread` seconds, 5 to 60 iterations, priorities 0-2.
std::vector<JobSpec> random_trace(const Profiles &profiles, size_t n, double spread,
                                  uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<const std::pair<const std::string, Profile> *> all;
    for (const auto &entry : profiles) all.push_back(&entry);
    std::vector<JobSpec> jobs;
    for (size_t i = 0; i < n; ++i) {
        const auto &[name, profile] = *all[rng() % all.size()];
        JobSpec j;
        j.name = "j" + std::to_string(i);
        j.workload = name;
        j.iterations = 5 + rng() % 56;
        j.submit_ns = static_cast<TimeNs>(static_cast<double>(rng() % 1'000'000) * 1e-6 * spread *
                                          static_cast<double>(kSecond));
        j.priority = static_cast<int>(rng() % 3);
        j.persistent_bytes = profile.persistent_bytes;
        j.ephemeral_bytes = profile.ephemeral_bytes;
        j.iteration_ns = ns(profile.iter_s.value_or(0.05));
        jobs.push_back(j);
    }
    return jobs;
}

using Config = std::tuple<Policy, lanes::AdmissionMode, uint32_t, ClientModel>;

std::string config_name(const ::testing::TestParamInfo<Config> &param) {
    const auto [policy, mode, lane_limit, client] = param.param;
    return std::string(sched::policy_name(policy)) + "_" + lanes::admission_mode_name(mode) +
           "_lanes" + std::to_string(lane_limit) + "_" +
           (client == ClientModel::sync ? "sync" : "pipelined");
}

class RandomTraces : public ::testing::TestWithParam<Config> {};

TEST_P(RandomTraces, KeepEveryInvariant) {
    const Profiles profiles = load_profiles();
    const auto [policy, mode, lane_limit, client] = GetParam();
    for (uint64_t seed = 1; seed <= 4; ++seed) {
        SimOptions options;
        options.policy = policy;
        options.admission = mode;
        options.lanes = lane_limit;
        options.client = client;
        options.think_ns = ns(0.01);
        options.hold_max_ns = ns(0.05);
        options.jitter = 0.2;
        options.seed = seed;
        // 12 GiB: the largest workloads queue, and some sessions can never fit.
        options.memory_bytes = 12ull << 30;
        options.max_overtakes = static_cast<uint32_t>(seed % 3);
        const std::vector<JobSpec> jobs = random_trace(profiles, 40, 20, seed);
        SimResult r = run_checked(jobs, options);
        ASSERT_EQ(check_log(jobs, r, options), "") << "seed " << seed;
        for (const Sample &s : r.timeline) {
            ASSERT_LE(s.reserved_bytes, options.memory_bytes);
            ASSERT_LE(s.active_bytes, s.reserved_bytes + 0) << "seed " << seed;
        }
        if (client == ClientModel::sync) {
            // A synchronous client comes back think seconds after each end.
            std::vector<TimeNs> last_end(jobs.size(), 0);
            std::vector<bool> ended(jobs.size(), false);
            for (const LogEntry &e : r.log) {
                if (e.kind == EventKind::end) {
                    last_end[e.job] = e.t;
                    ended[e.job] = true;
                } else if (e.kind == EventKind::start && ended[e.job]) {
                    ASSERT_GE(e.t, last_end[e.job] + options.think_ns);
                }
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Sim, RandomTraces,
    ::testing::Combine(::testing::ValuesIn(sched::kAllPolicies),
                       ::testing::Values(lanes::AdmissionMode::Safe, lanes::AdmissionMode::Static),
                       ::testing::Values(0u, 1u, 3u),
                       ::testing::Values(ClientModel::pipelined, ClientModel::sync)),
    config_name);

bool same_log(const SimResult &a, const SimResult &b) {
    if (a.log.size() != b.log.size()) return false;
    for (size_t i = 0; i < a.log.size(); ++i) {
        const LogEntry &x = a.log[i], &y = b.log[i];
        if (x.t != y.t || x.kind != y.kind || x.job != y.job || x.lane != y.lane) return false;
    }
    return true;
}

TEST(Determinism, OneSeedOneResult) {
    const Profiles profiles = load_profiles();
    const std::vector<JobSpec> jobs = random_trace(profiles, 30, 10, 7);
    SimOptions options;
    options.policy = Policy::srtf;
    options.jitter = 0.3;
    options.seed = 42;
    options.lanes = 2;
    SimResult a = simulate(jobs, options);
    SimResult b = simulate(jobs, options);
    EXPECT_TRUE(same_log(a, b));
    options.seed = 43;
    EXPECT_FALSE(same_log(a, simulate(jobs, options)));
    // Without jitter the seed changes nothing.
    options.jitter = 0;
    SimResult c = simulate(jobs, options);
    options.seed = 44;
    EXPECT_TRUE(same_log(c, simulate(jobs, options)));
}

// A job larger than the pool is refused; the others run.
TEST(Refusal, NeverFitsIsRefused) {
    std::vector<JobSpec> jobs = {job("small", 2, 0, 1), job("huge", 2, 0, 1, 0, 3000, 2000)};
    SimOptions options;
    options.memory_bytes = 4ull << 30;
    SimResult r = run_checked(jobs, options);
    EXPECT_EQ(r.jobs[0].status, JobStatus::done);
    EXPECT_EQ(r.jobs[1].status, JobStatus::refused);
    EXPECT_FALSE(r.jobs[1].reason.empty());
    EXPECT_EQ(check_log(jobs, r, options), "");
}

// Memory that holds one of two jobs at a time: the second waits for the
// first to close, then runs; its queueing delay is that wait.
TEST(Admission, WaitsForMemory) {
    std::vector<JobSpec> jobs = {job("A", 2, 0, 1, 0, 600, 400), job("B", 1, 0.5, 1, 0, 600, 400)};
    SimOptions options;
    options.memory_bytes = 1500ull << 20;
    SimResult r = run_checked(jobs, options);
    EXPECT_EQ(r.jobs[1].admitted_ns, 2 * kSecond);
    EXPECT_EQ(r.jobs[1].first_start_ns, 2 * kSecond);
    EXPECT_EQ(r.jobs[1].end_ns, 3 * kSecond);
    EXPECT_EQ(check_log(jobs, r, options), "");
    // In Safe mode both fit one lane: 600 + 600 + max(400, 400) <= 1600.
    options.memory_bytes = 1600ull << 20;
    r = run_checked(jobs, options);
    EXPECT_EQ(r.jobs[1].admitted_ns, ns(0.5));
    // In Static mode they need 2000.
    options.admission = lanes::AdmissionMode::Static;
    r = run_checked(jobs, options);
    EXPECT_EQ(r.jobs[1].admitted_ns, 2 * kSecond);
}

// 100 jobs simulate in well under a second (the event loop is O(log n) per
// event; the checks are off, as in salus-sim's default).
TEST(Speed, HundredJobsUnderASecond) {
    const Profiles profiles = load_profiles();
    const std::vector<JobSpec> jobs = random_trace(profiles, 100, 60, 3);
    for (Policy policy : sched::kAllPolicies) {
        SimOptions options;
        options.policy = policy;
        options.lanes = 4;
        const auto t0 = std::chrono::steady_clock::now();
        SimResult r = simulate(jobs, options);
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        EXPECT_EQ(r.error, "");
        EXPECT_LT(s, 1.0) << sched::policy_name(policy);
        Summary sum = summarize(jobs, r, options);
        EXPECT_EQ(sum.done + sum.refused, 100u);
    }
}

} // namespace
} // namespace salus::sim::test
