#include "series_service.hpp"

#include <cmath>
#include <fstream>
#include <memory>
#include <string>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "folder_run_store.hpp"
#include "storage_test_util.hpp"

namespace runicorn::storage {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::StatusIs;
using testing::TempDir;

constexpr char kKitchen[] = "20250115_100000_6cefa5";
constexpr char kInterrupted[] = "20250115_104500_6e73fa";
constexpr char kLong[] = "20250115_111500_06bd22";

json::value read_json(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return json::parse(ss.str());
}

void append(const fs::path& p, std::string_view text) {
    std::ofstream out(p, std::ios::binary | std::ios::app);
    out << text;
}

/// A cell of ours equals v0.6's: numbers compare as doubles (ints and floats mix in JSON).
bool same_cell(const json::value& ours, const json::value& theirs) {
    if (ours.is_number() && theirs.is_number()) {
        const double a = ours.to_number<double>();
        const double b = theirs.to_number<double>();
        return a == b || std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
    }
    return ours == theirs;
}

class SeriesServiceTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = tmp_.path() / "store";
        testing::copy_fixture_store(root_);
        FolderRunStore::Options options;
        options.catalog_file = ":memory:";
        options.check_liveness = false;
        store_ = std::make_shared<FolderRunStore>(root_, nullptr, options);
        SeriesService::Options so;
        so.persist = false;
        service_ = std::make_shared<SeriesService>(store_, nullptr, so);
    }

    /// A run folder of ours under runs/ (found by the store after refresh()).
    fs::path make_run(const std::string& id) {
        const fs::path dir = root_ / "runs" / "live" / id;
        fs::create_directories(dir / "media");
        std::ofstream(dir / "meta.json") << R"({"id":")" << id << R"(","path":"live"})";
        std::ofstream(dir / "status.json") << R"({"status":"running","started_at":100.0})";
        EXPECT_TRUE(store_->refresh().has_value());
        return dir;
    }

    TempDir tmp_;
    fs::path root_;
    std::shared_ptr<FolderRunStore> store_;
    std::shared_ptr<SeriesService> service_;
};

TEST_F(SeriesServiceTest, CompatRowsMatchTheReferenceViewer) {
    const json::value expected = read_json(testing::fixture_dir() / "expected.json");
    for (const auto& [id, exp_v] : expected.at("metrics").as_object()) {
        SCOPED_TRACE(std::string(id));
        const json::object& exp = exp_v.as_object();
        auto view = service_->compat_rows(id, std::nullopt);
        if (exp.at("http_status").as_int64() == 404) {
            EXPECT_THAT(view.error(), StatusIs(StatusCode::kNotFound, "Run not found"));
            continue;
        }
        ASSERT_TRUE(view.has_value()) << view.error().message();
        const json::object& body = view->body;
        // Deliberate difference (API.md §2.3): `epoch` is a column of ours.
        json::array columns = body.at("columns").as_array();
        json::array ours_without_epoch;
        for (const auto& c : columns) {
            if (c.as_string() != "epoch") {
                ours_without_epoch.push_back(c);
            }
        }
        EXPECT_EQ(ours_without_epoch, exp.at("columns").as_array());
        EXPECT_EQ(body.at("total"), exp.at("total"));
        EXPECT_EQ(body.at("sampled"), exp.at("sampled"));
        EXPECT_EQ(view->total, exp.at("total").as_int64());
        const json::array& rows = body.at("rows").as_array();
        EXPECT_EQ(view->row_count, rows.size());
        const auto compare_rows = [&](const json::array& want, std::size_t first) {
            for (std::size_t r = 0; r < want.size(); ++r) {
                ASSERT_LT(first + r, rows.size());
                const json::object& ours = rows[first + r].as_object();
                for (const auto& [k, v] : want[r].as_object()) {
                    ASSERT_TRUE(ours.contains(k)) << "row " << first + r << " key " << k;
                    EXPECT_TRUE(same_cell(ours.at(k), v))
                        << "row " << first + r << " key " << k << ": ours "
                        << json::serialize(ours.at(k)) << ", v0.6 " << json::serialize(v);
                }
            }
        };
        if (exp.contains("rows")) {
            EXPECT_EQ(rows.size(), exp.at("rows").as_array().size());
            compare_rows(exp.at("rows").as_array(), 0);
        }
        if (exp.contains("first_rows")) {
            compare_rows(exp.at("first_rows").as_array(), 0);
            const json::array& last = exp.at("last_rows").as_array();
            compare_rows(last, rows.size() - last.size());
        }
        if (!rows.empty()) {
            ASSERT_TRUE(view->last_step.has_value());
            EXPECT_EQ(*view->last_step, rows.back().at("global_step").as_int64());
        } else {
            EXPECT_FALSE(view->last_step.has_value());
        }
    }
}

TEST_F(SeriesServiceTest, DownsampleKeepsTotalAndBoundsRows) {
    auto view = service_->compat_rows(kLong, 100);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->body.at("total").to_number<std::int64_t>(), 5000);
    EXPECT_LE(view->body.at("sampled").to_number<std::int64_t>(), 100);
    EXPECT_EQ(view->body.at("sampled").to_number<std::int64_t>(),
              static_cast<std::int64_t>(view->body.at("rows").as_array().size()));
    EXPECT_EQ(view->body.at("rows").as_array().front().at("global_step").as_int64(), 1);
    EXPECT_EQ(*view->last_step, 5000);
}

TEST_F(SeriesServiceTest, BadDownsampleIsRefusedForAnyRun) {
    EXPECT_THAT(service_->compat_rows(kKitchen, 50).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "downsample: Input should be greater than or equal to 100"));
    EXPECT_THAT(service_->compat_rows("no_such_run", 50001).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "downsample: Input should be less than or equal to 50000"));
    EXPECT_THAT(service_->compat_rows("no_such_run", std::nullopt).error(),
                StatusIs(StatusCode::kNotFound, "Run not found"));
}

TEST_F(SeriesServiceTest, InterruptedRunSendsNonFiniteAsNullAndKeepsEpoch) {
    auto view = service_->compat_rows(kInterrupted, std::nullopt);
    ASSERT_TRUE(view.has_value());
    const json::array& cols = view->body.at("columns").as_array();
    EXPECT_NE(std::find(cols.begin(), cols.end(), json::value("epoch")), cols.end());
    const std::string text = json::serialize(view->body);
    EXPECT_THAT(text, ::testing::Not(HasSubstr("NaN")));
    EXPECT_THAT(text, ::testing::Not(HasSubstr("Infinity")));
}

TEST_F(SeriesServiceTest, MetricKeysAndSeries) {
    auto keys = service_->metric_keys(kKitchen);
    ASSERT_TRUE(keys.has_value());
    EXPECT_EQ(keys->at("run_id").as_string(), kKitchen);
    bool saw_loss = false;
    for (const auto& k : keys->at("keys").as_array()) {
        if (k.at("key").as_string() == "loss") {
            saw_loss = true;
            EXPECT_TRUE(k.at("numeric").as_bool());
            EXPECT_GT(k.at("count").as_uint64(), 0U);
        }
    }
    EXPECT_TRUE(saw_loss);
    EXPECT_THAT(keys->at("stages").as_array(), ::testing::Contains(json::value("train")));

    plugin::SeriesRequest q;
    q.keys = {"loss", "nope"};
    q.points = 10;
    auto s = service_->series(kLong, q);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    const json::array& series = s->at("series").as_array();
    ASSERT_EQ(series.size(), 2U);
    EXPECT_EQ(series[0].at("key").as_string(), "loss");
    EXPECT_EQ(series[0].at("total").as_uint64(), 5000U);
    EXPECT_LE(series[0].at("returned").as_uint64(), 10U);
    EXPECT_EQ(series[0].at("x").as_array().front().as_int64(), 1);
    EXPECT_FALSE(series[1].at("found").as_bool());
    EXPECT_EQ(s->at("last_step").as_int64(), 5000);

    q.x = "bogus";
    EXPECT_THAT(service_->series(kLong, q).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("x: ")));
    q.x = "step";
    q.points = 5;
    EXPECT_THAT(service_->series(kLong, q).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "points: Input should be greater than or equal to 10"));
    q.points = 100;
    q.method = "median";
    EXPECT_THAT(service_->series(kLong, q).error(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("method: ")));

    q.method = "none";
    auto many = service_->series_many({kLong, "missing_run"}, q);
    ASSERT_TRUE(many.has_value());
    EXPECT_EQ(many->at("results").as_array().size(), 1U);
    EXPECT_EQ(many->at("errors").at("missing_run").as_string(), "Run not found");
    EXPECT_TRUE(
        many->at("results").as_array()[0].at("series").as_array()[0].at("truncated").as_bool());
}

TEST_F(SeriesServiceTest, ReadRecordsFollowsAppendsAndNoticesRewrites) {
    const fs::path dir = make_run("live_a");
    const fs::path events = dir / "events.jsonl";
    auto empty = service_->read_records(dir, "", 1 << 20, false);
    ASSERT_TRUE(empty.has_value());
    EXPECT_TRUE(empty->records.empty());
    append(
        events,
        R"({"ts":1.5,"type":"metrics","data":{"loss":0.5,"acc":NaN,"global_step":1,"time":1.5,"stage":"train"}})"
        "\n"
        R"({"ts":2.0,"type":"image","data":{"key":"img","path":"media/a.png","step":1}})"
        "\n"
        R"({"ts":2.5,"type":"metrics","data":{"loss":0.4,"tag":"x","arr":[1],"step":2}})"
        "\n"
        R"({"ts":3,"type":"metrics","data":{"loss":)");  // torn tail
    auto first = service_->read_records(dir, empty->cursor, 1 << 20, true);
    ASSERT_TRUE(first.has_value()) << first.error().message();
    EXPECT_FALSE(first->reset);
    ASSERT_EQ(first->records.size(), 2U);
    const plugin::MetricRecord& r0 = first->records[0];
    EXPECT_EQ(r0.global_step, 1);
    EXPECT_EQ(r0.time, 1.5);
    EXPECT_EQ(r0.stage, "train");
    EXPECT_EQ(json::serialize(r0.values), R"({"loss":5E-1,"acc":"NaN"})");
    EXPECT_THAT(r0.raw, HasSubstr(R"("acc":NaN)"));
    const plugin::MetricRecord& r1 = first->records[1];
    EXPECT_EQ(r1.global_step, 2);  // `step` when there is no global_step
    EXPECT_EQ(r1.time, 2.5);       // ts when there is no time
    EXPECT_EQ(json::serialize(r1.values), R"({"loss":4E-1,"tag":"x"})");
    EXPECT_TRUE(first->at_end);

    // The torn line completes: only it arrives.
    append(events, "0.3,\"global_step\":3}}\n");
    auto second = service_->read_records(dir, first->cursor, 1 << 20, false);
    ASSERT_TRUE(second.has_value());
    ASSERT_EQ(second->records.size(), 1U);
    EXPECT_EQ(second->records[0].global_step, 3);
    auto none = service_->read_records(dir, second->cursor, 1 << 20, false);
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->records.empty());
    EXPECT_EQ(none->cursor, second->cursor);

    // A rewritten file (new inode) is a reset and a read from byte 0.
    fs::remove(events);
    append(events, R"({"ts":9,"type":"metrics","data":{"x":1,"global_step":7}})"
                   "\n");
    auto after = service_->read_records(dir, second->cursor, 1 << 20, false);
    ASSERT_TRUE(after.has_value());
    EXPECT_TRUE(after->reset);
    ASSERT_EQ(after->records.size(), 1U);
    EXPECT_EQ(after->records[0].global_step, 7);

    EXPECT_THAT(service_->read_records(dir, "garbage", 100, false).error(),
                StatusIs(StatusCode::kInvalidArgument, "cursor: Invalid cursor"));
}

TEST_F(SeriesServiceTest, ReadRecordsPagesByMaxBytes) {
    const fs::path dir = make_run("live_b");
    std::string lines;
    for (int i = 1; i <= 500; ++i) {
        lines += R"({"ts":1,"type":"metrics","data":{"v":)" + std::to_string(i) +
                 R"(,"global_step":)" + std::to_string(i) + "}}\n";
    }
    append(dir / "events.jsonl", lines);
    std::string cursor;
    std::vector<std::int64_t> steps;
    int calls = 0;
    while (true) {
        auto b = service_->read_records(dir, cursor, 4096, false);
        ASSERT_TRUE(b.has_value());
        ++calls;
        for (const auto& r : b->records) {
            steps.push_back(*r.global_step);
        }
        cursor = b->cursor;
        if (b->at_end) {
            break;
        }
    }
    EXPECT_GT(calls, 1);
    ASSERT_EQ(steps.size(), 500U);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        EXPECT_EQ(steps[i], static_cast<std::int64_t>(i + 1));
    }
}

TEST_F(SeriesServiceTest, MediaListsImageRecords) {
    const fs::path dir = make_run("live_media");
    append(
        dir / "events.jsonl",
        R"({"ts":1.0,"type":"image","data":{"key":"sample","path":"media/1_abc_sample.png","step":3,"caption":"cap","global_step":11,"format":"png","size_bytes":42}})"
        "\n"
        R"({"ts":2.0,"type":"metrics","data":{"loss":NaN,"global_step":12}})"
        "\n"
        R"({"ts":3.0,"type":"image","data":{"key":"other","path":"media/2_def_other.jpg","step":5,"caption":null}})"
        "\n"
        R"({"ts":4.0,"type":"image","data":{"key":"sample","path":"media/3_ghi_sample.png","step":9}})"
        "\n");
    plugin::MediaQuery q;
    auto all = service_->media("live_media", q);
    ASSERT_TRUE(all.has_value()) << all.error().message();
    EXPECT_EQ(json::serialize(all->at("keys")),
              R"([{"key":"sample","count":2},{"key":"other","count":1}])");
    const json::array& items = all->at("items").as_array();
    ASSERT_EQ(items.size(), 3U);
    EXPECT_EQ(items[0].at("url").as_string(), "/api/runs/live_media/media/1_abc_sample.png");
    EXPECT_EQ(items[0].at("global_step").as_int64(), 11);
    EXPECT_EQ(items[0].at("caption").as_string(), "cap");
    EXPECT_EQ(items[1].at("format").as_string(), "jpeg");
    EXPECT_TRUE(all->at("next_cursor").is_null());

    q.key = "sample";
    q.limit = 1;
    auto page1 = service_->media("live_media", q);
    ASSERT_TRUE(page1.has_value());
    ASSERT_EQ(page1->at("items").as_array().size(), 1U);
    ASSERT_TRUE(page1->at("next_cursor").is_string());
    q.cursor = std::string(page1->at("next_cursor").as_string());
    auto page2 = service_->media("live_media", q);
    ASSERT_TRUE(page2.has_value());
    EXPECT_EQ(page2->at("items").as_array()[0].at("step").as_int64(), 9);
    EXPECT_TRUE(page2->at("next_cursor").is_null());

    q = {};
    q.step_min = 4;
    q.step_max = 6;
    auto ranged = service_->media("live_media", q);
    ASSERT_TRUE(ranged.has_value());
    ASSERT_EQ(ranged->at("items").as_array().size(), 1U);
    EXPECT_EQ(ranged->at("items").as_array()[0].at("key").as_string(), "other");

    q = {};
    q.limit = 0;
    EXPECT_THAT(service_->media("live_media", q).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "limit: Input should be greater than or equal to 1"));
    q.limit = 10;
    q.cursor = "x";
    EXPECT_THAT(service_->media("live_media", q).error(),
                StatusIs(StatusCode::kInvalidArgument, "cursor: Invalid cursor"));
}

TEST_F(SeriesServiceTest, CacheStatsCountMissesHitsAndIncrementalUpdates) {
    const fs::path dir = make_run("live_c");
    append(dir / "events.jsonl", R"({"ts":1,"type":"metrics","data":{"v":1,"global_step":1}})"
                                 "\n");
    ASSERT_TRUE(service_->compat_rows("live_c", std::nullopt).has_value());
    ASSERT_TRUE(service_->compat_rows("live_c", std::nullopt).has_value());
    append(dir / "events.jsonl", R"({"ts":2,"type":"metrics","data":{"v":2,"global_step":2}})"
                                 "\n");
    auto view = service_->compat_rows("live_c", std::nullopt);
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->total, 2U);
    const plugin::SeriesCacheStats st = service_->cache_stats();
    EXPECT_EQ(st.size, 1U);
    EXPECT_EQ(st.misses, 1U);
    EXPECT_EQ(st.hits, 1U);
    EXPECT_EQ(st.incremental_updates, 1U);
    EXPECT_EQ(st.max_size, 64U);
}

TEST(SeriesCursorTest, RoundTripsAndRefusesGarbage) {
    const std::string c = encode_series_cursor(0x801, 123456789, 42);
    auto d = decode_series_cursor(c);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->dev, 0x801U);
    EXPECT_EQ(d->ino, 123456789U);
    EXPECT_EQ(d->offset, 42U);
    EXPECT_FALSE(decode_series_cursor("c1.1.2").has_value());
    EXPECT_FALSE(decode_series_cursor("c1.1.2.zz").has_value());
    EXPECT_FALSE(decode_series_cursor("").has_value());
}

}  // namespace
}  // namespace runicorn::storage
