// Long random sequences of arrivals and departures with the sizes of the 96
// measured workloads (tests/data/salus-workloads.csv, path in
// SALUS_WORKLOADS_CSV). 1 MiB of the workload is one 64-byte cell of the
// model pool, so a 16 GiB device is 16384 cells. After every event: the
// admission's own invariants, the daemon stand-in's checks (moves keep every
// block's bytes, reports complete, no overlap, conditions hold), the queue
// order, the overtaking bound, and that the head of the queue really does not
// fit. At the end everything is released and the queue must drain.
#include "lanes_harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace salus::lanes::testing {
namespace {

struct Workload {
    std::string name;
    uint64_t p_cells;
    uint64_t t_cells;
};

std::vector<Workload> load_workloads() {
    const char *path = std::getenv("SALUS_WORKLOADS_CSV");
    std::vector<Workload> out;
    if (path == nullptr) return out;
    std::ifstream in(path);
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        std::stringstream row(line);
        std::vector<std::string> cols;
        std::string col;
        while (std::getline(row, col, ',')) cols.push_back(col);
        if (cols.size() < 6) continue;
        const double p = std::stod(cols[4]);
        const double peak = std::stod(cols[5]);
        out.push_back({cols[0], static_cast<uint64_t>(std::ceil(p - 1e-9)),
                       static_cast<uint64_t>(std::ceil(peak - p - 1e-9))});
    }
    return out;
}

struct Config {
    AdmissionMode mode;
    uint64_t pool_gib;
    uint32_t max_overtakes;
    uint32_t max_lanes;
    uint64_t seed;
    bool rebalance = true;
};

class Sequence {
  public:
    Sequence(const Config &config, const std::vector<Workload> &workloads)
        : config_(config), workloads_(workloads), rng_(config.seed),
          h_(config.pool_gib * 1024, config.mode,
             {config.max_overtakes, config.max_lanes, config.rebalance}) {}

    void events(int count) {
        for (int e = 0; e < count && !::testing::Test::HasFatalFailure(); ++e) {
            // Alternate busy and quiet phases: queues build up, then drain.
            const size_t live = admitted_.size() + waiting_.size();
            const bool busy = (e / 2500) % 2 == 0;
            const uint64_t percent = busy ? (live < 40 ? 60u : 45u) : 30u;
            const bool arrive = live < 3 || rng_() % 100 < percent;
            if (arrive) {
                arrival();
            } else {
                std::vector<SessionId> known(admitted_.begin(), admitted_.end());
                known.insert(known.end(), waiting_.begin(), waiting_.end());
                depart(known[rng_() % known.size()]);
            }
        }
    }

    // Releases every admitted session (waiting ones get in meanwhile).
    void drain_all() {
        while (!admitted_.empty() && !::testing::Test::HasFatalFailure()) {
            auto it = admitted_.begin();
            std::advance(it, static_cast<long>(rng_() % admitted_.size()));
            depart(*it);
        }
        EXPECT_TRUE(waiting_.empty());
        EXPECT_EQ(h_.admission.queued_count(), 0u);
        EXPECT_EQ(h_.admission.lane_count(), 0u);
        EXPECT_EQ(h_.admission.free_bytes(), h_.admission.pool_bytes());
        if (config_.max_overtakes == 0) {
            EXPECT_EQ(from_queue_, queue_order_) << "strict FIFO must admit in arrival order";
        }
    }

    const AdmissionStats &stats() const { return h_.admission.stats(); }

    int refused = 0;
    int queued = 0;
    size_t max_live = 0;
    size_t max_lanes_seen = 0;
    size_t moves = 0;

  private:
    void arrival() {
        const Workload &w = workloads_[rng_() % workloads_.size()];
        uint64_t p = w.p_cells;
        uint64_t t = w.t_cells;
        const uint64_t roll = rng_() % 100;
        if (roll == 0) p = 0;
        if (roll == 1) t = 0;
        if (roll == 2) p = t = 0;
        const SessionId id = next_id_++;
        AdmitResult r = h_.admission.admit(id, p * U, t * U);
        if ((p + t) * U > h_.admission.pool_bytes()) {
            ASSERT_EQ(r.status.code(), SALUS_ERESOURCE);
            ASSERT_NE(r.status.message().find(std::to_string(p * U)), std::string::npos);
            ASSERT_NE(r.status.message().find(std::to_string(t * U)), std::string::npos);
            ++refused;
            check({}, std::nullopt);
            return;
        }
        ASSERT_TRUE(r.status.ok()) << r.status.message();
        sizes_[id] = {p * U, t * U};
        if (r.queued) {
            waiting_.push_back(id);
            overtaken_[id] = 0;
            queue_order_.push_back(id);
            ++queued;
        }
        check(r.change, std::nullopt);
    }

    void depart(SessionId id) {
        ReleaseResult r = h_.admission.release(id);
        ASSERT_TRUE(r.status.ok()) << r.status.message();
        auto w = std::find(waiting_.begin(), waiting_.end(), id);
        if (w != waiting_.end()) {
            waiting_.erase(w);
            queue_order_.erase(std::find(queue_order_.begin(), queue_order_.end(), id));
        } else {
            admitted_.erase(id);
        }
        check(r.change, id);
    }

    void note_admitted(SessionId id) {
        // Everyone still waiting who arrived earlier is overtaken.
        auto self = std::find(waiting_.begin(), waiting_.end(), id);
        for (auto it = waiting_.begin(); it != self; ++it) {
            ASSERT_LE(++overtaken_[*it], config_.max_overtakes) << "session " << *it;
        }
        if (self != waiting_.end()) {
            waiting_.erase(self);
            from_queue_.push_back(id);
        }
        admitted_.insert(id);
    }

    void check(const LayoutChange &change, std::optional<SessionId> released) {
        for (const SessionPlacement &p : change.admitted) note_admitted(p.session);
        moves += change.moves.size();
        ASSERT_EQ(h_.admission.check_invariants(), "");
        ASSERT_EQ(h_.mirror.apply(change, released), "");
        std::vector<SessionId> reported;
        for (const QueuedSession &q : h_.admission.queue()) reported.push_back(q.session);
        ASSERT_EQ(reported, waiting_);
        ASSERT_EQ(h_.admission.admitted_count(), admitted_.size());
        if (!waiting_.empty()) {
            ASSERT_FALSE(head_fits());
        }
        max_live = std::max(max_live, admitted_.size());
        max_lanes_seen = std::max(max_lanes_seen, h_.admission.lane_count());
    }

    // From the test's own bookkeeping: would the head fit the whole pool with
    // everything admitted packed into one lane?
    bool head_fits() const {
        uint64_t sum_p = 0, sum_t = 0, max_t = 0;
        for (SessionId id : admitted_) {
            sum_p += sizes_.at(id).first;
            sum_t += sizes_.at(id).second;
            max_t = std::max(max_t, sizes_.at(id).second);
        }
        const auto [p, t] = sizes_.at(waiting_.front());
        const uint64_t need = config_.mode == AdmissionMode::Safe ? sum_p + p + std::max(max_t, t)
                                                                  : sum_p + sum_t + p + t;
        return need <= h_.admission.pool_bytes();
    }

    Config config_;
    const std::vector<Workload> &workloads_;
    std::mt19937_64 rng_;
    Harness h_;
    SessionId next_id_ = 1;
    std::map<SessionId, std::pair<uint64_t, uint64_t>> sizes_;
    std::set<SessionId> admitted_;
    std::vector<SessionId> waiting_; // in arrival order
    std::map<SessionId, uint32_t> overtaken_;
    std::vector<SessionId> queue_order_; // every session that ever waited, arrival order
    std::vector<SessionId> from_queue_;  // the order they were admitted in
};

class RandomSequence : public ::testing::TestWithParam<Config> {};

TEST_P(RandomSequence, KeepsEveryInvariantAndDrains) {
    static const std::vector<Workload> workloads = load_workloads();
    ASSERT_EQ(workloads.size(), 96u) << "set SALUS_WORKLOADS_CSV to tests/data/salus-workloads.csv";
    Sequence run(GetParam(), workloads);
    run.events(20000);
    run.drain_all();
    const AdmissionStats &st = run.stats();
    std::printf("  refused %d, queued %d, most admitted at once %zu, most lanes %zu\n"
                "  admitted by step: joined %llu (compacted %llu), new lane %llu, "
                "re-partitioned %llu, grown %llu, merged %llu; rebalanced %llu; moves %zu\n",
                run.refused, run.queued, run.max_live, run.max_lanes_seen,
                static_cast<unsigned long long>(st.joined),
                static_cast<unsigned long long>(st.in_lane_compactions),
                static_cast<unsigned long long>(st.new_lanes),
                static_cast<unsigned long long>(st.repartitioned),
                static_cast<unsigned long long>(st.grown),
                static_cast<unsigned long long>(st.merged),
                static_cast<unsigned long long>(st.rebalanced), run.moves);
    // Every path of admission is exercised by these sequences.
    EXPECT_GT(st.joined, 0u);
    EXPECT_GT(st.new_lanes, 0u);
    EXPECT_GT(st.repartitioned + st.grown, 0u);
    if (GetParam().mode == AdmissionMode::Safe && GetParam().max_lanes != 1) {
        EXPECT_GT(st.merged, 0u);
    }
    if (GetParam().rebalance && GetParam().max_lanes != 1) {
        EXPECT_GT(st.rebalanced, 0u);
    } else {
        EXPECT_EQ(st.rebalanced, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Lanes, RandomSequence,
                         ::testing::Values(Config{AdmissionMode::Safe, 16, 4, 0, 1},
                                           Config{AdmissionMode::Safe, 8, 0, 0, 2},
                                           Config{AdmissionMode::Safe, 6, 2, 3, 3},
                                           Config{AdmissionMode::Safe, 16, 8, 1, 4},
                                           Config{AdmissionMode::Static, 16, 4, 0, 5},
                                           Config{AdmissionMode::Static, 8, 1, 2, 6},
                                           Config{AdmissionMode::Safe, 6, 2, 3, 7, false}));

// Thousands of live sessions: admission must stay cheap (no quadratic work per
// call). No model pool here; the invariants are checked every 1000 events.
TEST(RandomSequence, ThousandsOfSessionsStayCheap) {
    // About 6 GiB of P + T would arrive into 2 GiB: lanes fill, grow and merge.
    Admission admission(uint64_t{1} << 31, AdmissionMode::Safe, {4, 0});
    std::mt19937_64 rng(99);
    std::vector<SessionId> live;
    SessionId next = 1;
    const auto start = std::chrono::steady_clock::now();
    for (int e = 0; e < 30000; ++e) {
        if (live.size() < 3000 || rng() % 2 == 0) {
            const uint64_t p = (1 + rng() % 4096) * U;
            const uint64_t t = (rng() % 65536) * U;
            AdmitResult r = admission.admit(next, p, t);
            ASSERT_TRUE(r.status.ok());
            live.push_back(next++);
        } else {
            const size_t i = rng() % live.size();
            ASSERT_TRUE(admission.release(live[i]).status.ok());
            live[i] = live.back();
            live.pop_back();
        }
        if (e % 1000 == 0) {
            ASSERT_EQ(admission.check_invariants(), "");
        }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const AdmissionStats &st = admission.stats();
    std::printf(
        "  30000 events, %zu lanes, %zu sessions: %.1f us per event\n"
        "  joined %llu, new lane %llu, re-partitioned %llu, grown %llu, merged %llu, "
        "rebalanced %llu, queued %llu; %.1f MiB moved\n",
        admission.lane_count(), admission.admitted_count() + admission.queued_count(),
        seconds / 30000 * 1e6, static_cast<unsigned long long>(st.joined),
        static_cast<unsigned long long>(st.new_lanes),
        static_cast<unsigned long long>(st.repartitioned),
        static_cast<unsigned long long>(st.grown), static_cast<unsigned long long>(st.merged),
        static_cast<unsigned long long>(st.rebalanced), static_cast<unsigned long long>(st.queued),
        static_cast<double>(st.bytes_moved) / (1024.0 * 1024.0));
}

} // namespace
} // namespace salus::lanes::testing
