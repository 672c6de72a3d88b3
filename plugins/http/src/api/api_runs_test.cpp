// End-to-end tests of the run API: the kernel loads the real storage and http plugins from the
// build tree onto a private copy of the Runicorn v0.6 fixture store, and the tests speak HTTP to
// the viewer. COMPAT answers are compared with the fixture's expected.json (v0.6's own answers),
// minus the differences API.md documents.

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/testing/copy_tree.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "logging.hpp"
#include "plugin_host.hpp"
#include <unistd.h>

namespace runicorn {
namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const fs::path kFixture = RUNICORN_FIXTURE_DIR;

constexpr char kKitchen[] = "20250115_100000_6cefa5";
constexpr char kExplicit[] = "20250115_101500_df538c";
constexpr char kDeleted[] = "20250115_123000_6e554c";
constexpr char kRoot[] = "20250115_120000_2eeb83";
constexpr char kRunning[] = "20250115_124500_e7cb53";

/// The COMPAT fields of a RunListItem, in v0.6's order.
const std::vector<std::string> kCompatItemKeys = {"id",
                                                  "run_dir",
                                                  "created_time",
                                                  "status",
                                                  "pid",
                                                  "best_metric_value",
                                                  "best_metric_name",
                                                  "path",
                                                  "alias",
                                                  "tags",
                                                  "assets_count"};

struct Reply {
    unsigned status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  ///< Lower-case names.

    std::string header(std::string lower) const {
        for (const auto& [k, v] : headers) {
            if (k == lower) {
                return v;
            }
        }
        return "<absent>";
    }
    json::value json() const { return json::parse(body); }
};

/// Replaces every "<STORE>" inside string values by `root`.
void replace_store(json::value& v, const std::string& root) {
    if (auto* s = v.if_string()) {
        std::string text(*s);
        const std::string token = "<STORE>";
        for (std::size_t pos = text.find(token); pos != std::string::npos;
             pos = text.find(token, pos + root.size())) {
            text.replace(pos, token.size(), root);
        }
        *s = text;
    } else if (auto* o = v.if_object()) {
        for (auto& kv : *o) {
            replace_store(kv.value(), root);
        }
    } else if (auto* a = v.if_array()) {
        for (auto& item : *a) {
            replace_store(item, root);
        }
    }
}

/// Only the keys of `obj` named in `keys`.
json::object project(const json::object& obj, const std::vector<std::string>& keys) {
    json::object out;
    for (const std::string& k : keys) {
        if (const json::value* v = obj.if_contains(k)) {
            out[k] = *v;
        }
    }
    return out;
}

std::vector<std::string> keys_of(const json::object& obj) {
    std::vector<std::string> out;
    for (const auto& kv : obj) {
        out.emplace_back(kv.key());
    }
    return out;
}

class ApiRunsTest : public ::testing::Test {
protected:
    ApiRunsTest()
        : logs_(spdlog::level::warn, {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)}) {}

    void SetUp() override {
        root_ = tmp_.path() / "store";
        // The checkout is read-only; the viewer must be able to write.
        runicorn::testing::copy_tree_writable(kFixture / "store", root_);
        // The "running" run's writer is gone. v0.6 (and we) check its pid only on the host that
        // wrote it, which was "vm"; claim it for this host so the answers match on any machine.
        {
            const fs::path meta = root_ / "runs" / "cv" / "yolo" / kRunning / "meta.json";
            std::ifstream in(meta);
            std::stringstream text;
            text << in.rdbuf();
            std::string s = text.str();
            std::array<char, 256> host{};
            ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
            const std::string from = "\"hostname\": \"vm\"";
            const std::size_t pos = s.find(from);
            ASSERT_NE(pos, std::string::npos);
            s.replace(pos, from.size(), "\"hostname\": \"" + std::string(host.data()) + "\"");
            std::ofstream(meta, std::ios::trunc) << s;
        }
        root_ = fs::canonical(root_);
        std::ifstream in(kFixture / "expected.json");
        std::stringstream text;
        text << in.rdbuf();
        expected_ = json::parse(text.str());
        replace_store(expected_, root_.string());

        kernel::HostOptions o;
        o.plugin_dirs = {RUNICORN_PLUGIN_OUT};
        o.enabled = std::vector<std::string>{"storage", "http"};
        o.storage_root = root_;
        o.config_dir = tmp_.path() / "config";
        o.version = "9.9.9-test";
        o.check_permissions = false;
        o.plugin_configs = json::parse(R"({"http": {"port": 0}})").as_object();
        host_ = std::make_unique<kernel::PluginHost>(std::move(o), logs_);
        host_->load();
        host_->init();
        host_->start();
        for (const auto& r : host_->reports()) {
            if (r.id != "storage" && r.id != "http") {
                continue;  // the other plugins of the build tree are reported "disabled"
            }
            ASSERT_EQ(r.state, "loaded") << r.id << ": " << r.error << "\n" << log_.str();
        }
        auto routes = host_->find<plugin::HttpRoutes>();
        ASSERT_NE(routes, nullptr);
        const std::string base = routes->base_url();
        ASSERT_THAT(base, StartsWith("http://127.0.0.1:"));
        port_ = static_cast<std::uint16_t>(std::stoi(base.substr(base.rfind(':') + 1)));
    }

    void TearDown() override {
        if (host_ != nullptr) {
            host_->stop();
        }
    }

    Reply send(http::verb method, const std::string& target, const std::string& body = "",
               const std::string& content_type = "application/json",
               const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        net::io_context ioc;
        tcp::socket socket(ioc);
        socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
        for (const auto& [k, v] : extra) {
            req.set(k, v);
        }
        if (!body.empty() || method == http::verb::post || method == http::verb::patch) {
            if (!content_type.empty()) {
                req.set(http::field::content_type, content_type);
            }
            req.body() = body;
        }
        req.prepare_payload();
        http::write(socket, req);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::uint64_t{64} * 1024 * 1024);
        http::read(socket, buffer, parser);
        auto res = parser.release();
        Reply out;
        out.status = res.result_int();
        for (const auto& f : res) {
            std::string name(f.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            out.headers.emplace_back(std::move(name), std::string(f.value()));
        }
        out.body = std::move(res.body());
        return out;
    }
    Reply get(const std::string& target,
              const std::vector<std::pair<std::string, std::string>>& extra = {}) {
        return send(http::verb::get, target, "", "", extra);
    }
    Reply post(const std::string& target, const std::string& body) {
        return send(http::verb::post, target, body);
    }

    /// The ids of a RunListItem array.
    static std::vector<std::string> ids(const json::value& items) {
        std::vector<std::string> out;
        for (const auto& item : items.as_array()) {
            out.emplace_back(item.at("id").as_string());
        }
        return out;
    }

    testing::TempDir tmp_;
    fs::path root_;
    json::value expected_;
    std::ostringstream log_;
    kernel::LogHub logs_;
    std::unique_ptr<kernel::PluginHost> host_;
    std::uint16_t port_ = 0;
};

TEST_F(ApiRunsTest, RunListMatchesV06) {
    const Reply r = get("/api/runs");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.header("cache-control"), "no-cache");
    const json::array items = r.json().as_array();
    const json::array& want = expected_.at("runs").as_array();
    ASSERT_EQ(items.size(), want.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        const json::object& item = items[i].as_object();
        const std::vector<std::string> keys = keys_of(item);
        ASSERT_GE(keys.size(), kCompatItemKeys.size());
        EXPECT_EQ(std::vector<std::string>(keys.begin(), keys.begin() + kCompatItemKeys.size()),
                  kCompatItemKeys);
        EXPECT_EQ(project(item, kCompatItemKeys), want[i].as_object()) << i;
        for (const char* k : {"started_at", "ended_at", "duration", "exit_reason", "liveness",
                              "hostname", "last_step", "format_version"}) {
            EXPECT_TRUE(item.contains(k)) << k;
        }
        EXPECT_FALSE(item.contains("summary"));
    }
}

TEST_F(ApiRunsTest, RunDetailMatchesV06) {
    for (const auto& [id, want] : expected_.at("run_detail").as_object()) {
        const Reply r = get("/api/runs/" + std::string(id));
        ASSERT_EQ(r.status, want.at("http_status").as_int64()) << id;
        const json::object body = r.json().as_object();
        const json::object& want_body = want.at("body").as_object();
        if (r.status == 404) {
            EXPECT_EQ(body.at("detail"), want_body.at("detail"));
            EXPECT_EQ(body.at("code").as_string(), "RUN_NOT_FOUND");
            continue;
        }
        EXPECT_EQ(project(body, keys_of(want_body)), want_body) << id;
        EXPECT_EQ(body.at("liveness").as_string().empty(), false);
        EXPECT_TRUE(body.at("summary").is_object());
    }
    const Reply kitchen = get(std::string("/api/runs/") + kKitchen);
    EXPECT_EQ(kitchen.json().at("media_count").as_int64(), 1);
    // The last metrics step, from the series service (the fixture's last row is step 30).
    EXPECT_EQ(kitchen.json().at("last_step"), json::value(30));
    EXPECT_EQ(get("/api/runs/nope").status, 404U);
}

TEST_F(ApiRunsTest, AssetsProgressEnvironment) {
    Reply r = get(std::string("/api/runs/") + kKitchen + "/assets");
    ASSERT_EQ(r.status, 200U);
    const json::value& detail = expected_.at("run_detail").at(kKitchen).at("body");
    EXPECT_EQ(r.json().at("assets"), detail.at("assets"));
    EXPECT_EQ(r.json().at("assets_count").as_int64(), 8);
    EXPECT_EQ(r.json().at("run_id").as_string(), kKitchen);
    EXPECT_EQ(get(std::string("/api/runs/") + kDeleted + "/assets").status, 404U);

    r = get(std::string("/api/runs/") + kKitchen + "/progress");
    EXPECT_EQ(r.body, R"({"available":false,"status":"unknown"})");

    r = get(std::string("/api/environment/") + kKitchen);
    EXPECT_EQ(r.body, R"({"available":false})");
    {
        std::ofstream(root_ / "runs" / kRoot / "environment.json")
            << R"({"captured_at": 5, "gpus": [], "x": NaN})";
    }
    r = get(std::string("/api/environment/") + kRoot);
    EXPECT_EQ(r.body, R"({"available":true,"environment":{"captured_at":5,"gpus":[],"x":null}})");
    EXPECT_EQ(get("/api/environment/unknown_run").status, 404U);
}

TEST_F(ApiRunsTest, PathsAndProjectsMatchV06) {
    Reply r = get("/api/paths");
    ASSERT_EQ(r.status, 200U);
    EXPECT_EQ(r.json(), expected_.at("paths"));
    r = get("/api/paths?include_stats=true");
    ASSERT_EQ(r.status, 200U);
    const json::value got = r.json();
    EXPECT_EQ(got.at("paths"), expected_.at("paths_with_stats").at("paths"));
    EXPECT_EQ(got.at("tree"), expected_.at("paths_with_stats").at("tree"));
    EXPECT_EQ(got.at("stats"), expected_.at("paths_stats_correct"));
    EXPECT_EQ(get("/api/paths?include_stats=maybe").status, 422U);

    EXPECT_EQ(get("/api/paths/tree").json(), expected_.at("paths_tree"));
    EXPECT_EQ(get("/api/projects").json(), expected_.at("projects"));

    r = get("/api/paths/runs?path=cv");
    ASSERT_EQ(r.status, 200U);
    const json::array got_runs = r.json().as_array();
    const json::array& want = expected_.at("paths_runs_cv").as_array();
    ASSERT_EQ(got_runs.size(), want.size());
    std::vector<std::string> compared = kCompatItemKeys;
    compared.erase(std::remove(compared.begin(), compared.end(), "tags"), compared.end());
    compared.erase(std::remove(compared.begin(), compared.end(), "assets_count"), compared.end());
    for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(project(got_runs[i].as_object(), compared),
                  project(want[i].as_object(), compared));
    }
    // COMPAT (fix): tags and assets_count are filled.
    EXPECT_EQ(got_runs[0].at("assets_count").as_int64(), 8);
    EXPECT_EQ(got_runs[1].at("tags").as_array().size(), 3U);
    EXPECT_EQ(get("/api/paths/runs?path=cv/yolo&exact=true").json().as_array().size(), 3U);

    EXPECT_EQ(get("/api/projects/cv/names").body, R"({"names":["resnet","yolo"]})");
    r = get("/api/projects/cv/names/yolo/runs");
    ASSERT_EQ(r.status, 200U);
    ASSERT_EQ(r.json().as_array().size(), 4U);
    const json::object first = r.json().as_array()[0].as_object();
    EXPECT_EQ(keys_of(first),
              (std::vector<std::string>{"run_id", "path", "alias", "status", "start_time"}));
}

TEST_F(ApiRunsTest, PathExport) {
    Reply r = get("/api/paths/export?path=cv/resnet");
    ASSERT_EQ(r.status, 200U) << r.body;
    const json::value v = r.json();
    EXPECT_EQ(v.at("path").as_string(), "cv/resnet");
    EXPECT_EQ(v.at("exact").as_bool(), false);
    EXPECT_EQ(v.at("total_runs").as_int64(), 2);
    EXPECT_EQ(keys_of(v.at("runs").at(0).as_object()),
              (std::vector<std::string>{"run_id", "path", "alias", "status", "created_time",
                                        "summary", "meta"}));
    EXPECT_EQ(get("/api/paths/export").status, 422U);
    r = get("/api/paths/export?path=cv&format=rar");
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.json().at("detail").as_string(), "Unsupported format: rar");
    r = get("/api/paths/export?path=cv&format=zip");
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.body.substr(0, 2), "PK");  // a zip (its contents: archive_routes_test)
    EXPECT_EQ(get("/api/paths/export?path=nothing/here&format=zip").status, 404U);
}

TEST_F(ApiRunsTest, RecycleBinMatchesV06AndRestoreWorks) {
    Reply r = get("/api/recycle-bin");
    ASSERT_EQ(r.status, 200U);
    EXPECT_EQ(r.json(), expected_.at("recycle_bin"));

    r = post("/api/recycle-bin/restore", std::string(R"({"run_ids": [")") + kDeleted +
                                             R"(", "20990101_000000_abcdef", ")" + kKitchen +
                                             "\"]}");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.json(),
              json::parse(std::string(R"({"restored_count": 1, "results": {")") + kDeleted +
                          R"(": {"success": true}, "20990101_000000_abcdef": {"success": false,)"
                          R"( "error": "run not found"}, ")" +
                          kKitchen +
                          R"(": {"success": false, "error": "run not deleted"}},)"
                          R"( "message": "Restored 1 of 3 runs"})"));
    EXPECT_EQ(get("/api/runs").json().as_array().size(), 12U);
    EXPECT_EQ(get("/api/recycle-bin").body, R"({"deleted_runs":[]})");
}

TEST_F(ApiRunsTest, SoftDeleteAndBatchLimits) {
    Reply r = post("/api/runs/soft-delete",
                   std::string(R"({"run_ids": [")") + kKitchen + "\", \"" + kDeleted + "\"]}");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.json(), json::parse(std::string(R"({"deleted_count": 1, "results": {")") +
                                    kKitchen + R"(": {"success": true}, ")" + kDeleted +
                                    R"(": {"success": false, "error": "already deleted"}},)"
                                    R"( "message": "Soft deleted 1 of 2 runs"})"));
    EXPECT_EQ(get(std::string("/api/runs/") + kKitchen).status, 404U);
    EXPECT_EQ(get("/api/runs").json().as_array().size(), 10U);
    const json::value bin = get("/api/recycle-bin").json();
    EXPECT_EQ(bin.at("deleted_runs").as_array().size(), 2U);

    r = post("/api/runs/soft-delete", R"({"run_ids": []})");
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.json().at("detail").as_string(), "run_ids is required and must be a list");
    EXPECT_EQ(post("/api/runs/soft-delete", R"({"run_ids": "x"})").status, 400U);
    EXPECT_EQ(post("/api/runs/soft-delete", R"({})").status, 400U);
    std::string many = R"({"run_ids": [)";
    for (int i = 0; i < 101; ++i) {
        many += (i > 0 ? ",\"r" : "\"r") + std::to_string(i) + "\"";
    }
    many += "]}";
    r = post("/api/runs/soft-delete", many);
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.json().at("detail").as_string(), "Cannot delete more than 100 runs at once");
    r = post("/api/runs/soft-delete", R"({"run_ids": ["../etc"]})");
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.body, R"({"detail":"Invalid run_id format: ../etc","code":"INVALID_RUN_ID"})");
    r = send(http::verb::post, "/api/runs/soft-delete", R"({"run_ids": ["a"]})", "text/plain");
    EXPECT_EQ(r.status, 415U);
    r = post("/api/runs/soft-delete", R"({"run_ids": [)");
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.json().at("code").as_string(), "BAD_REQUEST");
    EXPECT_EQ(post("/api/runs/soft-delete", std::string(40, '[') + std::string(40, ']')).status,
              400U);
}

TEST_F(ApiRunsTest, PatchUpdatesAliasAndTags) {
    const std::string target = std::string("/api/runs/") + kRoot;
    Reply r = send(http::verb::patch, target,
                   R"({"alias": "  renamed  ", "tags": ["a", " b ", "", "a2"]})");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.body, R"({"ok":true,"alias":"renamed","tags":["a","b","a2"]})");
    EXPECT_EQ(get(target).json().at("alias").as_string(), "renamed");
    EXPECT_EQ(get("/api/runs?tags=b").json().at(0).at("id").as_string(), kRoot);

    r = send(http::verb::patch, target, R"({"alias": ""})");
    EXPECT_EQ(r.body, R"({"ok":true,"alias":null,"tags":["a","b","a2"]})");

    EXPECT_EQ(send(http::verb::patch, "/api/runs/a..b", R"({"alias": "x"})").status, 400U);
    r = send(http::verb::patch, "/api/runs/20990101_000000_abcdef", R"({"alias": "x"})");
    EXPECT_EQ(r.status, 404U);
    EXPECT_EQ(r.body, R"({"detail":"Run not found","code":"RUN_NOT_FOUND"})");
    r = send(http::verb::patch, target, R"({"alias": 5})");
    EXPECT_EQ(r.status, 422U);
    EXPECT_EQ(r.json().at("detail").at(0).at("loc"), json::parse(R"(["body","alias"])"));
    EXPECT_EQ(send(http::verb::patch, target, R"({"tags": [1]})").status, 422U);
    EXPECT_EQ(send(http::verb::patch, target, R"({"alias": "x"})", "").status, 415U);
    std::string many = R"({"tags": [)";
    for (int i = 0; i < 101; ++i) {
        many += (i > 0 ? ",\"t" : "\"t") + std::to_string(i) + "\"";
    }
    many += "]}";
    EXPECT_EQ(send(http::verb::patch, target, many).status, 400U);
    r = send(http::verb::patch, target, R"({"tags": [")" + std::string(129, 'x') + "\"]}");
    EXPECT_EQ(r.status, 400U);
}

TEST_F(ApiRunsTest, PermanentDelete) {
    // Dry run: nothing changes.
    Reply r =
        send(http::verb::delete_, std::string("/api/runs/") + kDeleted + "/permanent?dry_run=true");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.json().at("success").as_bool(), true);
    EXPECT_EQ(r.json().at("run_dir_deleted").as_bool(), false);
    EXPECT_TRUE(fs::exists(root_ / "runs" / "nlp" / "t5" / kDeleted));

    r = send(http::verb::delete_, std::string("/api/runs/") + kDeleted + "/permanent");
    ASSERT_EQ(r.status, 200U) << r.body;
    const json::value v = r.json();
    EXPECT_EQ(v.at("success").as_bool(), true);
    EXPECT_EQ(v.at("run_id").as_string(), kDeleted);
    EXPECT_EQ(v.at("run_dir_deleted").as_bool(), true);
    EXPECT_GT(v.at("bytes_freed").as_int64(), 0);
    EXPECT_EQ(v.at("blobs_deleted").as_int64(), 0);
    EXPECT_TRUE(v.at("errors").as_array().empty());
    EXPECT_FALSE(fs::exists(root_ / "runs" / "nlp" / "t5" / kDeleted));
    EXPECT_EQ(send(http::verb::delete_, std::string("/api/runs/") + kDeleted + "/permanent").status,
              404U);
    EXPECT_EQ(send(http::verb::delete_, "/api/runs/..x/permanent").status, 400U);

    // A live run is deleted too (it goes through the recycle bin first); rolling outputs go.
    r = post("/api/runs/permanent-delete",
             std::string(R"({"run_ids": [")") + kKitchen + R"(", "20990101_000000_abcdef"]})");
    ASSERT_EQ(r.status, 200U) << r.body;
    const json::value b = r.json();
    EXPECT_EQ(b.at("deleted_count").as_int64(), 1);
    EXPECT_EQ(b.at("total_runs").as_int64(), 2);
    EXPECT_EQ(b.at("dry_run").as_bool(), false);
    EXPECT_EQ(b.at("results").at(kKitchen).at("outputs_deleted").as_int64(), 2);
    EXPECT_EQ(b.at("results").at("20990101_000000_abcdef").at("success").as_bool(), false);
    EXPECT_FALSE(fs::exists(root_ / "archive" / "outputs" / "rolling" / kKitchen));
    EXPECT_EQ(get("/api/runs").json().as_array().size(), 10U);

    std::string many = R"({"run_ids": [)";
    for (int i = 0; i < 51; ++i) {
        many += (i > 0 ? ",\"r" : "\"r") + std::to_string(i) + "\"";
    }
    many += "]}";
    r = post("/api/runs/permanent-delete", many);
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.json().at("detail").as_string(), "Cannot delete more than 50 runs at once");
}

TEST_F(ApiRunsTest, EmptyRecycleBin) {
    Reply r = post("/api/recycle-bin/empty", "{}");
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.json().at("detail").as_string(), "Must set confirm=true to permanently delete");
    ASSERT_EQ(
        post("/api/runs/soft-delete", std::string(R"({"run_ids": [")") + kRoot + "\"]}").status,
        200U);
    r = post("/api/recycle-bin/empty", R"({"confirm": true})");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.json().at("permanently_deleted").as_int64(), 2);
    EXPECT_EQ(r.json().at("message").as_string(), "Permanently deleted 2 runs");
    EXPECT_TRUE(r.json().at("errors").as_array().empty());
    EXPECT_FALSE(fs::exists(root_ / "runs" / kRoot));
    EXPECT_EQ(get("/api/recycle-bin").body, R"({"deleted_runs":[]})");
}

TEST_F(ApiRunsTest, PathSoftDelete) {
    Reply r = post("/api/paths/soft-delete", R"({"path": "cv/yolo", "exact": true})");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.body, R"({"path":"cv/yolo","deleted_count":3,"errors":null,)"
                      R"("message":"Moved 3 runs to recycle bin"})");
    EXPECT_EQ(get("/api/paths").json().at("paths"),
              json::parse(R"(["cv/resnet","cv/yolo/v8","default","nlp/bert"])"));
    const json::array bin = get("/api/recycle-bin").json().at("deleted_runs").as_array();
    EXPECT_EQ(bin.size(), 4U);
    for (const auto& e : bin) {
        if (e.at("path").as_string() == "cv/yolo") {
            EXPECT_EQ(e.at("delete_reason").as_string(), "path_batch_delete");
        }
    }
    EXPECT_EQ(post("/api/paths/soft-delete", R"({"exact": true})").status, 422U);
}

TEST_F(ApiRunsTest, QueryParametersPagingAndCaching) {
    const std::vector<std::string> all = ids(get("/api/runs").json());
    ASSERT_EQ(all.size(), 11U);
    std::vector<std::string> paged;
    std::string target = "/api/runs?limit=4";
    int pages = 0;
    while (true) {
        const Reply r = get(target);
        ASSERT_EQ(r.status, 200U) << r.body;
        EXPECT_EQ(r.header("x-total-count"), "11");
        for (const auto& id : ids(r.json())) {
            paged.push_back(id);
        }
        ++pages;
        const std::string next = r.header("x-next-cursor");
        if (next == "<absent>") {
            EXPECT_EQ(r.header("link"), "<absent>");
            break;
        }
        const std::string link = r.header("link");
        ASSERT_THAT(link, StartsWith("</api/runs?limit=4&cursor="));
        ASSERT_LT(pages, 5);
        target = link.substr(1, link.find('>') - 1);
    }
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(paged, all);

    EXPECT_EQ(get("/api/runs?limit=2&count=false").header("x-total-count"), "<absent>");
    Reply r = get("/api/runs?limit=0");
    EXPECT_EQ(r.status, 422U);
    EXPECT_EQ(r.json().at("detail").at(0).at("loc"), json::parse(R"(["query","limit"])"));
    EXPECT_EQ(get("/api/runs?limit=2&cursor=garbage").status, 400U);
    EXPECT_EQ(get("/api/runs?sort=last_step").status, 200U);

    r = get("/api/runs?sort=created&order=asc");
    ASSERT_EQ(r.status, 200U);
    const json::array by_created = r.json().as_array();
    for (std::size_t i = 1; i < by_created.size(); ++i) {
        EXPECT_LE(by_created[i - 1].at("created_time").as_double(),
                  by_created[i].at("created_time").as_double());
    }
    EXPECT_EQ(ids(get("/api/runs?status=failed").json()),
              (std::vector<std::string>{"20250115_103000_b82213", "20250115_124500_e7cb53"}));
    EXPECT_EQ(ids(get("/api/runs?path=/").json()), std::vector<std::string>{kRoot});
    EXPECT_EQ(get("/api/runs?path=cv").json().as_array().size(), 6U);
    EXPECT_EQ(get("/api/runs?path=cv&exact=true").json().as_array().size(), 0U);
    EXPECT_EQ(ids(get("/api/runs?tags=sweep,baseline").json()),
              std::vector<std::string>{kExplicit});
    EXPECT_EQ(ids(get("/api/runs?deleted=true").json()), std::vector<std::string>{kDeleted});
    EXPECT_EQ(get("/api/runs?deleted=any").json().as_array().size(), 12U);

    // q: the filter language (API.md §4.2).
    EXPECT_EQ(ids(get("/api/runs?q=tags%20HAS%20%22sweep%22").json()),
              std::vector<std::string>{kExplicit});
    r = get("/api/runs?q=status%20%3D%3D");
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.json().at("code").as_string(), "FILTER_SYNTAX");
    EXPECT_EQ(r.json().at("detail").at("code").as_string(), "FILTER_SYNTAX");
    EXPECT_TRUE(r.json().at("detail").at("position").is_number());
    r = get("/api/runs?q=nosuchfield.x%20%3E%201");
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.json().at("code").as_string(), "FILTER_FIELD");
    const std::vector<std::string> by_alias = ids(get("/api/runs?sort=alias&order=asc").json());
    ASSERT_EQ(by_alias.size(), 11U);
    EXPECT_EQ(std::vector<std::string>(by_alias.begin(), by_alias.begin() + 3),
              (std::vector<std::string>{kKitchen, kExplicit, kRoot}));

    r = get("/api/runs?include=summary,config,meta&path=cv/resnet&exact=1");
    ASSERT_EQ(r.status, 200U);
    const json::value kitchen = r.json().at(0);
    EXPECT_EQ(kitchen.at("config").at("args").at("model").as_string(), "resnet50");
    EXPECT_TRUE(kitchen.at("summary").is_object());
    EXPECT_TRUE(kitchen.at("meta").is_object());

    const Reply first = get("/api/runs?limit=3");
    const std::string etag = first.header("etag");
    ASSERT_NE(etag, "<absent>");
    const Reply again = get("/api/runs?limit=3", {{"If-None-Match", etag}});
    EXPECT_EQ(again.status, 304U);
    EXPECT_TRUE(again.body.empty());
    EXPECT_EQ(get("/api/runs?limit=2", {{"If-None-Match", etag}}).status, 200U);
    ASSERT_EQ(
        send(http::verb::patch, std::string("/api/runs/") + kRoot, R"({"alias": "new"})").status,
        200U);
    EXPECT_EQ(get("/api/runs?limit=3", {{"If-None-Match", etag}}).status, 200U);
}

TEST_F(ApiRunsTest, HealthVersionAndStatusCheck) {
    Reply r = get("/api/health?nonce=n1");
    ASSERT_EQ(r.status, 200U);
    json::value v = r.json();
    EXPECT_EQ(v.at("status").as_string(), "ok");
    EXPECT_EQ(v.at("storage").as_string(), root_.string());
    EXPECT_TRUE(v.at("store_id").is_null());  // a v0.6 store has no marker
    EXPECT_EQ(v.at("read_only").as_bool(), false);
    EXPECT_EQ(v.at("catalog").at("runs").as_int64(), 11);
    EXPECT_EQ(v.at("nonce").as_string(), "n1");
    const json::value& cache = v.at("cache");
    EXPECT_EQ(cache.at("enabled").as_bool(), true);
    EXPECT_EQ(cache.at("type").as_string(), "incremental");
    EXPECT_TRUE(cache.at("hit_rate").is_string());
    EXPECT_THAT(std::string(cache.at("hit_rate").as_string()), ::testing::EndsWith("%"));
    for (const char* k : {"hits", "misses", "incremental_updates", "size", "max_size"}) {
        EXPECT_TRUE(cache.at(k).is_number()) << k;
    }

    r = get("/api/version");
    ASSERT_EQ(r.status, 200U);
    v = r.json();
    EXPECT_EQ(v.at("version").as_string(), "9.9.9-test");
    EXPECT_EQ(v.at("compat_version").as_string(), "0.6.0");
    EXPECT_EQ(v.at("api_version").as_string(), "1.0");
    EXPECT_EQ(v.at("implementation").as_string(), "runicorn-cpp");
    EXPECT_EQ(v.at("format_version").as_int64(), 1);
    EXPECT_THAT(v.at("build").at("compiler").as_string().c_str(), HasSubstr("gcc"));

    r = post("/api/status/check", "");
    ASSERT_EQ(r.status, 200U) << r.body;
    v = r.json();
    EXPECT_EQ(v.at("message").as_string(), "Checked " + std::to_string(v.at("checked").as_int64()) +
                                               " running experiments, updated " +
                                               std::to_string(v.at("updated").as_int64()) +
                                               " statuses");
}

TEST_F(ApiRunsTest, StorageStats) {
    const Reply r = get("/api/storage/stats");
    ASSERT_EQ(r.status, 200U) << r.body;
    const json::value v = r.json();
    const json::value& want = expected_.at("storage_stats");
    EXPECT_EQ(v.at("storage_root"), want.at("storage_root"));
    EXPECT_EQ(v.at("archive"), want.at("archive"));
    EXPECT_EQ(v.at("runs").at("runs_count").as_int64(), 11);
    EXPECT_EQ(v.at("runs").at("experiments_count").as_int64(), 5);
    EXPECT_EQ(v.at("runs").at("projects_count").as_int64(), 3);
    EXPECT_EQ(v.at("runs").at("deleted_count").as_int64(), 1);
    EXPECT_GT(v.at("runs").at("size_bytes").as_int64(), 0);
    EXPECT_EQ(v.at("artifacts").at("artifact_count").as_int64(), 0);
    EXPECT_EQ(v.at("total").at("size_bytes").as_int64(),
              v.at("archive").at("size_bytes").as_int64() +
                  v.at("runs").at("size_bytes").as_int64() +
                  v.at("index").at("size_bytes").as_int64() +
                  v.at("artifacts").at("size_bytes").as_int64());
    EXPECT_TRUE(v.at("computed_at").is_double());
}

TEST_F(ApiRunsTest, ConfigAndPreferences) {
    Reply r = get("/api/config");
    ASSERT_EQ(r.status, 200U);
    json::value v = r.json();
    EXPECT_EQ(v.at("user_root_dir").as_string(), "");
    EXPECT_EQ(v.at("storage").as_string(), root_.string());
    EXPECT_EQ(v.at("config_file").as_string(), (tmp_.path() / "config" / "config.json").string());
    EXPECT_EQ(v.at("storage_writable").as_bool(), true);

    const fs::path new_root = tmp_.path() / "new root";
    r = post("/api/config/user_root_dir",
             json::serialize(json::object{{"path", new_root.string()}}));
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.json().at("user_root_dir").as_string(), new_root.string());
    EXPECT_EQ(r.json().at("storage").as_string(), root_.string());
    EXPECT_EQ(r.json().at("restart_required").as_bool(), true);
    EXPECT_TRUE(fs::is_directory(new_root));
    EXPECT_EQ(get("/api/config").json().at("user_root_dir").as_string(), new_root.string());
    r = post("/api/config/user_root_dir", R"({"path": "/"})");
    EXPECT_EQ(r.status, 400U);
    EXPECT_THAT(std::string(r.json().at("detail").as_string()),
                StartsWith("Invalid path or permission error: "));
    r = post("/api/config/user_root_dir",
             json::serialize(json::object{{"path", (tmp_.path() / "config" / "x").string()}}));
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(post("/api/config/user_root_dir", "{}").status, 422U);

    r = get("/api/config/column-widths?table=runs&size=lg");
    EXPECT_EQ(r.body, R"({"table":"runs","size":"lg","widths":{}})");
    EXPECT_EQ(get("/api/config/column-widths?table=runs").status, 422U);
    r = post("/api/config/column-widths",
             R"({"table": "runs", "size": "lg", "widths": {"name": 120, "status": 80}})");
    EXPECT_EQ(r.body, R"({"ok":true,"message":"Column width preferences saved"})");
    ASSERT_EQ(post("/api/config/column-widths",
                   R"({"table": "runs", "size": "sm", "widths": {"name": 60}})")
                  .status,
              200U);
    EXPECT_EQ(post("/api/config/column-widths",
                   R"({"table": "runs", "size": "sm", "widths": {"name": "wide"}})")
                  .status,
              422U);
    EXPECT_EQ(get("/api/config/column-widths?table=runs&size=lg").body,
              R"({"table":"runs","size":"lg","widths":{"name":120,"status":80}})");
    r = send(http::verb::delete_, "/api/config/column-widths?table=runs&size=lg", "", "");
    EXPECT_EQ(r.body, R"({"ok":true,"message":"Column width preferences reset"})");
    EXPECT_EQ(get("/api/config/column-widths?table=runs&size=lg").json().at("widths"),
              json::object());
    EXPECT_EQ(get("/api/config/column-widths?table=runs&size=sm").json().at("widths"),
              json::parse(R"({"name":60})"));
    ASSERT_EQ(send(http::verb::post, "/api/config/column-widths/reset?table=runs", "", "").status,
              200U);
    EXPECT_EQ(get("/api/config/column-widths?table=runs&size=sm").json().at("widths"),
              json::object());

    EXPECT_EQ(get("/api/config/dismissed-alerts").body, R"({"dismissed_alerts":[]})");
    r = post("/api/config/dismissed-alerts/dismiss", R"({"alert_id": "gpu"})");
    EXPECT_EQ(r.body, R"({"ok":true,"message":"Alert 'gpu' dismissed"})");
    ASSERT_EQ(post("/api/config/dismissed-alerts/dismiss", R"({"alert_id": "disk"})").status, 200U);
    ASSERT_EQ(post("/api/config/dismissed-alerts/dismiss", R"({"alert_id": "gpu"})").status, 200U);
    EXPECT_EQ(get("/api/config/dismissed-alerts").body, R"({"dismissed_alerts":["gpu","disk"]})");
    r = post("/api/config/dismissed-alerts/undismiss", R"({"alert_id": "gpu"})");
    EXPECT_EQ(r.body, R"({"ok":true,"message":"Alert 'gpu' restored"})");
    EXPECT_EQ(get("/api/config/dismissed-alerts").body, R"({"dismissed_alerts":["disk"]})");
    EXPECT_EQ(post("/api/config/dismissed-alerts/dismiss", "{}").status, 422U);
    r = send(http::verb::post, "/api/config/dismissed-alerts/clear", "", "");
    EXPECT_EQ(r.body, R"({"ok":true,"message":"All dismissed alerts cleared"})");
    EXPECT_EQ(get("/api/config/dismissed-alerts").body, R"({"dismissed_alerts":[]})");

    // The file has v0.6's shape.
    std::ifstream in(tmp_.path() / "config" / "ui_preferences.json");
    std::stringstream text;
    text << in.rdbuf();
    const json::value prefs = json::parse(text.str());
    EXPECT_TRUE(prefs.at("column_widths").is_object());
    EXPECT_TRUE(prefs.at("dismissed_alerts").as_array().empty());
}

}  // namespace
}  // namespace runicorn
