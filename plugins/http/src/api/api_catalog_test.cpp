// End-to-end tests (real plugins, real sockets) of the catalog-backed parts of the API:
// last_step and metric sorts/filters on GET /api/runs (API.md §4.1, §4.2), status=crashed,
// GET /api/assets (§4.12), the SSH connection config routes (§2.5) and the storage-root switch.

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
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
using ::testing::Not;

const fs::path kFixture = RUNICORN_FIXTURE_DIR;
constexpr char kRunning[] = "20250115_124500_e7cb53";  // dead writer: failed/process_not_found

struct Reply {
    unsigned status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;

    std::string header(const std::string& lower) const {
        for (const auto& [k, v] : headers) {
            if (k == lower) {
                return v;
            }
        }
        return "<absent>";
    }
    json::value json() const { return json::parse(body); }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string url_encode(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(c);
        } else {
            char buf[4];
            std::snprintf(buf, sizeof(buf), "%%%02X", u);
            out += buf;
        }
    }
    return out;
}

class ApiCatalogTest : public ::testing::Test {
protected:
    ApiCatalogTest()
        : logs_(spdlog::level::warn, {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)}) {}

    void SetUp() override {
        root_ = tmp_.path() / "store";
        // The checkout is read-only; the viewer must be able to write.
        runicorn::testing::copy_tree_writable(kFixture / "store", root_);
        // Claim the "running" run for this host so its dead writer is detected here too.
        const fs::path meta = root_ / "runs" / "cv" / "yolo" / kRunning / "meta.json";
        std::string s = slurp(meta);
        std::array<char, 256> host{};
        ASSERT_EQ(::gethostname(host.data(), host.size() - 1), 0);
        const std::string from = "\"hostname\": \"vm\"";
        const std::size_t pos = s.find(from);
        ASSERT_NE(pos, std::string::npos);
        s.replace(pos, from.size(), "\"hostname\": \"" + std::string(host.data()) + "\"");
        std::ofstream(meta, std::ios::trunc) << s;
        root_ = fs::canonical(root_);
        config_dir_ = tmp_.path() / "config";
        fs::create_directories(config_dir_);
        prepare();

        kernel::HostOptions o;
        o.plugin_dirs = {RUNICORN_PLUGIN_OUT};
        o.enabled = std::vector<std::string>{"storage", "http"};
        o.storage_root = root_;
        o.config_dir = config_dir_;
        o.version = "9.9.9-test";
        o.check_permissions = false;
        o.plugin_configs = json::parse(R"({"http": {"port": 0}})").as_object();
        host_ = std::make_unique<kernel::PluginHost>(std::move(o), logs_);
        host_->load();
        host_->init();
        host_->start();
        for (const auto& r : host_->reports()) {
            if (r.id == "storage" || r.id == "http") {
                ASSERT_EQ(r.state, "loaded") << r.id << ": " << r.error << "\n" << log_.str();
            }
        }
        auto routes = host_->find<plugin::HttpRoutes>();
        ASSERT_NE(routes, nullptr);
        const std::string base = routes->base_url();
        port_ = static_cast<std::uint16_t>(std::stoi(base.substr(base.rfind(':') + 1)));
    }

    void TearDown() override {
        if (host_ != nullptr) {
            host_->stop();
        }
    }

    /// Runs before the plugins start (files the test wants in place first).
    virtual void prepare() {}

    Reply send(http::verb method, const std::string& target, const std::string& body = "") {
        net::io_context ioc;
        tcp::socket socket(ioc);
        socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
        if (!body.empty() || method == http::verb::post) {
            req.set(http::field::content_type, "application/json");
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
    Reply get(const std::string& target) { return send(http::verb::get, target); }
    Reply post(const std::string& target, const std::string& body) {
        return send(http::verb::post, target, body);
    }

    static std::vector<std::string> ids(const json::value& items) {
        std::vector<std::string> out;
        for (const auto& item : items.as_array()) {
            out.emplace_back(item.at("id").as_string());
        }
        return out;
    }

    /// metric-keys of every live run (the series service: another reader of the same files).
    std::map<std::string, json::object> loss_stats() {
        std::map<std::string, json::object> out;
        const Reply runs = get("/api/runs");
        for (const auto& id : ids(runs.json())) {
            const Reply keys = get("/api/runs/" + id + "/metric-keys");
            EXPECT_EQ(keys.status, 200U) << keys.body;
            const json::value body = keys.json();  // keeps the array alive for the loop
            for (const auto& k : body.at("keys").as_array()) {
                if (k.at("key") == "loss") {
                    out[id] = k.as_object();
                }
            }
        }
        return out;
    }

    static std::optional<double> number(const json::value& v) {
        if (v.is_double()) {
            return v.as_double();
        }
        if (v.is_int64()) {
            return static_cast<double>(v.as_int64());
        }
        return std::nullopt;  // null or "NaN"
    }

    testing::TempDir tmp_;
    fs::path root_;
    fs::path config_dir_;
    std::ostringstream log_;
    kernel::LogHub logs_;
    std::unique_ptr<kernel::PluginHost> host_;
    std::uint16_t port_ = 0;
};

TEST_F(ApiCatalogTest, LastStepInListsAndSortByLastStep) {
    const Reply r = get("/api/runs?sort=last_step");
    ASSERT_EQ(r.status, 200U) << r.body;
    const json::array items = r.json().as_array();
    ASSERT_FALSE(items.empty());
    // Same values as the run detail (the series service), descending, nulls last.
    bool seen_null = false;
    std::optional<std::int64_t> prev;
    for (const auto& item : items) {
        const std::string id(item.at("id").as_string());
        const Reply detail = get("/api/runs/" + id);
        ASSERT_EQ(detail.status, 200U);
        EXPECT_EQ(item.at("last_step"), detail.json().at("last_step")) << id;
        if (item.at("last_step").is_null()) {
            seen_null = true;
            continue;
        }
        EXPECT_FALSE(seen_null) << "a value after a null: " << id;
        const std::int64_t step = item.at("last_step").as_int64();
        if (prev) {
            EXPECT_LE(step, *prev);
        }
        prev = step;
    }
    EXPECT_TRUE(prev.has_value());
    const Reply asc = get("/api/runs?sort=last_step&order=asc&limit=3");
    ASSERT_EQ(asc.status, 200U);
    EXPECT_NE(asc.header("x-next-cursor"), "<absent>");
}

TEST_F(ApiCatalogTest, SortByMetricMinAscendingFollowsCursorsAcrossPages) {
    const auto stats = loss_stats();
    ASSERT_GE(stats.size(), 3U);
    std::vector<std::pair<double, std::string>> with;
    for (const auto& [id, k] : stats) {
        if (auto min = number(k.at("min"))) {
            with.emplace_back(*min, id);
        }
    }
    std::sort(with.begin(), with.end());
    std::vector<std::string> expected;
    for (const auto& [v, id] : with) {
        expected.push_back(id);
    }
    std::vector<std::string> paged;
    std::string target = "/api/runs?sort=metric.loss.min&order=asc&limit=2";
    for (int pages = 0; pages < 20; ++pages) {
        const Reply r = get(target);
        ASSERT_EQ(r.status, 200U) << r.body;
        const auto got = ids(r.json());
        paged.insert(paged.end(), got.begin(), got.end());
        const std::string cursor = r.header("x-next-cursor");
        if (cursor == "<absent>") {
            break;
        }
        target = "/api/runs?sort=metric.loss.min&order=asc&limit=2&cursor=" + url_encode(cursor);
    }
    const Reply all = get("/api/runs");
    ASSERT_EQ(paged.size(), all.json().as_array().size());  // runs without loss come last
    EXPECT_EQ(
        std::vector<std::string>(paged.begin(), paged.begin() + static_cast<long>(expected.size())),
        expected);
    // A cursor of another sort is refused.
    const Reply first = get("/api/runs?sort=metric.loss.min&order=asc&limit=2");
    const Reply other = get("/api/runs?sort=metric.loss.max&order=asc&limit=2&cursor=" +
                            url_encode(first.header("x-next-cursor")));
    EXPECT_EQ(other.status, 400U);
    EXPECT_EQ(get("/api/runs?sort=metric.loss.mean").status, 422U);
}

TEST_F(ApiCatalogTest, FilterOnMetricLast) {
    const auto stats = loss_stats();
    std::set<std::string> expected;
    for (const auto& [id, k] : stats) {
        if (auto last = number(k.at("last")); last && *last < 0.5) {
            expected.insert(id);
        }
    }
    ASSERT_FALSE(expected.empty());
    const Reply r = get("/api/runs?q=" + url_encode("metric.loss.last < 0.5"));
    ASSERT_EQ(r.status, 200U) << r.body;
    const auto got = ids(r.json());
    EXPECT_EQ(std::set<std::string>(got.begin(), got.end()), expected);
    EXPECT_EQ(r.header("x-total-count"), std::to_string(expected.size()));
    const Reply bad = get("/api/runs?q=" + url_encode("metric.loss.mean < 1"));
    EXPECT_EQ(bad.status, 400U);
    EXPECT_EQ(bad.json().at("detail").at("code"), "FILTER_FIELD");
}

TEST_F(ApiCatalogTest, StatusCrashedIsFailedWithACrashReason) {
    Reply r = get("/api/runs?status=crashed");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(ids(r.json()), std::vector<std::string>{kRunning});
    EXPECT_EQ(r.json().at(0).at("exit_reason"), "process_not_found");
    r = get("/api/runs?status=failed");
    ASSERT_EQ(r.status, 200U);
    EXPECT_EQ(r.json().as_array().size(), 2U);  // the exception failure is not a crash
    r = get("/api/runs?status=crashed,finished&limit=100");
    ASSERT_EQ(r.status, 200U);
    EXPECT_EQ(r.header("x-total-count"), std::to_string(r.json().as_array().size()));
}

/// The expected GET /api/assets groups, computed from the fixture copy's assets.json files.
struct ExpectedGroup {
    std::set<std::string> runs;
    double newest = -1;
    std::string last_run;
};

TEST_F(ApiCatalogTest, AssetsAcrossRunsMatchTheFixtureFiles) {
    std::map<std::pair<std::string, std::string>, ExpectedGroup> expected;
    for (const auto& e : fs::recursive_directory_iterator(root_ / "runs")) {
        if (e.path().filename() != "assets.json" ||
            fs::exists(e.path().parent_path() / ".deleted")) {
            continue;
        }
        const fs::path dir = e.path().parent_path();
        const std::string id = dir.filename().string();
        const json::object meta = json::parse(slurp(dir / "meta.json")).as_object();
        const double created = meta.at("created_at").to_number<double>();
        const json::object assets = json::parse(slurp(e.path())).as_object();
        const auto add = [&](const std::string& type, const json::object& entry,
                             const char* source_key) {
            std::string group;
            if (const auto* fp = entry.if_contains("fingerprint"); fp && fp->is_string()) {
                group = "f" + std::string(fp->as_string());
            } else if (const auto* ap = entry.if_contains("archive_path"); ap && ap->is_string()) {
                group = "a" + std::string(ap->as_string());
            } else if (const auto* src = entry.if_contains(source_key); src && !src->is_null()) {
                group = "s" +
                        (src->is_string() ? std::string(src->as_string()) : json::serialize(*src));
            }
            ExpectedGroup& g = expected[{type, group}];
            g.runs.insert(id);
            if (created > g.newest) {
                g.newest = created;
                g.last_run = id;
            }
        };
        if (const auto* code = assets.if_contains("code"); code && code->is_object()) {
            if (const auto* snap = code->as_object().if_contains("snapshot");
                snap && snap->is_object()) {
                add("code_snapshot", snap->as_object(), "workspace_root");
            }
        }
        for (const auto& [section, type, src] :
             std::vector<std::tuple<const char*, const char*, const char*>>{
                 {"datasets", "dataset", "uri"},
                 {"pretrained", "pretrained", "path_or_uri"},
                 {"outputs", "output", "path"}}) {
            if (const auto* list = assets.if_contains(section); list && list->is_array()) {
                for (const auto& entry : list->as_array()) {
                    add(type, entry.as_object(), src);
                }
            }
        }
    }
    ASSERT_GE(expected.size(), 3U);

    Reply r = get("/api/assets");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.header("x-total-count"), std::to_string(expected.size()));
    const json::array items = r.json().at("assets").as_array();
    ASSERT_EQ(items.size(), expected.size());
    std::optional<double> prev;
    for (const auto& v : items) {
        const json::object& item = v.as_object();
        std::string group;
        if (item.at("fingerprint").is_string()) {
            group = "f" + std::string(item.at("fingerprint").as_string());
        } else if (item.at("archive_path").is_string()) {
            group = "a";  // rebased: compared by type below
        } else if (item.at("source").is_string()) {
            group = "s" + std::string(item.at("source").as_string());
        }
        const std::string type(item.at("asset_type").as_string());
        auto it = expected.find({type, group});
        if (group == "a") {
            it = std::find_if(expected.begin(), expected.end(), [&](const auto& kv) {
                return kv.first.first == type && kv.first.second.starts_with("a");
            });
        }
        ASSERT_NE(it, expected.end()) << json::serialize(item);
        EXPECT_EQ(item.at("run_count").as_int64(),
                  static_cast<std::int64_t>(it->second.runs.size()))
            << json::serialize(item);
        EXPECT_EQ(item.at("last_run_id"), json::value(it->second.last_run))
            << json::serialize(item);
        if (item.at("archive_path").is_string()) {
            EXPECT_THAT(std::string(item.at("archive_path").as_string()),
                        ::testing::StartsWith(root_.string() + "/archive/"))
                << json::serialize(item);
        }
        const double used = item.at("last_used_at").to_number<double>();
        if (prev) {
            EXPECT_LE(used, *prev);  // most recently used first
        }
        prev = used;
    }
    // Filters and paging.
    r = get("/api/assets?type=dataset&path=cv");
    ASSERT_EQ(r.status, 200U);
    const json::value filtered = r.json();
    for (const auto& v : filtered.at("assets").as_array()) {
        EXPECT_EQ(v.at("asset_type"), "dataset");
    }
    r = get("/api/assets?limit=1");
    ASSERT_EQ(r.status, 200U);
    ASSERT_EQ(r.json().at("assets").as_array().size(), 1U);
    ASSERT_TRUE(r.json().at("next_cursor").is_string());
    const Reply next =
        get("/api/assets?limit=1&cursor=" + url_encode(r.json().at("next_cursor").as_string()));
    ASSERT_EQ(next.status, 200U);
    EXPECT_NE(next.json().at("assets").at(0), r.json().at("assets").at(0));
    EXPECT_EQ(get("/api/assets?type=config").status, 422U);
    EXPECT_EQ(get("/api/assets?limit=0").status, 422U);
    EXPECT_EQ(get("/api/assets?archived=maybe").status, 422U);
    EXPECT_EQ(get("/api/assets?cursor=zz").status, 400U);
    r = get("/api/assets?q=IMAGENET");
    ASSERT_EQ(r.status, 200U);
    const json::value found = r.json();
    ASSERT_FALSE(found.at("assets").as_array().empty());
    for (const auto& v : found.at("assets").as_array()) {
        std::string text;
        for (const char* k : {"name", "source", "fingerprint"}) {
            if (v.at(k).is_string()) {
                text += std::string(v.at(k).as_string()) + "\n";
            }
        }
        std::transform(text.begin(), text.end(), text.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        EXPECT_THAT(text, HasSubstr("imagenet"));
    }
}

class ApiSshConfigTest : public ApiCatalogTest {
protected:
    static constexpr char kLegacySecret[] = "legacy-pass-123";

    void prepare() override {
        // A v0.6 config.json: one connection with an ENC: password and its .credential_key.
        std::string key;
        for (int i = 0; i < 32; ++i) {
            key.push_back(static_cast<char>(0x41 + i));
        }
        std::ofstream(config_dir_ / ".credential_key", std::ios::binary) << key;
        std::string x(kLegacySecret);
        for (std::size_t i = 0; i < x.size(); ++i) {
            x[i] = static_cast<char>(x[i] ^ key[i % 32]);
        }
        static constexpr char kB64[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::string b64;
        for (std::size_t i = 0; i < x.size(); i += 3) {
            const std::uint32_t n =
                (static_cast<unsigned char>(x[i]) << 16U) |
                (i + 1 < x.size() ? static_cast<unsigned char>(x[i + 1]) << 8U : 0U) |
                (i + 2 < x.size() ? static_cast<unsigned char>(x[i + 2]) : 0U);
            b64 += kB64[(n >> 18U) & 63U];
            b64 += kB64[(n >> 12U) & 63U];
            b64 += i + 1 < x.size() ? kB64[(n >> 6U) & 63U] : '=';
            b64 += i + 2 < x.size() ? kB64[n & 63U] : '=';
        }
        legacy_enc_ = "ENC:" + b64;
        std::ofstream(config_dir_ / "config.json")
            << R"({"user_root_dir": "", "other": {"kept": 1}, "ssh_connections": [)"
            << R"({"host": "gpu1", "port": 22, "username": "me", "name": "lab", )"
            << R"("remember_password": true, "auth_method": "password", "password": ")"
            << legacy_enc_ << R"(", "key": "gpu1:22@me"}]})";
    }

    /// No answer may carry a secret: no secret text, no password/passphrase/private_key field.
    void expect_no_secret(const Reply& r, const std::vector<std::string>& secrets) {
        for (const auto& s : secrets) {
            EXPECT_THAT(r.body, Not(HasSubstr(s)));
        }
        EXPECT_THAT(r.body, Not(HasSubstr("\"password\":")));
        EXPECT_THAT(r.body, Not(HasSubstr("\"passphrase\":")));
        EXPECT_THAT(r.body, Not(HasSubstr("\"private_key\":")));
        EXPECT_THAT(r.body, Not(HasSubstr("ENC:")));
    }

    std::string legacy_enc_;
};

TEST_F(ApiSshConfigTest, RoundTripStoresNoSecretAndReadsTheLegacyEntry) {
    const std::vector<std::string> secrets = {kLegacySecret, "hunter2", "pp-secret",
                                              "BEGIN OPENSSH", legacy_enc_.substr(4)};
    Reply r = get("/api/config/ssh_connections");
    ASSERT_EQ(r.status, 200U) << r.body;
    expect_no_secret(r, secrets);
    ASSERT_EQ(r.json().at("connections").as_array().size(), 1U);
    const json::value legacy = r.json().at("connections").at(0);
    EXPECT_EQ(legacy.at("key"), "gpu1:22@me");
    EXPECT_EQ(legacy.at("has_password"), true);  // the ENC: value decodes with the key file
    EXPECT_EQ(legacy.at("has_private_key"), false);
    EXPECT_EQ(legacy.at("has_passphrase"), false);

    r = post("/api/config/ssh_connections",
             R"({"host": "gpu2", "port": 2222, "username": "u", "name": "n2",
                 "remember_password": true, "auth_method": "key", "password": "hunter2",
                 "passphrase": "pp-secret", "private_key": "-----BEGIN OPENSSH-----",
                 "private_key_path": "~/.ssh/id_ed25519"})");
    ASSERT_EQ(r.status, 200U) << r.body;
    expect_no_secret(r, secrets);
    EXPECT_EQ(r.json().at("ok"), true);
    EXPECT_EQ(r.json().at("message"), "SSH connection saved");
    EXPECT_EQ(r.json().at("secret_stored"), false);
    EXPECT_TRUE(r.json().at("secret_store").is_null());
    EXPECT_TRUE(r.json().at("secret_note").is_string());

    r = get("/api/config/ssh_connections");
    expect_no_secret(r, secrets);
    const json::array list = r.json().at("connections").as_array();
    ASSERT_EQ(list.size(), 2U);
    EXPECT_EQ(list[0].at("key"), "gpu2:2222@u");  // newest first
    EXPECT_EQ(list[0].at("has_password"), false);
    EXPECT_EQ(list[0].at("has_passphrase"), false);
    EXPECT_EQ(list[0].at("has_private_key"), false);
    EXPECT_EQ(list[0].at("private_key_path"), "~/.ssh/id_ed25519");
    EXPECT_EQ(list[0].at("auth_method"), "key");
    EXPECT_EQ(list[0].at("port"), 2222);

    r = get("/api/config/ssh_connections/" + url_encode("gpu1:22@me") + "/details");
    ASSERT_EQ(r.status, 200U) << r.body;
    expect_no_secret(r, secrets);
    EXPECT_EQ(r.json().at("connection").at("has_password"), true);
    EXPECT_EQ(get("/api/config/ssh_connections/nobody/details").status, 404U);

    // Nothing secret and nothing ENC: written for the new entry; unknown keys kept.
    std::string file = slurp(config_dir_ / "config.json");
    EXPECT_THAT(file, Not(HasSubstr("hunter2")));
    EXPECT_THAT(file, Not(HasSubstr("pp-secret")));
    EXPECT_THAT(file, Not(HasSubstr("BEGIN OPENSSH")));
    EXPECT_THAT(file, HasSubstr("\"kept\""));
    EXPECT_FALSE(fs::exists(config_dir_ / ".secret.key"));

    // Re-saving the legacy entry drops its v0.6 secret (no keyring, no user key) and upserts.
    r = post("/api/config/ssh_connections",
             R"({"host": "gpu1", "username": "me", "remember_password": true})");
    ASSERT_EQ(r.status, 200U);
    file = slurp(config_dir_ / "config.json");
    EXPECT_THAT(file, Not(HasSubstr("ENC:")));
    r = get("/api/config/ssh_connections");
    ASSERT_EQ(r.json().at("connections").as_array().size(), 2U);
    EXPECT_EQ(r.json().at("connections").at(0).at("key"), "gpu1:22@me");
    EXPECT_EQ(r.json().at("connections").at(0).at("has_password"), false);

    // Only the 10 most recent are kept.
    for (int i = 0; i < 12; ++i) {
        ASSERT_EQ(post("/api/config/ssh_connections",
                       R"({"host": "h)" + std::to_string(i) + R"(", "username": "u"})")
                      .status,
                  200U);
    }
    r = get("/api/config/ssh_connections");
    const json::array kept = r.json().at("connections").as_array();
    ASSERT_EQ(kept.size(), 10U);
    EXPECT_EQ(kept[0].at("key"), "h11:22@u");
    EXPECT_EQ(kept[9].at("key"), "h2:22@u");

    r = send(http::verb::delete_, "/api/config/ssh_connections/" + url_encode("h11:22@u"));
    ASSERT_EQ(r.status, 200U);
    EXPECT_EQ(r.json().at("message"), "SSH connection removed");
    EXPECT_EQ(get("/api/config/ssh_connections").json().at("connections").as_array().size(), 9U);

    // Bad input.
    EXPECT_EQ(post("/api/config/ssh_connections", R"({"username": "u"})").status, 422U);
    EXPECT_EQ(
        post("/api/config/ssh_connections", R"({"host": "h", "username": "u", "port": 0})").status,
        422U);
    EXPECT_EQ(post("/api/config/ssh_connections", R"({"host": 1, "username": "u"})").status, 422U);
    EXPECT_EQ(post("/api/config/ssh_connections", "[1]").status, 422U);  // not an object
    EXPECT_EQ(post("/api/config/ssh_connections", "{").status, 400U);    // malformed JSON
}

TEST_F(ApiCatalogTest, UserRootDirSwitchesTheRunningViewer) {
    // A second store with one run.
    const fs::path other = tmp_.path() / "other";
    const fs::path run = other / "runs" / "p" / "20260101_000000_abcdef";
    fs::create_directories(run);
    std::ofstream(run / "meta.json") << R"({"id": "20260101_000000_abcdef", "created_at": 5})";
    std::ofstream(run / "status.json") << R"({"status": "finished"})";
    ASSERT_EQ(get("/api/runs").json().as_array().size(), 11U);

    Reply r =
        post("/api/config/user_root_dir", json::serialize(json::object{{"path", other.string()}}));
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.json().at("ok"), true);
    EXPECT_EQ(r.json().at("user_root_dir"), json::value(fs::canonical(other).string()));
    if (r.json().at("restart_required") == true) {
        // The store cannot switch: the old root stays served until the next start.
        EXPECT_EQ(r.json().at("storage"), json::value(root_.string()));
        EXPECT_EQ(get("/api/runs").json().as_array().size(), 11U);
    } else {
        EXPECT_EQ(r.json().at("storage"), json::value(fs::canonical(other).string()));
        EXPECT_EQ(ids(get("/api/runs").json()), std::vector<std::string>{"20260101_000000_abcdef"});
        EXPECT_EQ(get("/api/config").json().at("storage"),
                  json::value(fs::canonical(other).string()));
    }
    EXPECT_EQ(post("/api/config/user_root_dir", R"({"path": "/"})").status, 400U);
}

}  // namespace
}  // namespace runicorn
