// salus-sim's inputs and figures: profiles and traces as CSV, sizes, and the
// summary's percentiles and utilization.
#include "input.h"
#include "report.h"
#include "sim_test_util.h"
#include "summary.h"

#include <gtest/gtest.h>

#include <sstream>

namespace salus::sim::test {
namespace {

const char kProfiles[] = "workload,model,batch,mode,persistent_mb,peak_mb,iter_s\n"
                         "a_25,a,25,train,100,300.5,0.5\n"
                         "b_1,b,1,infer,0.1,0.4,\n";

TEST(Input, ProfilesInMiBRoundedToLanes) {
    Profiles p;
    std::string error;
    ASSERT_TRUE(parse_profiles(kProfiles, "p.csv", &p, &error)) << error;
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p["a_25"].persistent_bytes, 100ull << 20);
    EXPECT_EQ(p["a_25"].ephemeral_bytes, (200ull << 20) + (1 << 19));
    EXPECT_EQ(p["a_25"].iter_s, 0.5);
    // 0.1 MiB = 104857.6 bytes: 104858 rounded up to 64.
    EXPECT_EQ(p["b_1"].persistent_bytes, 104896u);
    EXPECT_FALSE(p["b_1"].iter_s.has_value());
    EXPECT_EQ(mib_to_bytes(0), 0u);
    EXPECT_EQ(mib_to_bytes(1), 1u << 20);
}

TEST(Input, Trace) {
    Profiles p;
    std::string error;
    ASSERT_TRUE(parse_profiles(kProfiles, "p.csv", &p, &error)) << error;
    std::vector<JobSpec> jobs;
    const std::string trace = "# a comment\n"
                              "job,workload,iterations,submit_s,priority\n"
                              "x,a_25,10,1.5,2\n"
                              "y,b_1,3,0,\n";
    // b_1 has no iter_s: an error unless a default is given.
    EXPECT_FALSE(parse_trace(trace, "t.csv", p, std::nullopt, &jobs, &error));
    EXPECT_NE(error.find("t.csv:4:"), std::string::npos) << error;
    EXPECT_NE(error.find("--default-iter"), std::string::npos) << error;
    jobs.clear();
    ASSERT_TRUE(parse_trace(trace, "t.csv", p, 0.02, &jobs, &error)) << error;
    ASSERT_EQ(jobs.size(), 2u);
    EXPECT_EQ(jobs[0].name, "x");
    EXPECT_EQ(jobs[0].iterations, 10u);
    EXPECT_EQ(jobs[0].submit_ns, ns(1.5));
    EXPECT_EQ(jobs[0].priority, 2);
    EXPECT_EQ(jobs[0].iteration_ns, ns(0.5));
    EXPECT_EQ(jobs[1].priority, 0);
    EXPECT_EQ(jobs[1].iteration_ns, ns(0.02));

    for (const char *bad : {"job,workload,iterations\nx,a_25,1\n",         // no submit_s
                            "job,workload,iterations,submit_s\nx,c,1,0\n", // unknown workload
                            "job,workload,iterations,submit_s\nx,a_25,0,0\n",
                            "job,workload,iterations,submit_s\nx,a_25,1,-1\n",
                            "job,workload,iterations,submit_s\nx,a_25,1\n",
                            "job,workload,iterations,submit_s\nx,a_25,1,0\nx,a_25,1,0\n"}) {
        jobs.clear();
        EXPECT_FALSE(parse_trace(bad, "t.csv", p, 0.02, &jobs, &error)) << bad;
    }
}

TEST(Input, SizesAndSeconds) {
    uint64_t v = 0;
    EXPECT_TRUE(parse_size("16G", &v));
    EXPECT_EQ(v, 16ull << 30);
    EXPECT_TRUE(parse_size("512M", &v));
    EXPECT_EQ(v, 512ull << 20);
    EXPECT_TRUE(parse_size("4096", &v));
    EXPECT_EQ(v, 4096u);
    EXPECT_FALSE(parse_size("G", &v));
    EXPECT_FALSE(parse_size("1.5G", &v));
    EXPECT_FALSE(parse_size("-1", &v));
    TimeNs t = 0;
    EXPECT_TRUE(parse_seconds("0.25", &t));
    EXPECT_EQ(t, 250'000'000u);
    EXPECT_FALSE(parse_seconds("-1", &t));
    EXPECT_FALSE(parse_seconds("x", &t));
    EXPECT_EQ(seconds(1'234'567'891), "1.234567");
    EXPECT_EQ(seconds(5'000), "0.000005");
}

TEST(Summary, PercentilesAndUtilization) {
    EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.5), 2);
    EXPECT_DOUBLE_EQ(percentile({4, 1, 3, 2}, 0.99), 4);
    EXPECT_DOUBLE_EQ(percentile({}, 0.5), 0);

    // A alone for 2 s, then B for 1 s: one lane busy all the time.
    std::vector<JobSpec> jobs = {job("A", 2, 0, 1), job("B", 1, 0, 1)};
    SimOptions options;
    options.policy = sched::Policy::fifo;
    options.memory_bytes = 1ull << 30;
    SimResult r = run_checked(jobs, options);
    Summary s = summarize(jobs, r, options);
    EXPECT_EQ(s.done, 2u);
    EXPECT_DOUBLE_EQ(s.jct_mean_s, 2.5);
    EXPECT_DOUBLE_EQ(s.jct_max_s, 3);
    EXPECT_DOUBLE_EQ(s.makespan_s, 3);
    EXPECT_DOUBLE_EQ(s.queue_mean_s, 1);
    EXPECT_DOUBLE_EQ(s.busy, 1);
    EXPECT_DOUBLE_EQ(s.running_mean, 1);
    // Two lanes of 300 MiB reserved while both are open (2 s), one after.
    EXPECT_NEAR(s.reserved_mean, (2 * 600 + 1 * 300) / 3.0 / 1024, 1e-9);
    // In use: both P (200 MiB) and the running T (200 MiB) for 2 s, then 300.
    EXPECT_NEAR(s.active_mean, (2 * 400 + 1 * 300) / 3.0 / 1024, 1e-9);

    std::ostringstream report;
    print_report(report, jobs, r, s, options, true);
    size_t lines_with_average = 0;
    std::istringstream in(report.str());
    for (std::string line; std::getline(in, line);) {
        if (line.find("average") == std::string::npos) continue;
        ++lines_with_average;
        EXPECT_NE(line.find("2.500000"), std::string::npos) << line;
    }
    EXPECT_EQ(lines_with_average, 1u) << report.str();
}

} // namespace
} // namespace salus::sim::test
