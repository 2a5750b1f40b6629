// The configuration table, its value syntax and the config file parser.
#include "server/config_file.h"
#include "server/config_keys.h"
#include "server/config_values.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace salus::server {
namespace {

TEST(ConfigValues, SizesTakeBinarySuffixesAndFormatExactly) {
    uint64_t v = 0;
    ASSERT_TRUE(parse_size("512M", &v));
    EXPECT_EQ(v, 512ull << 20);
    ASSERT_TRUE(parse_size("3", &v));
    EXPECT_EQ(v, 3u);
    ASSERT_TRUE(parse_size("2T", &v));
    EXPECT_EQ(v, 2ull << 40);
    for (const char *bad : {"", "M", "1.5G", "12Q", "1MB", "-1", " 1", "99999999999T"}) {
        EXPECT_FALSE(parse_size(bad, &v)) << bad;
    }
    EXPECT_EQ(format_size(256ull << 20), "256M");
    EXPECT_EQ(format_size(1ull << 30), "1G");
    EXPECT_EQ(format_size(1000), "1000");
    EXPECT_EQ(format_size(0), "0");
    for (uint64_t n : {1ull, 1023ull, 1024ull, 1536ull << 10, 5ull << 40}) {
        ASSERT_TRUE(parse_size(format_size(n), &v));
        EXPECT_EQ(v, n);
    }
}

TEST(ConfigValues, DurationsTakeUnitsAndDefaultToSeconds) {
    uint64_t ms = 0;
    ASSERT_TRUE(parse_duration_ms("30", &ms));
    EXPECT_EQ(ms, 30000u);
    ASSERT_TRUE(parse_duration_ms("250ms", &ms));
    EXPECT_EQ(ms, 250u);
    ASSERT_TRUE(parse_duration_ms("2m", &ms));
    EXPECT_EQ(ms, 120000u);
    ASSERT_TRUE(parse_duration_ms("1h", &ms));
    EXPECT_EQ(ms, 3600000u);
    for (const char *bad : {"", "s", "1.5s", "10 s", "3d", "-1s"}) {
        EXPECT_FALSE(parse_duration_ms(bad, &ms)) << bad;
    }
    EXPECT_EQ(format_duration_ms(30000), "30s");
    EXPECT_EQ(format_duration_ms(1500), "1500ms");
    EXPECT_EQ(format_duration_ms(0), "0s");
    EXPECT_EQ(format_duration_ms(120000), "2m");
}

TEST(ConfigValues, Booleans) {
    bool b = false;
    for (const char *yes : {"yes", "true", "on", "1"}) {
        b = false;
        ASSERT_TRUE(parse_bool(yes, &b));
        EXPECT_TRUE(b);
    }
    for (const char *no : {"no", "false", "off", "0"}) {
        b = true;
        ASSERT_TRUE(parse_bool(no, &b));
        EXPECT_FALSE(b);
    }
    EXPECT_FALSE(parse_bool("Yes", &b));
    EXPECT_FALSE(parse_bool("", &b));
}

TEST(ConfigValues, SignedIntegersAndReals) {
    int64_t i = 0;
    ASSERT_TRUE(parse_integer("-3", -10, 10, &i));
    EXPECT_EQ(i, -3);
    ASSERT_TRUE(parse_integer("+7", -10, 10, &i));
    EXPECT_EQ(i, 7);
    EXPECT_FALSE(parse_integer("11", -10, 10, &i));
    EXPECT_FALSE(parse_integer("-", -10, 10, &i));
    EXPECT_FALSE(parse_integer("1x", -10, 10, &i));
    double d = 0;
    ASSERT_TRUE(parse_real("2.5", 0, 10, &d));
    EXPECT_EQ(d, 2.5);
    EXPECT_FALSE(parse_real("1e3", 0, 1e9, &d));
    EXPECT_FALSE(parse_real("nan", 0, 1e9, &d));
    EXPECT_FALSE(parse_real("1.2.3", 0, 10, &d));
    EXPECT_FALSE(parse_real("11", 0, 10, &d));
    EXPECT_EQ(format_real(1.0), "1");
    EXPECT_EQ(format_real(2.5), "2.5");
    EXPECT_EQ(format_real(0.125), "0.125");
}

// A new row is checked here too: names unique, its sample valid and shown
// as the formatter writes it, and the sample the default where machine
// independent.
TEST(ConfigKeys, EveryRowIsConsistent) {
    std::set<std::string> names;
    std::set<char> shorts;
    const std::set<std::string> meta = {"config",        "check-config", "dump-config",
                                        "sample-config", "help",         "version"};
    Options defaults;
    for (const ConfigKey &k : config_keys()) {
        SCOPED_TRACE(k.name);
        EXPECT_TRUE(names.insert(k.name).second) << "a second key " << k.name;
        EXPECT_EQ(meta.count(k.name), 0u);
        if (k.short_flag) {
            EXPECT_TRUE(shorts.insert(k.short_flag).second);
        }
        EXPECT_NE(k.short_flag, 'h');
        ASSERT_TRUE(k.parse && k.format);
        EXPECT_TRUE(*k.help);
        Options o;
        std::string why;
        ASSERT_TRUE(k.parse(k.sample, &o, &why)) << why;
        EXPECT_EQ(k.format(o), k.sample);
        if (std::string(k.name) != "socket") {
            EXPECT_EQ(k.format(defaults), k.sample);
        }
        EXPECT_FALSE(k.parse("", &o, &why));
        EXPECT_FALSE(why.empty());
    }
    EXPECT_GE(names.size(), 13u);
}

TEST(ConfigFile, EmptyAndCommentsOnlyAreDefaults) {
    Options o;
    EXPECT_TRUE(parse_config_text("f", "", &o).empty());
    EXPECT_TRUE(parse_config_text("f", "# nothing\n\n   \n\t# still nothing\n", &o).empty());
    EXPECT_EQ(o.policy, Options().policy);
}

TEST(ConfigFile, ValuesApplyInTheirSections) {
    Options o;
    auto errors = parse_config_text(
        "f", "[scheduler]\r\npolicy = srtf\r\n[server]\nworkers=3\n [ device ] \npool-bytes = 1G\n",
        &o);
    ASSERT_TRUE(errors.empty()) << errors[0];
    EXPECT_EQ(o.policy, sched::Policy::srtf);
    EXPECT_EQ(o.workers, 3u);
    EXPECT_EQ(o.pool_bytes, 1ull << 30);
}

TEST(ConfigFile, EveryErrorHasItsLine) {
    Options o;
    auto errors = parse_config_text("/etc/x.conf",
                                    "[server]\n"
                                    "workers = many\n"
                                    "verbose = yes\n"
                                    "verbose = no\n"
                                    "[scheduler]\n"
                                    "socket = /tmp/s\n"
                                    "=\n",
                                    &o);
    ASSERT_EQ(errors.size(), 4u);
    EXPECT_EQ(errors[0].rfind("/etc/x.conf:2: invalid workers \"many\"", 0), 0u) << errors[0];
    EXPECT_EQ(errors[1],
              "/etc/x.conf:4: duplicate key \"verbose\" in [server] (first set on line 3)");
    EXPECT_EQ(errors[2],
              "/etc/x.conf:6: unknown key \"socket\" in [scheduler] (it belongs in [server])");
    EXPECT_EQ(errors[3], "/etc/x.conf:7: a key is missing before '='");
}

TEST(ConfigFile, KeysOfAnUnknownSectionAreReportedOnce) {
    Options o;
    auto errors = parse_config_text("f", "[lanes]\nmax-lanes = 2\npolicy = fifo\n", &o);
    ASSERT_EQ(errors.size(), 1u);
    EXPECT_EQ(errors[0].rfind("f:1: unknown section [lanes]", 0), 0u) << errors[0];
}

} // namespace
} // namespace salus::server
