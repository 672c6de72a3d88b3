// Bad input against every route, over real sockets: the kernel loads the real storage, http and
// (when built) dedup plugins onto a copy of the v0.6 fixture store, the test reads the route list
// from GET /openapi.json (so routes added later are covered without touching this file) and sends
// path-traversal attempts, malformed and mistyped JSON, a foreign Host and cross-origin writes.
// After each group the server must still answer (API.md §1.2, §1.4).

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
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
/// Written only outside the store: no response may ever contain it.
constexpr char kSentinel[] = "SENTINEL-7f3a9c-outside-the-store";

struct Reply {
    unsigned status = 0;
    std::string body;
    std::string content_type;
};

/// One request on a fresh connection; the target is sent exactly as given. A connection the
/// server closes without an answer gives status 0.
Reply send(std::uint16_t port, std::string_view method, const std::string& target,
           const std::string& body = "",
           const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    std::string req = std::string(method) + " " + target + " HTTP/1.1\r\n";
    bool host_set = false;
    for (const auto& [k, v] : headers) {
        host_set = host_set || beast::iequals(k, "host");
        req += k + ": " + v + "\r\n";
    }
    if (!host_set) {
        req += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
    }
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    bool connection_set = false;
    for (const auto& [k, v] : headers) {
        connection_set = connection_set || beast::iequals(k, "connection");
    }
    req += (connection_set ? std::string("\r\n") : std::string("Connection: close\r\n\r\n")) + body;
    beast::error_code ec;
    net::write(socket, net::buffer(req), ec);
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(std::uint64_t{256} << 20);
    parser.skip(method == "HEAD");
    http::read(socket, buffer, parser, ec);
    Reply out;
    if (ec && !parser.is_header_done()) {
        return out;
    }
    out.status = parser.get().result_int();
    out.body = parser.get().body();
    out.content_type = std::string(parser.get()[http::field::content_type]);
    return out;
}

/// An operation of the OpenAPI document.
struct Operation {
    std::string method;  ///< upper case
    std::string path;    ///< "/api/runs/{run_id}"
    std::vector<std::string> path_params;
    std::vector<std::string> query_params;  ///< string-typed query parameters
    bool json_body = false;                 ///< requestBody with application/json
    bool any_body = false;                  ///< any requestBody
    std::string stream;                     ///< x-runicorn-stream kind, "" otherwise

    std::string name() const { return method + " " + path; }
};

std::vector<Operation> operations(const json::value& doc) {
    std::vector<Operation> out;
    for (const auto& [path, item] : doc.at("paths").as_object()) {
        for (const auto& [method, op_value] : item.as_object()) {
            const json::object& op = op_value.as_object();
            Operation o;
            o.method = std::string(method);
            std::transform(o.method.begin(), o.method.end(), o.method.begin(),
                           [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
            o.path = std::string(path);
            if (const auto* params = op.if_contains("parameters")) {
                for (const auto& p : params->as_array()) {
                    const std::string in(p.at("in").as_string());
                    const std::string name(p.at("name").as_string());
                    const json::value* schema = p.as_object().if_contains("schema");
                    const bool is_string = schema == nullptr || !schema->is_object() ||
                                           schema->as_object().if_contains("type") == nullptr ||
                                           schema->at("type") == "string";
                    if (in == "path") {
                        o.path_params.push_back(name);
                    } else if (in == "query" && is_string) {
                        o.query_params.push_back(name);
                    }
                }
            }
            if (const auto* rb = op.if_contains("requestBody")) {
                o.any_body = true;
                const auto* content = rb->as_object().if_contains("content");
                o.json_body = content != nullptr && content->is_object() &&
                              content->as_object().contains("application/json");
            }
            if (const auto* s = op.if_contains("x-runicorn-stream"); s != nullptr) {
                // {"protocol": "websocket" | "sse"} (API.md §4.9)
                const auto* protocol =
                    s->is_object() ? s->as_object().if_contains("protocol") : nullptr;
                o.stream = s->is_string() ? std::string(s->as_string())
                           : protocol != nullptr && protocol->is_string()
                               ? std::string(protocol->as_string())
                               : "stream";
            }
            out.push_back(std::move(o));
        }
    }
    return out;
}

/// `op.path` with `{param}` replaced by `value` and every other path parameter by a valid-looking
/// value.
std::string fill(const Operation& op, const std::string& param, const std::string& value) {
    std::string out = op.path;
    for (const std::string& p : op.path_params) {
        const std::string key = "{" + p + "}";
        std::string v;
        if (p == param) {
            v = value;
        } else if (p.find("run") != std::string::npos || p == "id") {
            v = kKitchen;
        } else if (p.find("hash") != std::string::npos || p.find("sha") != std::string::npos) {
            v = std::string(64, 'a');
        } else {
            v = "x";
        }
        const auto at = out.find(key);
        if (at != std::string::npos) {
            out.replace(at, key.size(), v);
        }
    }
    return out;
}

class HttpBadInputTest : public ::testing::Test {
protected:
    HttpBadInputTest()
        : logs_(spdlog::level::warn, {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)}) {}

    void SetUp() override {
        root_ = tmp_.path() / "store";
        // The checkout is read-only; the viewer must be able to write.
        runicorn::testing::copy_tree_writable(kFixture / "store", root_);
        root_ = fs::canonical(root_);
        // Outside the store: a secret file and a complete-looking run folder.
        outside_ = tmp_.path() / "outside";
        fs::create_directories(outside_ / "evil_run" / "media");
        std::ofstream(outside_ / "secret.txt") << kSentinel << "\n";
        std::ofstream(outside_ / "evil_run" / "meta.json")
            << R"({"id":"evil_run","alias":")" << kSentinel << R"(","path":"evil"})";
        std::ofstream(outside_ / "evil_run" / "status.json") << R"({"status":"finished"})";
        std::ofstream(outside_ / "evil_run" / "logs.txt") << kSentinel << "\n";
        std::ofstream(outside_ / "evil_run" / "events.jsonl")
            << R"({"ts":1,"type":"metrics","data":{"global_step":1,")" << kSentinel << R"(":1}})"
            << "\n";
        // Symlinks leaving the store: a run folder, a media file, a whole media folder.
        fs::create_directories(root_ / "runs" / "evil");
        fs::create_directory_symlink(outside_ / "evil_run", root_ / "runs" / "evil" / "evil_link");
        kitchen_ = find_run_dir(kKitchen);
        ASSERT_FALSE(kitchen_.empty());
        fs::create_directories(kitchen_ / "media");
        fs::create_symlink(outside_ / "secret.txt", kitchen_ / "media" / "evil.png");
        fs::create_symlink(outside_ / "secret.txt", kitchen_ / "media" / "evil.txt");

        kernel::HostOptions o;
        o.plugin_dirs = {RUNICORN_PLUGIN_OUT};
        o.enabled = std::vector<std::string>{"storage", "dedup", "http"};
        o.storage_root = root_;
        o.config_dir = tmp_.path() / "config";
        o.version = "9.9.9-test";
        o.check_permissions = false;
        // Rate limits would turn this flood into 429s; they have tests of their own.
        fs::create_directories(tmp_.path() / "config");
        std::ofstream(tmp_.path() / "config" / "rate_limits.json")
            << R"({"settings": {"enable_rate_limiting": false}})";
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
        const Reply doc = send(port_, "GET", "/openapi.json");
        ASSERT_EQ(doc.status, 200U);
        ops_ = operations(json::parse(doc.body));
        ASSERT_GT(ops_.size(), 20U);
    }

    void TearDown() override {
        if (host_ != nullptr) {
            host_->stop();
        }
    }

    fs::path find_run_dir(const std::string& id) const {
        for (const auto& e : fs::recursive_directory_iterator(root_)) {
            if (e.is_directory() && e.path().filename() == id) {
                return e.path();
            }
        }
        return {};
    }

    /// Sends one request; checks the answers every bad input must respect.
    Reply probe(const std::string& what, std::string_view method, const std::string& target,
                const std::string& body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
        if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
            headers.emplace_back("Content-Type", "application/json");
        }
        Reply r = send(port_, method, target, body, headers);
        ++requests_;
        EXPECT_NE(r.status, 0U) << what << ": " << method << " " << target << " got no answer";
        EXPECT_LT(r.status, 500U) << what << ": " << method << " " << target << " -> " << r.body;
        EXPECT_EQ(r.body.find(kSentinel), std::string::npos)
            << what << ": " << method << " " << target << " leaked a file outside the store";
        return r;
    }

    void expect_still_serving() {
        const Reply r = send(port_, "GET", "/api/health");
        EXPECT_EQ(r.status, 200U) << r.body;
    }

    testing::TempDir tmp_;
    std::ostringstream log_;
    kernel::LogHub logs_;
    fs::path root_;
    fs::path outside_;
    fs::path kitchen_;
    std::unique_ptr<kernel::PluginHost> host_;
    std::uint16_t port_ = 0;
    std::vector<Operation> ops_;
    std::size_t requests_ = 0;
};

/// Path-segment payloads: raw, percent-encoded and double-encoded traversal, absolute paths,
/// NUL, backslashes and drive letters, and names that are symlinks leaving the store.
const std::vector<std::string> kSegmentPayloads = {
    "..",
    "%2e%2e",
    "%2E%2E",
    "..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2foutside%2fsecret.txt",
    "%252e%252e%252fsecret.txt",
    "%2fetc%2fpasswd",
    "%2f%2f..%2f..%2f",
    "a%00b",
    "%00",
    "..%5c..%5csecret.txt",
    "C:%5cWindows",
    "evil_link",
    "evil.png",
    "evil.txt",
};

TEST_F(HttpBadInputTest, PathParametersRefuseTraversalOnEveryRoute) {
    std::size_t covered = 0;
    for (const Operation& op : ops_) {
        for (const std::string& param : op.path_params) {
            ++covered;
            for (const std::string& payload : kSegmentPayloads) {
                const std::string target = fill(op, param, payload);
                const std::string body = op.json_body ? "{}" : "";
                const Reply r = probe("path parameter " + param, op.method, target, body);
                // v0.6's "soft" answers stay 200 for any id (API.md §2.3, §2.4): progress is a
                // fixed stub and the project listings filter runs by name. They read no file
                // (probe() checks that the sentinel never leaks) and must answer empty, unless
                // the target is refused before routing (4xx).
                static const std::map<std::string, std::string> kSoft = {
                    {"GET /api/runs/{run_id}/progress",
                     R"({"available":false,"status":"unknown"})"},
                    {"GET /api/projects/{project}/names", R"({"names":[]})"},
                    {"GET /api/projects/{project}/names/{name}/runs", "[]"},
                    // A key names a config.json entry, never a file; v0.6 answers ok either way.
                    {"DELETE /api/config/ssh_connections/{key}",
                     R"({"ok":true,"message":"SSH connection removed"})"},
                };
                if (const auto soft = kSoft.find(op.name()); soft != kSoft.end()) {
                    if (r.status == 200U) {
                        EXPECT_EQ(r.body, soft->second) << op.name() << " with " << payload;
                    } else {
                        EXPECT_TRUE(r.status >= 400U && r.status < 500U) << r.status;
                    }
                    continue;
                }
                // Nothing that names a file or a run outside the store may succeed.
                EXPECT_TRUE(r.status >= 400U && r.status < 500U)
                    << op.name() << " with " << param << "=" << payload << " -> " << r.status << " "
                    << r.body;
            }
        }
    }
    EXPECT_GT(covered, 10U) << "the OpenAPI document lists too few routes with path parameters";
    // Raw traversal in the path itself (no parameter involved).
    for (const char* target :
         {"/api/runs/../../../etc/passwd", "/api/runs/%2e%2e/%2e%2e/x", "/../../outside/secret.txt",
          "/%2e%2e/outside/secret.txt", "/assets/..%2f..%2f..%2foutside%2fsecret.txt",
          "/index.html%00.js", "//etc/passwd"}) {
        const Reply r = probe("raw path", "GET", target);
        EXPECT_NE(r.status, 200U) << target << " " << r.body.substr(0, 200);
    }
    expect_still_serving();
}

TEST_F(HttpBadInputTest, QueryParametersNeverReachOutsideTheStore) {
    const std::string abs = (outside_ / "secret.txt").string();
    const std::vector<std::string> payloads = {
        "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2foutside%2fsecret.txt", "%2fetc%2fpasswd",
        "a%00b", "..%5c..%5csecret.txt", "evil.png", "evil%2Fevil_link",
        // the secret by its absolute path (spaces and all percent-encoded by hand)
        [&] {
            std::string enc;
            for (const char c : abs) {
                if (c == '/') {
                    enc += "%2F";
                } else {
                    enc += c;
                }
            }
            return enc;
        }()};
    std::size_t covered = 0;
    for (const Operation& op : ops_) {
        if (op.query_params.empty() || !op.stream.empty()) {
            continue;
        }
        for (const std::string& q : op.query_params) {
            ++covered;
            for (const std::string& payload : payloads) {
                const std::string target = fill(op, "", "") + "?" + q + "=" + payload;
                probe("query parameter " + q, op.method, target, op.json_body ? "{}" : "");
            }
        }
    }
    EXPECT_GT(covered, 10U);
    expect_still_serving();
}

TEST_F(HttpBadInputTest, MalformedAndMistypedJsonBodiesAre400Or422) {
    const std::vector<std::pair<std::string, std::string>> bodies = {
        {"truncated", R"({"run_ids": [)"},
        {"not json", "hello"},
        {"trailing garbage", R"({} x)"},
        {"bad escape", R"({"a": "\q"})"},
        {"invalid utf-8", std::string("{\"a\": \"\xff\xfe\"}")},
        {"array", "[1, 2, 3]"},
        {"string", R"("text")"},
        {"number", "42"},
        {"null", "null"},
        {"deep", std::string(40, '[') + std::string(40, ']')},
        {"wrong member types",
         R"({"run_ids": 5, "confirm": "yes", "alias": 7, "tags": "t", "path": 3, "name": [],)"
         R"( "widths": "w", "token": 1, "keys": 2})"},
    };
    std::size_t covered = 0;
    for (const Operation& op : ops_) {
        if (op.method != "POST" && op.method != "PUT" && op.method != "PATCH") {
            continue;
        }
        const std::string target = fill(op, "", "");
        // Most routes declare no requestBody schema in the OpenAPI document, so a route counts
        // as reading JSON when it refuses a body that is not JSON at all; it must then refuse
        // every other malformed body the same way.
        const Reply plain = probe("body not json", op.method, target, "hello");
        const bool reads_json = op.json_body || plain.status == 400U || plain.status == 422U;
        for (const auto& [what, body] : bodies) {
            const Reply r = probe("body " + what, op.method, target, body);
            if (!reads_json) {
                // A route without a JSON body ignores it (probe() checks: never a 5xx).
                continue;
            }
            ++covered;
            // "wrong member types" may still be a valid object for routes whose fields it does
            // not name; everything else is not an object at all.
            if (what == "wrong member types" && r.status == 200U) {
                continue;
            }
            EXPECT_TRUE(r.status == 400U || r.status == 422U)
                << op.name() << " with " << what << " -> " << r.status << " " << r.body;
            boost::system::error_code ec;
            const json::value v = json::parse(r.body, ec);
            EXPECT_TRUE(!ec && v.is_object() && v.as_object().contains("detail"))
                << op.name() << " with " << what << ": " << r.body;
        }
    }
    EXPECT_GT(covered, 20U) << "the OpenAPI document lists too few JSON-body routes";
    expect_still_serving();
}

TEST_F(HttpBadInputTest, ForeignHostIsRefusedEverywhere) {
    for (const Operation& op : ops_) {
        const std::string target = fill(op, "", "");
        std::vector<std::pair<std::string, std::string>> headers = {{"Host", "evil.example"}};
        if (op.stream == "websocket") {
            headers.emplace_back("Upgrade", "websocket");
            headers.emplace_back("Connection", "Upgrade");
            headers.emplace_back("Sec-WebSocket-Version", "13");
            headers.emplace_back("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
        }
        const Reply r = probe("foreign host", op.method, target, op.json_body ? "{}" : "", headers);
        // API.md §1.4: 403 {"detail": "Host not allowed"} (421 would also be a refusal).
        EXPECT_TRUE(r.status == 403U || r.status == 421U) << op.name() << " -> " << r.status;
        EXPECT_THAT(r.body, HasSubstr("Host not allowed")) << op.name();
    }
    for (const char* host :
         {"evil.example:23300", "0.0.0.0", "127.0.0.1.evil.example", "localhost.evil.example"}) {
        const Reply r = probe("foreign host", "GET", "/", "", {{"Host", host}});
        EXPECT_EQ(r.status, 403U) << host;
    }
    expect_still_serving();
}

TEST_F(HttpBadInputTest, CrossOriginWritesAreRefused) {
    const std::string self = "http://127.0.0.1:" + std::to_string(port_);
    std::size_t covered = 0;
    for (const Operation& op : ops_) {
        const bool write = op.method == "POST" || op.method == "PUT" || op.method == "PATCH" ||
                           op.method == "DELETE";
        if (!write && op.stream.empty()) {
            continue;
        }
        ++covered;
        const std::string target = fill(op, "", "");
        const std::string body = op.json_body ? "{}" : "";
        for (const auto& header :
             std::vector<std::pair<std::string, std::string>>{{"Origin", "http://evil.example"},
                                                              {"Origin", "null"},
                                                              {"Origin", "http://127.0.0.1:1"},
                                                              {"Sec-Fetch-Site", "cross-site"},
                                                              {"Sec-Fetch-Site", "same-site"}}) {
            std::vector<std::pair<std::string, std::string>> headers = {header};
            if (op.stream == "websocket") {
                headers.emplace_back("Upgrade", "websocket");
                headers.emplace_back("Connection", "Upgrade");
                headers.emplace_back("Sec-WebSocket-Version", "13");
                headers.emplace_back("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
            }
            const Reply r = probe("cross origin", op.method, target, body, headers);
            EXPECT_EQ(r.status, 403U)
                << op.name() << " with " << header.first << ": " << header.second;
            EXPECT_THAT(r.body, HasSubstr("Origin not allowed")) << op.name();
        }
        // A form post (the CSRF classic) is refused by its content type even without Origin.
        if (op.json_body) {
            const Reply form = send(port_, op.method, target, "a=1",
                                    {{"Content-Type", "application/x-www-form-urlencoded"}});
            EXPECT_EQ(form.status, 415U) << op.name();
        }
    }
    EXPECT_GT(covered, 10U);
    // The same origin is accepted (so the refusals above are about the origin).
    const Reply ok = send(port_, "POST", "/api/runs/soft-delete", R"({"run_ids": []})",
                          {{"Origin", self}, {"Content-Type", "application/json"}});
    EXPECT_NE(ok.status, 403U) << ok.body;
    expect_still_serving();
}

}  // namespace
}  // namespace runicorn
