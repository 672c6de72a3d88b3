#include "run_series.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <thread>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

namespace runicorn::storage::series {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::ElementsAre;

fs::path fixture_root() { return fs::path(RUNICORN_FIXTURE_DIR); }

fs::path run_dir(std::string_view id) {
    for (const auto& e : fs::recursive_directory_iterator(fixture_root() / "store" / "runs")) {
        if (e.is_directory() && e.path().filename() == id) {
            return e.path();
        }
    }
    ADD_FAILURE() << "no run " << id;
    return {};
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_file(const fs::path& p, std::string_view text, bool append = false) {
    std::ofstream out(p, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
    out << text;
}

json::value to_json(const CompatValue& v) {
    switch (v.kind) {
        case CompatValue::Kind::kNull:
            return nullptr;
        case CompatValue::Kind::kBool:
            return v.b;
        case CompatValue::Kind::kInt:
            return v.i;
        case CompatValue::Kind::kDouble:
            return v.d;
        case CompatValue::Kind::kString:
            return json::string(v.s);
    }
    return nullptr;
}

// Row r as a JSON object, leaving out `skip` (our extra `epoch` column).
json::object row_json(const CompatTable& t, std::size_t r, std::string_view skip = {}) {
    json::object o;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
        if (t.columns[c] != skip) {
            o[t.columns[c]] = to_json(t.rows[r][c]);
        }
    }
    return o;
}

json::value parse_json(std::string_view text) { return json::parse(text); }

CompatTable fixture_table(std::string_view id, std::optional<std::int64_t> downsample = {}) {
    RunSeries rs(run_dir(id) / "events.jsonl", {}, nullptr);
    auto info = rs.refresh();
    EXPECT_TRUE(info.has_value()) << info.error();
    auto t = rs.compat_rows(downsample);
    EXPECT_TRUE(t.has_value()) << t.error();
    return t.has_value() ? *t : CompatTable{};
}

// A scratch directory, removed at the end of the test.
class RunSeriesTmpTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("rn-series-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    fs::path dir_;
};

std::string metric_line(int step, double loss, std::string_view extra = {}) {
    std::string s = R"({"ts": )" + std::to_string(1700000000 + step) +
                    R"(.5, "type": "metrics", "data": {"loss": )";
    if (std::isnan(loss)) {
        s += "NaN";
    } else {
        std::ostringstream ss;
        ss.precision(17);
        ss << loss;
        s += ss.str();
    }
    s += extra;
    s += R"(, "global_step": )" + std::to_string(step) + R"(, "time": )" +
         std::to_string(1700000000 + step) + ".5}}\n";
    return s;
}

// --- Fixture: every run against expected.json and the README. --------------------------------

TEST(RunSeriesFixtureTest, EveryRunMatchesExpectedJson) {
    const json::value expected = parse_json(read_file(fixture_root() / "expected.json"));
    const json::object& metrics = expected.at("metrics").as_object();
    int checked = 0;
    for (const auto& [id_sv, body_v] : metrics) {
        const std::string id(id_sv);
        const json::object& body = body_v.as_object();
        if (body.at("http_status").as_int64() != 200) {
            continue;  // the soft-deleted run: 404 is the route's business
        }
        SCOPED_TRACE(id);
        const CompatTable t = fixture_table(id);
        // Our columns = v0.6's plus `epoch` where the run logs it (API.md §2.3 rule 3).
        std::vector<std::string> ours;
        for (const auto& c : t.columns) {
            if (c != "epoch") {
                ours.push_back(c);
            }
        }
        std::vector<std::string> theirs;
        for (const auto& c : body.at("columns").as_array()) {
            theirs.emplace_back(c.as_string());
        }
        EXPECT_EQ(ours, theirs);
        EXPECT_EQ(t.total, body.at("total").as_int64());
        EXPECT_EQ(t.sampled, body.at("sampled").as_int64());
        if (const auto* rows = body.if_contains("rows")) {
            ASSERT_EQ(t.rows.size(), rows->as_array().size());
            for (std::size_t r = 0; r < t.rows.size(); ++r) {
                EXPECT_EQ(json::value(row_json(t, r, "epoch")), rows->as_array()[r]) << "row " << r;
            }
        } else {
            const auto& first = body.at("first_rows").as_array();
            const auto& last = body.at("last_rows").as_array();
            for (std::size_t r = 0; r < first.size(); ++r) {
                EXPECT_EQ(json::value(row_json(t, r)), first[r]);
            }
            for (std::size_t r = 0; r < last.size(); ++r) {
                EXPECT_EQ(json::value(row_json(t, t.rows.size() - last.size() + r)), last[r]);
            }
        }
        ++checked;
    }
    EXPECT_EQ(checked, 11);
}

TEST(RunSeriesFixtureTest, ReadmeKitchenRun) {
    const CompatTable t = fixture_table("20250115_100000_6cefa5");
    EXPECT_THAT(t.columns, ElementsAre("global_step", "acc", "loss", "lr", "stage", "time",
                                       "val_acc", "val_loss"));
    EXPECT_EQ(t.total, 30U);
    ASSERT_EQ(t.rows.size(), 30U);
    EXPECT_EQ(json::value(row_json(t, 0)),
              parse_json(R"({"global_step": 1, "loss": 2.136017, "acc": 0.13, "lr": 0.09,
                  "time": 1736935200.51, "stage": "train", "val_acc": null, "val_loss": null})"));
    EXPECT_EQ(json::value(row_json(t, 29)),
              parse_json(R"({"global_step": 30, "loss": 0.220892, "acc": 1.0, "lr": 0.0729,
                  "time": 1736935218.042, "stage": "eval", "val_loss": 0.320892, "val_acc": 0.8})"));
    EXPECT_EQ(t.last_step, 30);
}

TEST(RunSeriesFixtureTest, ReadmeInterruptedRunKeepsEpoch) {
    const CompatTable t = fixture_table("20250115_104500_6e73fa");
    // v0.6's 12 columns plus `epoch`: 13 with us.
    EXPECT_THAT(t.columns, ElementsAre("global_step", "big", "count", "epoch", "grad_norm", "huge",
                                       "is_best", "loss", "lr", "note", "phase", "ratio", "time"));
    EXPECT_EQ(t.total, 5U);
    ASSERT_EQ(t.rows.size(), 5U);
    EXPECT_EQ(json::value(row_json(t, 0)),
              parse_json(R"({"global_step": 1, "loss": 1.0, "phase": "warmup", "epoch": 0,
                  "time": 1736937901.003, "big": null, "count": null, "grad_norm": null,
                  "huge": null, "is_best": null, "lr": null, "note": null, "ratio": null})"));
    EXPECT_EQ(json::value(row_json(t, 4)),
              parse_json(R"({"global_step": 5, "loss": -0.0, "phase": "done", "ratio": 1e-12,
                  "huge": 1.5e+300, "time": 1736937905.007, "big": null, "count": null,
                  "epoch": null, "grad_norm": null, "is_best": null, "lr": null, "note": null})"));
    EXPECT_TRUE(std::signbit(t.rows[4][7].d));  // -0.0 stays negative
    // NaN/±Infinity -> null; ints stay ints; bools stay bools.
    EXPECT_EQ(json::value(row_json(t, 1)).at("loss"), nullptr);
    EXPECT_EQ(json::value(row_json(t, 1)).at("grad_norm"), nullptr);
    EXPECT_EQ(json::value(row_json(t, 2)).at("grad_norm"), nullptr);
    EXPECT_EQ(json::value(row_json(t, 2)).at("is_best"), true);
    EXPECT_EQ(json::value(row_json(t, 3)).at("big"), json::value(std::int64_t{12345678901234}));
    EXPECT_EQ(json::value(row_json(t, 3)).at("epoch"), json::value(std::int64_t{1}));
}

TEST(RunSeriesFixtureTest, ReadmeRootDefaultAndEmptyRuns) {
    const CompatTable root = fixture_table("20250115_120000_2eeb83");
    EXPECT_THAT(root.columns, ElementsAre("global_step", "time", "x", "y"));
    EXPECT_EQ(json::value(row_json(root, 0)),
              parse_json(R"({"global_step": 1, "x": 1, "y": 0.1, "time": 1736942401.003})"));
    EXPECT_EQ(json::value(row_json(root, 4)),
              parse_json(R"({"global_step": 5, "x": 5, "y": 2.5, "time": 1736942405.007})"));

    const CompatTable def = fixture_table("20250115_113000_05a59a");
    EXPECT_THAT(def.columns, ElementsAre("global_step", "a", "b", "stage", "time"));
    EXPECT_EQ(def.total, 5U);
    EXPECT_EQ(json::value(row_json(def, 0)),
              parse_json(R"({"global_step": 1, "a": 3.0, "time": 1736940600.005, "b": 2.0,
                  "stage": null})"));
    EXPECT_EQ(json::value(row_json(def, 4)),
              parse_json(R"({"global_step": 5, "a": 8.0, "time": 1736940600.01, "stage": "test",
                  "b": null})"));

    const CompatTable empty = fixture_table("20250115_114500_1a030f");
    EXPECT_TRUE(empty.columns.empty());
    EXPECT_TRUE(empty.rows.empty());
    EXPECT_EQ(empty.total, 0U);
    EXPECT_EQ(empty.sampled, 0U);
    EXPECT_FALSE(empty.last_step.has_value());
}

TEST(RunSeriesFixtureTest, LongRunDownsample) {
    const CompatTable t = fixture_table("20250115_111500_06bd22", 100);
    EXPECT_EQ(t.total, 5000U);
    EXPECT_EQ(t.sampled, t.rows.size());
    EXPECT_LE(t.rows.size(), 100U);
    EXPECT_GE(t.rows.size(), 90U);
    EXPECT_EQ(json::value(row_json(t, 0)),
              parse_json(R"({"global_step": 1, "loss": 4.978974, "acc": 0.002636, "lr": 0.001,
                  "time": 1736939700.203, "stage": "train"})"));
    EXPECT_EQ(json::value(row_json(t, t.rows.size() - 1)),
              parse_json(R"({"global_step": 5000, "loss": 0.019817, "acc": 0.996174,
                  "lr": 3.1e-05, "time": 1736940705.002, "stage": "train"})"));
    for (std::size_t r = 1; r < t.rows.size(); ++r) {
        EXPECT_LT(t.rows[r - 1][0].i, t.rows[r][0].i);
    }
    // Without downsample, or with one >= total, everything comes back.
    EXPECT_EQ(fixture_table("20250115_111500_06bd22", 5000).rows.size(), 5000U);
    EXPECT_EQ(fixture_table("20250115_111500_06bd22", 5000).sampled, 5000U);
}

TEST(RunSeriesFixtureTest, DownsampleOutOfRangeIsRejected) {
    RunSeries rs(run_dir("20250115_111500_06bd22") / "events.jsonl", {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());
    auto low = rs.compat_rows(50);
    ASSERT_FALSE(low.has_value());
    EXPECT_EQ(low.error(),
              Status::invalid_argument("downsample: Input should be greater than or equal to 100"));
    auto high = rs.compat_rows(50001);
    ASSERT_FALSE(high.has_value());
    EXPECT_EQ(high.error(),
              Status::invalid_argument("downsample: Input should be less than or equal to 50000"));
    EXPECT_TRUE(rs.compat_rows(100).has_value());
    EXPECT_TRUE(rs.compat_rows(50000).has_value());
}

TEST(RunSeriesFixtureTest, KeySummariesAndStages) {
    RunSeries rs(run_dir("20250115_104500_6e73fa") / "events.jsonl", {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());
    const auto keys = rs.key_summaries();
    const auto find = [&](std::string_view k) {
        for (const auto& s : keys) {
            if (s.key == k) {
                return s;
            }
        }
        ADD_FAILURE() << "no key " << k;
        return KeySummary{};
    };
    const KeySummary loss = find("loss");
    EXPECT_EQ(loss.count, 5U);
    EXPECT_EQ(loss.numeric_count, 5U);
    EXPECT_EQ(loss.nonfinite_count, 1U);
    EXPECT_EQ(loss.min, -0.0);
    EXPECT_EQ(loss.max, 1.0);
    EXPECT_EQ(loss.first_step, 1);
    EXPECT_EQ(loss.last_step, 5);
    const KeySummary phase = find("phase");
    EXPECT_EQ(phase.count, 4U);
    EXPECT_EQ(phase.numeric_count, 0U);
    EXPECT_FALSE(phase.min.has_value());
    EXPECT_EQ(find("grad_norm").nonfinite_count, 2U);
    for (const auto& s : keys) {
        EXPECT_NE(s.key, "hist");
        EXPECT_NE(s.key, "cfg");
        EXPECT_NE(s.key, "global_step");
    }

    RunSeries many(run_dir("20250115_110000_3256c3") / "events.jsonl", {}, nullptr);
    ASSERT_TRUE(many.refresh().has_value());
    EXPECT_THAT(many.stages(), ElementsAre("train", "eval"));
}

// --- Incremental reading, validation and persistence. ----------------------------------------

TEST_F(RunSeriesTmpTest, AppendParsesOnlyNewBytesAndMatchesRebuild) {
    const std::string all = read_file(run_dir("20250115_100000_6cefa5") / "events.jsonl");
    std::size_t cut = 0;
    for (int i = 0; i < 12; ++i) {
        cut = all.find('\n', cut) + 1;
    }
    const fs::path ev = dir_ / "events.jsonl";
    write_file(ev, all.substr(0, cut));
    RunSeries rs(ev, {}, nullptr);
    auto first = rs.refresh();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->bytes_parsed, cut);
    EXPECT_EQ(rs.read_stats().offset, cut);

    write_file(ev, all.substr(cut), true);
    auto second = rs.refresh();
    ASSERT_TRUE(second.has_value());
    EXPECT_FALSE(second->rebuilt);
    EXPECT_EQ(second->bytes_parsed, all.size() - cut);
    EXPECT_EQ(rs.read_stats().offset, all.size());

    auto nothing = rs.refresh();
    ASSERT_TRUE(nothing.has_value());
    EXPECT_EQ(nothing->bytes_parsed, 0U);

    RunSeries fresh(ev, {}, nullptr);
    ASSERT_TRUE(fresh.refresh().has_value());
    auto a = rs.compat_rows(std::nullopt);
    auto b = fresh.compat_rows(std::nullopt);
    ASSERT_TRUE(a.has_value() && b.has_value());
    EXPECT_EQ(a->columns, b->columns);
    EXPECT_EQ(a->rows, b->rows);
    EXPECT_EQ(a->total, 30U);
}

TEST_F(RunSeriesTmpTest, TornLastLineIsNotConsumedUntilComplete) {
    const fs::path ev = dir_ / "events.jsonl";
    const std::string l1 = metric_line(1, 0.5);
    const std::string l2 = metric_line(2, 0.25);
    write_file(ev, l1 + l2.substr(0, 30));
    RunSeries rs(ev, {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());
    EXPECT_EQ(rs.read_stats().offset, l1.size());
    EXPECT_EQ(rs.read_stats().records, 1U);
    EXPECT_EQ(rs.read_stats().bad_lines, 0U);

    write_file(ev, l2.substr(30), true);
    auto info = rs.refresh();
    ASSERT_TRUE(info.has_value());
    EXPECT_FALSE(info->rebuilt);
    EXPECT_EQ(info->bytes_parsed, l2.size());
    EXPECT_EQ(rs.read_stats().records, 2U);
    auto t = rs.compat_rows(std::nullopt);
    ASSERT_TRUE(t.has_value());
    ASSERT_EQ(t->rows.size(), 2U);
    EXPECT_EQ(t->rows[1][1].d, 0.25);
}

TEST_F(RunSeriesTmpTest, InodeChangeAndSameSizeRewriteRebuild) {
    const fs::path ev = dir_ / "events.jsonl";
    write_file(ev, metric_line(1, 0.5) + metric_line(2, 0.25));
    RunSeries rs(ev, {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());

    // Same size, different bytes, same inode.
    write_file(ev, metric_line(1, 0.7) + metric_line(2, 0.35));
    auto info = rs.refresh();
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(info->rebuilt);
    auto t = rs.compat_rows(std::nullopt);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->rows[0][1].d, 0.7);

    // Same bytes, new inode (a rename over the file).
    const fs::path other = dir_ / "new.jsonl";
    write_file(other, read_file(ev));
    fs::rename(other, ev);
    info = rs.refresh();
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(info->rebuilt);

    // Truncated below the offset.
    write_file(ev, metric_line(1, 0.9));
    info = rs.refresh();
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(info->rebuilt);
    EXPECT_EQ(rs.read_stats().records, 1U);

    // Gone: an empty run.
    fs::remove(ev);
    info = rs.refresh();
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(rs.compat_rows(std::nullopt)->columns.empty());
}

TEST_F(RunSeriesTmpTest, PersistedCacheIsReusedAndExtended) {
    const fs::path ev = dir_ / "events.jsonl";
    const fs::path cache = series_cache_dir(dir_ / "root", "0123456789abcdef0123456789abcdef");
    EXPECT_EQ(cache,
              dir_ / "root" / "index" / "series" / "01" / "0123456789abcdef0123456789abcdef");
    const std::string all = read_file(run_dir("20250115_104500_6e73fa") / "events.jsonl");
    const std::size_t cut = all.find('\n', all.find('\n') + 1) + 1;  // two lines
    write_file(ev, all.substr(0, cut));
    {
        RunSeries rs(ev, cache, nullptr);
        ASSERT_TRUE(rs.refresh().has_value());
        ASSERT_EQ(rs.save(), ok_status());
        EXPECT_TRUE(fs::exists(cache / "header.json"));
    }
    write_file(ev, all.substr(cut), true);
    RunSeries reopened(ev, cache, nullptr);
    auto info = reopened.refresh();
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(info->loaded_from_disk);
    EXPECT_FALSE(info->rebuilt);
    EXPECT_EQ(info->bytes_parsed, all.size() - cut);  // only what was appended after the save
    ASSERT_EQ(reopened.save(), ok_status());

    RunSeries third(ev, cache, nullptr);
    info = third.refresh();
    ASSERT_TRUE(info.has_value());
    EXPECT_TRUE(info->loaded_from_disk);
    EXPECT_EQ(info->bytes_parsed, 0U);

    RunSeries memory(ev, {}, nullptr);
    ASSERT_TRUE(memory.refresh().has_value());
    auto a = third.compat_rows(std::nullopt);
    auto b = memory.compat_rows(std::nullopt);
    ASSERT_TRUE(a.has_value() && b.has_value());
    EXPECT_EQ(a->columns, b->columns);
    EXPECT_EQ(a->rows, b->rows);

    // A cache that no longer matches the file (rewritten) is not used.
    write_file(ev, metric_line(1, 0.5));
    RunSeries stale(ev, cache, nullptr);
    info = stale.refresh();
    ASSERT_TRUE(info.has_value());
    EXPECT_FALSE(info->loaded_from_disk);
    EXPECT_EQ(stale.read_stats().records, 1U);

    // A broken header is ignored, never trusted.
    write_file(cache / "header.json", "{not json");
    RunSeries broken(ev, cache, nullptr);
    info = broken.refresh();
    ASSERT_TRUE(info.has_value());
    EXPECT_FALSE(info->loaded_from_disk);
    EXPECT_EQ(broken.read_stats().records, 1U);
}

TEST_F(RunSeriesTmpTest, OversizedLineIsSkippedAndCounted) {
    const fs::path ev = dir_ / "events.jsonl";
    std::string big = R"({"type": "metrics", "data": {"blob": ")";
    big.append((std::size_t{16} << 20) + 10, 'x');
    big += R"(", "global_step": 2}})";
    write_file(ev, "\xEF\xBB\xBF" + metric_line(1, 0.5) + big);  // BOM, then an unterminated giant
    RunSeries rs(ev, {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());
    EXPECT_EQ(rs.read_stats().records, 1U);
    EXPECT_EQ(rs.read_stats().offset, 3 + metric_line(1, 0.5).size());  // never past it (C3)
    EXPECT_EQ(rs.read_stats().bad_lines, 0U);

    write_file(ev, "\n" + metric_line(3, 0.25), true);
    ASSERT_TRUE(rs.refresh().has_value());
    EXPECT_EQ(rs.read_stats().records, 2U);
    EXPECT_EQ(rs.read_stats().bad_lines, 1U);
    EXPECT_EQ(rs.read_stats().first_bad_line, 2U);
    EXPECT_EQ(rs.read_stats().lines, 3U);
    EXPECT_EQ(rs.read_stats().offset, fs::file_size(ev));
    auto t = rs.compat_rows(std::nullopt);
    ASSERT_TRUE(t.has_value());
    EXPECT_THAT(t->columns, ElementsAre("global_step", "loss", "time"));
    EXPECT_EQ(t->rows.size(), 2U);
}

TEST_F(RunSeriesTmpTest, QueriesRunWhileRefreshing) {
    const fs::path ev = dir_ / "events.jsonl";
    write_file(ev, metric_line(1, 0.5));
    RunSeries rs(ev, {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());
    std::atomic<bool> stop{false};
    std::atomic<int> bad{0};
    std::thread reader([&] {
        SeriesQuery q;
        q.keys = {"loss"};
        while (!stop.load()) {
            auto t = rs.compat_rows(100);
            auto s = rs.series(q);
            // Each answer is a consistent prefix of the file: steps 1..N, nothing torn.
            if (!t.has_value() || !s.has_value() || t->rows.empty() ||
                t->rows.back()[0].i != static_cast<std::int64_t>(t->total) ||
                s->series[0].x.size() != s->series[0].total ||
                s->series[0].x.back() != static_cast<double>(s->series[0].total)) {
                ++bad;
            }
        }
    });
    for (int i = 2; i <= 300; ++i) {
        write_file(ev, metric_line(i, 1.0 / i), true);
        ASSERT_TRUE(rs.refresh().has_value());
    }
    stop = true;
    reader.join();
    EXPECT_EQ(bad.load(), 0);
    EXPECT_EQ(rs.read_stats().records, 300U);
}

// --- The NEW series query. --------------------------------------------------------------------

class SeriesQueryTest : public RunSeriesTmpTest {
protected:
    // n steps of loss = sin(step / 50), with spikes, NaNs and a stage switch halfway.
    void write_run(int n) {
        std::string text;
        for (int i = 1; i <= n; ++i) {
            double v = std::sin(i / 50.0);
            if (i == n / 3) {
                v = 40.0;
            }
            if (i == 2 * n / 3) {
                v = -40.0;
            }
            if (i % 1000 == 7) {
                v = std::numeric_limits<double>::quiet_NaN();
            }
            text +=
                metric_line(i, v, i <= n / 2 ? R"(, "stage": "train")" : R"(, "stage": "eval")");
        }
        write_file(dir_ / "events.jsonl", text);
    }
};

TEST_F(SeriesQueryTest, LttbKeepsEndsSpikesAndNonFinite) {
    write_run(20000);
    RunSeries rs(dir_ / "events.jsonl", {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());
    SeriesQuery q;
    q.keys = {"loss", "missing"};
    q.points = 500;
    auto r = rs.series(q);
    ASSERT_TRUE(r.has_value()) << r.error();
    ASSERT_EQ(r->series.size(), 2U);
    const Series& s = r->series[0];
    EXPECT_TRUE(s.found);
    EXPECT_EQ(s.total, 20000U);
    EXPECT_EQ(s.nonfinite_total, 20U);
    EXPECT_EQ(s.returned, s.x.size());
    EXPECT_EQ(s.x.front(), 1.0);
    EXPECT_EQ(s.x.back(), 20000.0);
    EXPECT_EQ(s.x.size(), 500U + 20U);  // LTTB points plus every non-finite point
    EXPECT_THAT(s.y, ::testing::Contains(40.0));
    EXPECT_THAT(s.y, ::testing::Contains(-40.0));
    for (std::size_t i = 1; i < s.x.size(); ++i) {
        EXPECT_LT(s.x[i - 1], s.x[i]);
    }
    EXPECT_FALSE(r->series[1].found);
    EXPECT_EQ(r->last_step, 20000);
    ASSERT_EQ(r->stages.size(), 2U);
    EXPECT_EQ(r->stages[0].x, 1.0);
    EXPECT_EQ(r->stages[0].stage, "train");
    EXPECT_EQ(r->stages[1].x, 10001.0);
    EXPECT_EQ(r->stages[1].stage, "eval");
}

TEST_F(SeriesQueryTest, MinMaxBucketsHoldTheTrueExtremes) {
    write_run(300000);  // large enough for the pyramid and the MinMaxLTTB path
    RunSeries rs(dir_ / "events.jsonl", {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());
    SeriesQuery q;
    q.keys = {"loss"};
    q.method = Method::kMinMax;
    q.points = 100;
    auto r = rs.series(q);
    ASSERT_TRUE(r.has_value());
    const Series& s = r->series[0];
    EXPECT_THAT(s.y, ::testing::Contains(40.0));
    EXPECT_THAT(s.y, ::testing::Contains(-40.0));
    // 50 buckets of 6000 steps: every bucket's finite max is in the answer.
    for (int b = 0; b < 50; ++b) {
        double mx = -1e9;
        for (int i = b * 6000 + 1; i <= (b + 1) * 6000; ++i) {
            double v = std::sin(i / 50.0);
            if (i == 100000) {
                v = 40.0;
            }
            if (i == 200000) {
                v = -40.0;
            }
            if (i % 1000 != 7) {
                mx = std::max(mx, v);
            }
        }
        EXPECT_THAT(s.y, ::testing::Contains(mx)) << "bucket " << b;
    }

    // 300k points to 100: LTTB on min/max-preselected candidates (MinMaxLTTB).
    q.method = Method::kLttb;
    q.points = 100;
    r = rs.series(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->series[0].x.size(), 100U + 300U);  // plus every non-finite point
    EXPECT_EQ(r->series[0].x.front(), 1.0);
    EXPECT_EQ(r->series[0].x.back(), 300000.0);
    EXPECT_THAT(r->series[0].y, ::testing::Contains(40.0));
    EXPECT_THAT(r->series[0].y, ::testing::Contains(-40.0));

    q.points = 2000;
    r = rs.series(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->series[0].x.front(), 1.0);
    EXPECT_EQ(r->series[0].x.back(), 300000.0);
    EXPECT_THAT(r->series[0].y, ::testing::Contains(40.0));
    EXPECT_THAT(r->series[0].y, ::testing::Contains(-40.0));
}

TEST_F(SeriesQueryTest, RangeStageTimeAndNone) {
    write_run(5000);
    RunSeries rs(dir_ / "events.jsonl", {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());
    SeriesQuery q;
    q.keys = {"loss"};
    q.x_min = 100;
    q.x_max = 199;
    q.method = Method::kNone;
    q.points = 50;
    auto r = rs.series(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->series[0].total, 100U);
    EXPECT_TRUE(r->series[0].truncated);
    EXPECT_EQ(r->series[0].x.size(), 50U);
    EXPECT_EQ(r->series[0].x.front(), 100.0);

    q = SeriesQuery{};
    q.keys = {"loss"};
    q.stage = "eval";
    q.method = Method::kNone;
    q.points = 50000;
    r = rs.series(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->series[0].total, 2500U);
    EXPECT_EQ(r->series[0].x.front(), 2501.0);

    q = SeriesQuery{};
    q.keys = {"loss"};
    q.x = XAxis::kRelativeTime;
    q.method = Method::kNone;
    q.points = 10;
    r = rs.series(q);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->series[0].x.front(), 0.0);
    EXPECT_EQ(r->series[0].x[1], 1.0);

    q.points = 9;
    r = rs.series(q);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(),
              Status::invalid_argument("points: Input should be greater than or equal to 10"));

    // Default keys: numeric keys except `time`.
    r = rs.series(SeriesQuery{});
    ASSERT_TRUE(r.has_value());
    ASSERT_EQ(r->series.size(), 1U);
    EXPECT_EQ(r->series[0].key, "loss");
}

TEST_F(SeriesQueryTest, CompatDownsampleOnLargeRun) {
    write_run(200000);
    RunSeries rs(dir_ / "events.jsonl", {}, nullptr);
    ASSERT_TRUE(rs.refresh().has_value());
    auto t = rs.compat_rows(2000);
    ASSERT_TRUE(t.has_value());
    EXPECT_EQ(t->total, 200000U);
    EXPECT_LE(t->rows.size(), 2000U);
    EXPECT_EQ(t->sampled, t->rows.size());
    EXPECT_EQ(t->rows.front()[0].i, 1);
    EXPECT_EQ(t->rows.back()[0].i, 200000);
    EXPECT_THAT(t->columns, ElementsAre("global_step", "loss", "stage", "time"));
    bool spike = false;
    for (const auto& row : t->rows) {
        // The generator writes the spike as the integer literal 40: an int cell.
        spike = spike || (row[1].kind == CompatValue::Kind::kInt && row[1].i == 40);
    }
    EXPECT_TRUE(spike);
}

}  // namespace
}  // namespace runicorn::storage::series
