// The job-switch figures of salusctl status: the count, the ring of recent
// samples and the percentiles over it.
#include "server/switch_latencies.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace salus::server {
namespace {

std::vector<uint64_t> sorted(std::vector<uint64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

TEST(SwitchLatencies, NoneRecordedGivesZeros) {
    SwitchLatencies s(4);
    EXPECT_EQ(s.count(), 0u);
    EXPECT_TRUE(s.recent().empty());
    SwitchPercentiles p = SwitchLatencies::percentiles(s.recent());
    EXPECT_EQ(p.p50_ns, 0u);
    EXPECT_EQ(p.p99_ns, 0u);
}

TEST(SwitchLatencies, KeepsOnlyTheMostRecentSamples) {
    SwitchLatencies s(4);
    for (uint64_t ns : {7, 1, 5}) s.record(ns);
    EXPECT_EQ(s.count(), 3u);
    EXPECT_EQ(sorted(s.recent()), (std::vector<uint64_t>{1, 5, 7}));
    for (uint64_t ns : {9, 2, 8}) s.record(ns);
    EXPECT_EQ(s.count(), 6u); // every switch counts, beyond the ring too
    EXPECT_EQ(sorted(s.recent()), (std::vector<uint64_t>{2, 5, 8, 9}));
}

TEST(SwitchLatencies, PercentilesRoundDown) {
    SwitchLatencies s(1000);
    // 1..100 recorded in a shuffled order: the percentiles sort them.
    for (uint64_t i = 0; i < 100; ++i) s.record((i * 37) % 100 + 1);
    SwitchPercentiles p = SwitchLatencies::percentiles(s.recent());
    EXPECT_EQ(p.p50_ns, 50u); // the lower median of an even count
    EXPECT_EQ(p.p99_ns, 99u);

    SwitchLatencies one(4);
    one.record(42);
    p = SwitchLatencies::percentiles(one.recent());
    EXPECT_EQ(p.p50_ns, 42u);
    EXPECT_EQ(p.p99_ns, 42u);
}

} // namespace
} // namespace salus::server
