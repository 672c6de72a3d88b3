// End-to-end tests of export and import over real sockets: the kernel loads the real storage and
// http plugins from the build tree, once on a copy of the Runicorn v0.6 fixture store (the
// source) and once on an empty store (the target), and the tests move runs between them.

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
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
#include <archive.h>
#include <archive_entry.h>

namespace runicorn {
namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;
using ::testing::HasSubstr;

const fs::path kFixture = RUNICORN_FIXTURE_DIR;
constexpr char kKitchen[] = "20250115_100000_6cefa5";   // cv/resnet, blobs + rolling outputs
constexpr char kExplicit[] = "20250115_101500_df538c";  // cv/resnet

struct Reply {
    unsigned status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  ///< Lower-case names.
    json::value json() const { return json::parse(body); }
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Entry names of a tar.gz or zip held in memory, in order.
std::vector<std::string> entry_names(const std::string& bytes) {
    std::vector<std::string> out;
    struct ::archive* a = archive_read_new();
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_filter_gzip(a);
    EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        out.emplace_back(archive_entry_pathname(e));
        archive_read_data_skip(a);
    }
    archive_read_free(a);
    return out;
}

/// A zip holding `name` → `content` pairs (deflate).
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& items) {
    std::vector<char> buf(std::size_t{4} << 20);
    std::size_t used = 0;
    struct ::archive* a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_zip_set_compression_deflate(a);
    EXPECT_EQ(archive_write_open_memory(a, buf.data(), buf.size(), &used), ARCHIVE_OK);
    for (const auto& [name, content] : items) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, name.c_str());
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, static_cast<la_int64_t>(content.size()));
        EXPECT_EQ(archive_write_header(a, e), ARCHIVE_OK);
        archive_write_data(a, content.data(), content.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return std::string(buf.data(), used);
}

/// One viewer process-in-a-test: the storage and http plugins on `root`.
class Viewer {
public:
    Viewer(const fs::path& root, const fs::path& config_dir, const std::string& http_config)
        : logs_(spdlog::level::warn, {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)}) {
        kernel::HostOptions o;
        o.plugin_dirs = {RUNICORN_PLUGIN_OUT};
        o.enabled = std::vector<std::string>{"storage", "http"};
        o.storage_root = root;
        o.config_dir = config_dir;
        o.version = "9.9.9-test";
        o.check_permissions = false;
        o.plugin_configs = json::parse(R"({"http": )" + http_config + "}").as_object();
        host_ = std::make_unique<kernel::PluginHost>(std::move(o), logs_);
        host_->load();
        host_->init();
        host_->start();
        auto routes = host_->find<plugin::HttpRoutes>();
        EXPECT_NE(routes, nullptr) << log_.str();
        if (routes != nullptr) {
            const std::string base = routes->base_url();
            port_ = static_cast<std::uint16_t>(std::stoi(base.substr(base.rfind(':') + 1)));
        }
    }
    ~Viewer() { host_->stop(); }
    Viewer(const Viewer&) = delete;
    Viewer& operator=(const Viewer&) = delete;
    Viewer(Viewer&&) = delete;
    Viewer& operator=(Viewer&&) = delete;

    Reply send(http::verb method, const std::string& target, const std::string& body = "",
               const std::string& content_type = "") const {
        net::io_context ioc;
        tcp::socket socket(ioc);
        socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
        if (!content_type.empty()) {
            req.set(http::field::content_type, content_type);
        }
        req.body() = body;
        req.prepare_payload();
        http::write(socket, req);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::uint64_t{256} * 1024 * 1024);
        http::read(socket, buffer, parser);
        auto res = parser.release();
        Reply out;
        out.status = res.result_int();
        for (const auto& f : res) {
            std::string name(f.name_string());
            std::transform(name.begin(), name.end(), name.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            out.headers[name] = std::string(f.value());
        }
        out.body = std::move(res.body());
        return out;
    }
    Reply get(const std::string& target) const { return send(http::verb::get, target); }
    Reply post_json(const std::string& target, const std::string& body) const {
        return send(http::verb::post, target, body, "application/json");
    }
    Reply upload(const std::string& filename, const std::string& bytes) const {
        const std::string boundary = "----runicornTestBoundary7MA4YWxk";
        std::string body = "--" + boundary +
                           "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
                           filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n" +
                           bytes + "\r\n--" + boundary + "--\r\n";
        return send(http::verb::post, "/api/import/archive", body,
                    "multipart/form-data; boundary=" + boundary);
    }
    std::string logs() const { return log_.str(); }
    std::uint16_t port() const { return port_; }

private:
    std::ostringstream log_;
    kernel::LogHub logs_;
    std::unique_ptr<kernel::PluginHost> host_;
    std::uint16_t port_ = 0;
};

class ArchiveRoutesTest : public ::testing::Test {
protected:
    void SetUp() override {
        src_root_ = tmp_.path() / "src";
        // The checkout is read-only; the viewer must be able to write.
        runicorn::testing::copy_tree_writable(kFixture / "store", src_root_);
        src_root_ = fs::canonical(src_root_);
        dst_root_ = tmp_.path() / "dst";
        fs::create_directories(dst_root_);
        dst_root_ = fs::canonical(dst_root_);
        source_ = std::make_unique<Viewer>(src_root_, tmp_.path() / "config-src", R"({"port": 0})");
        target_ = std::make_unique<Viewer>(
            dst_root_, tmp_.path() / "config-dst",
            R"({"port": 0, "import": {"max_ratio": 100, "max_entries": 500}})");
    }
    void TearDown() override {
        target_.reset();
        source_.reset();
    }

    std::vector<std::string> run_ids(const Viewer& v) {
        std::vector<std::string> out;
        const json::value runs = v.get("/api/runs").json();
        for (const auto& item : runs.as_array()) {
            out.emplace_back(item.at("id").as_string());
        }
        std::sort(out.begin(), out.end());
        return out;
    }

    testing::TempDir tmp_;
    fs::path src_root_;
    fs::path dst_root_;
    std::unique_ptr<Viewer> source_;
    std::unique_ptr<Viewer> target_;
};

TEST_F(ArchiveRoutesTest, RunExportStreamsATarGz) {
    Reply r = source_->get(std::string("/api/runs/") + kKitchen + "/export");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.headers["content-type"], "application/gzip");
    EXPECT_EQ(r.headers["content-disposition"],
              std::string("attachment; filename=\"runicorn_") + kKitchen + ".tar.gz\"");
    const std::vector<std::string> names = entry_names(r.body);
    ASSERT_FALSE(names.empty());
    EXPECT_EQ(names.front(), "RUNICORN-EXPORT.json");
    const std::set<std::string> set(names.begin(), names.end());
    const std::string dir = std::string("runs/cv/resnet/") + kKitchen + "/";
    EXPECT_EQ(set.count(dir + "meta.json"), 1U);
    EXPECT_EQ(set.count(dir + "events.jsonl.lock"), 0U);
    bool has_blob = false;
    bool has_rolling = false;
    for (const std::string& n : names) {
        has_blob = has_blob || n.rfind("archive/blobs/", 0) == 0;
        has_rolling = has_rolling || n.rfind("archive/outputs/rolling/", 0) == 0;
    }
    EXPECT_TRUE(has_blob);
    EXPECT_TRUE(has_rolling);

    r = source_->get(std::string("/api/runs/") + kKitchen + "/export?include_archive=false");
    ASSERT_EQ(r.status, 200U);
    for (const std::string& n : entry_names(r.body)) {
        EXPECT_TRUE(n == "RUNICORN-EXPORT.json" || n.rfind("runs/", 0) == 0) << n;
    }
    EXPECT_EQ(source_->get("/api/runs/20990101_000000_ffffff/export").status, 404U);
}

TEST_F(ArchiveRoutesTest, ExportImportRoundTripIntoAnEmptyStore) {
    Reply exported = source_->post_json("/api/export", R"({"path": "cv/resnet"})");
    ASSERT_EQ(exported.status, 200U) << exported.body;
    Reply r = target_->upload("runicorn_export.tar.gz", exported.body);
    ASSERT_EQ(r.status, 200U) << r.body << target_->logs();
    const json::value v = r.json();
    EXPECT_EQ(v.at("ok"), true);
    EXPECT_EQ(v.at("storage").as_string(), dst_root_.string());
    EXPECT_EQ(v.at("new_run_ids"),
              json::parse(std::string(R"([")") + kKitchen + R"(", ")" + kExplicit + R"("])"));
    EXPECT_GT(v.at("blobs_added").as_int64(), 0);
    EXPECT_TRUE(v.at("conflicts").as_array().empty());
    EXPECT_GT(v.at("imported_files").as_int64(), 5);

    // The catalog lists them, and they read the same on both sides.
    EXPECT_EQ(run_ids(*target_), (std::vector<std::string>{kKitchen, kExplicit}));
    for (const char* id : {kKitchen, kExplicit}) {
        const std::string metrics = std::string("/api/runs/") + id + "/metrics";
        EXPECT_EQ(target_->get(metrics).json().at("rows"), source_->get(metrics).json().at("rows"))
            << id;
        const json::value a = source_->get(std::string("/api/runs/") + id).json();
        const json::value b = target_->get(std::string("/api/runs/") + id).json();
        EXPECT_EQ(a.at("assets"), b.at("assets"));
        EXPECT_EQ(a.at("path"), b.at("path"));
    }
    // Run files (minus locks) and every blob are byte-identical.
    const fs::path rel = fs::path("runs") / "cv" / "resnet" / kKitchen;
    for (const auto& e : fs::recursive_directory_iterator(src_root_ / rel)) {
        const std::string name = e.path().filename().string();
        if (!e.is_regular_file() || name.find(".lock") != std::string::npos) {
            continue;
        }
        const fs::path other = dst_root_ / rel / e.path().lexically_relative(src_root_ / rel);
        EXPECT_EQ(read_file(other), read_file(e.path())) << other;
    }
    std::size_t blobs = 0;
    for (const auto& e : fs::recursive_directory_iterator(dst_root_ / "archive" / "blobs")) {
        if (e.is_regular_file()) {
            ++blobs;
            EXPECT_EQ(read_file(e.path()),
                      read_file(src_root_ / e.path().lexically_relative(dst_root_)));
        }
    }
    EXPECT_EQ(static_cast<std::int64_t>(blobs), v.at("blobs_added").as_int64());

    // Importing again: conflicts, the originals untouched.
    const std::string summary =
        dst_root_.string() + "/runs/cv/resnet/" + kKitchen + "/summary.json";
    std::ofstream(summary, std::ios::trunc) << "{\"kept\": true}";
    r = target_->upload("again.tgz", exported.body);
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_TRUE(r.json().at("new_run_ids").as_array().empty());
    ASSERT_EQ(r.json().at("conflicts").as_array().size(), 2U);
    EXPECT_EQ(r.json().at("conflicts").at(0).at("reason"), "exists");
    EXPECT_EQ(r.json().at("conflicts").at(0).at("path"), "cv/resnet");
    EXPECT_EQ(read_file(summary), "{\"kept\": true}");
}

TEST_F(ArchiveRoutesTest, PathExportZipImportsAtItsPlace) {
    Reply zip = source_->get("/api/paths/export?path=cv/resnet&format=zip");
    ASSERT_EQ(zip.status, 200U) << zip.body;
    EXPECT_EQ(zip.headers["content-type"], "application/zip");
    EXPECT_EQ(zip.headers["content-disposition"],
              "attachment; filename=\"runicorn_export_cv_resnet.zip\"");
    const std::vector<std::string> names = entry_names(zip.body);
    ASSERT_FALSE(names.empty());
    EXPECT_EQ(names.front(), "index.json");
    Reply r = target_->upload("runicorn_export_cv_resnet.zip", zip.body);
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(run_ids(*target_), (std::vector<std::string>{kKitchen, kExplicit}));
    EXPECT_TRUE(fs::exists(dst_root_ / "runs" / "cv" / "resnet" / kKitchen / "meta.json"));
    EXPECT_FALSE(fs::exists(dst_root_ / "index.json"));

    Reply tgz = source_->get("/api/paths/export?path=cv/resnet&format=tar.gz");
    ASSERT_EQ(tgz.status, 200U);
    EXPECT_EQ(entry_names(tgz.body).front(), "RUNICORN-EXPORT.json");
    EXPECT_EQ(source_->get("/api/paths/export?path=nothing/here&format=zip").status, 404U);
    EXPECT_EQ(source_->get("/api/paths/export?path=cv&format=rar").status, 400U);
}

TEST_F(ArchiveRoutesTest, UploadsAboveTheInMemoryLimitAreSpooledAndImported) {
    // 3 MiB of incompressible bytes in a run folder: the upload is far over the server's 1 MiB
    // in-memory body limit, so it must arrive through the spool file.
    const fs::path run_dir = src_root_ / "runs" / "cv" / "resnet" / kKitchen;
    std::string big(std::size_t{3} << 20, '\0');
    std::uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (auto& c : big) {
        x ^= x << 13U;
        x ^= x >> 7U;
        x ^= x << 17U;
        c = static_cast<char>(x & 0xFFU);
    }
    std::ofstream(run_dir / "weights.bin", std::ios::binary) << big;
    Reply exported = source_->get(std::string("/api/runs/") + kKitchen + "/export");
    ASSERT_EQ(exported.status, 200U) << exported.body;
    ASSERT_GT(exported.body.size(), std::size_t{2} << 20);
    Reply r = target_->upload("big.tar.gz", exported.body);
    ASSERT_EQ(r.status, 200U) << r.body << target_->logs();
    std::ifstream in(dst_root_ / "runs" / "cv" / "resnet" / kKitchen / "weights.bin",
                     std::ios::binary);
    const std::string copied((std::istreambuf_iterator<char>(in)), {});
    EXPECT_TRUE(copied == big) << "the imported file differs (" << copied.size() << " bytes)";
    // Nothing is left in the spool directory once the request is answered.
    const fs::path spool = dst_root_ / "index" / "staging" / "uploads";
    EXPECT_TRUE(!fs::exists(spool) || fs::is_empty(spool));
}

TEST_F(ArchiveRoutesTest, UploadOverTheRouteLimitIs413BeforeTheBodyIsRead) {
    Viewer small(tmp_.path() / "small", tmp_.path() / "config-small",
                 R"({"port": 0, "import": {"max_upload_bytes": 2097152}})");
    net::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), small.port()));
    // Only the header: a declared length over the limit is refused without waiting for a body.
    const std::string head =
        "POST /api/import/archive HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 9000000\r\n\r\n";
    net::write(socket, net::buffer(head));
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(socket, buffer, res);
    EXPECT_EQ(res.result_int(), 413U);
    EXPECT_THAT(res.body(), HasSubstr("Request body too large"));
}

TEST_F(ArchiveRoutesTest, V06StylePathZipImports) {
    // v0.6 put the run folders at <run_id>/ beside index.json.
    const std::string dir = src_root_.string() + "/runs/cv/resnet/" + kExplicit + "/";
    const std::string index = std::string(R"({"path": "cv/resnet", "total_runs": 1, "runs": [)") +
                              R"({"run_id": ")" + kExplicit + R"(", "path": "cv/resnet"}]})";
    const std::string zip =
        make_zip({{"index.json", index},
                  {std::string(kExplicit) + "/meta.json", read_file(dir + "meta.json")},
                  {std::string(kExplicit) + "/status.json", read_file(dir + "status.json")},
                  {std::string(kExplicit) + "/events.jsonl", read_file(dir + "events.jsonl")}});
    Reply r = target_->upload("old.zip", zip);
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(run_ids(*target_), (std::vector<std::string>{kExplicit}));
    EXPECT_EQ(read_file(dst_root_ / "runs" / "cv" / "resnet" / kExplicit / "events.jsonl"),
              read_file(dir + "events.jsonl"));
}

TEST_F(ArchiveRoutesTest, ImportRefusals) {
    Reply r = target_->upload("x.zip", std::string(2000, 'z'));
    EXPECT_EQ(r.status, 400U);
    EXPECT_EQ(r.json().at("detail"), "Unsupported or corrupted archive");

    // Over the configured ratio (100:1): 413, nothing applied.
    r = target_->upload(
        "bomb.zip",
        make_zip({{"runs/20260101_000000_aaaaaa/meta.json", "{}"},
                  {"runs/20260101_000000_aaaaaa/zeros", std::string(std::size_t{8} << 20, '\0')}}));
    EXPECT_EQ(r.status, 413U) << r.body;
    EXPECT_FALSE(fs::exists(dst_root_ / "runs"));

    // Over the entry count (500).
    std::vector<std::pair<std::string, std::string>> many;
    for (int i = 0; i < 600; ++i) {
        many.emplace_back("runs/20260101_000000_aaaaaa/f" + std::to_string(i), "x");
    }
    r = target_->upload("many.zip", make_zip(many));
    EXPECT_EQ(r.status, 413U) << r.body;
    EXPECT_FALSE(fs::exists(dst_root_ / "runs"));

    // Unsafe names are reported, never created.
    r = target_->upload("names.zip", make_zip({{"runs/20260101_000000_aaaaaa/meta.json", "{}"},
                                               {"../escape", "x"},
                                               {"/abs", "x"},
                                               {"D:\\evil", "x"}}));
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.json().at("skipped").as_array().size(), 3U);
    EXPECT_FALSE(fs::exists(dst_root_.parent_path() / "escape"));

    // A blob whose bytes do not match its name.
    r = target_->upload(
        "blob.zip", make_zip({{"runs/20260101_000000_bbbbbb/meta.json", "{}"},
                              {"archive/blobs/2a/"
                               "2a2b86e74ffd5e6a9b75e52a105cf9d02920837179f8e8961aa15411d380f7a3",
                               "wrong"}}));
    EXPECT_EQ(r.status, 400U) << r.body;
    EXPECT_FALSE(fs::exists(dst_root_ / "runs" / "20260101_000000_bbbbbb"));

    // No file field.
    r = target_->send(http::verb::post, "/api/import/archive",
                      "--b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b--\r\n",
                      "multipart/form-data; boundary=b");
    EXPECT_EQ(r.status, 422U) << r.body;
    // Staging is cleaned up after every attempt.
    EXPECT_TRUE(fs::is_empty(dst_root_ / "index" / "staging" / "imports"));
}

TEST_F(ArchiveRoutesTest, ExportSelectionValidation) {
    EXPECT_EQ(source_->post_json("/api/export", "{}").status, 422U);
    EXPECT_EQ(
        source_->post_json("/api/export", R"({"run_ids": ["20990101_000000_ffffff"]})").status,
        404U);
    EXPECT_EQ(source_->post_json("/api/export", R"({"q": "status = "})").status, 400U);
    EXPECT_EQ(source_->post_json("/api/export", R"({"artifacts": ["nope:v1"]})").status, 404U);
    Reply r = source_->post_json("/api/export", std::string(R"({"run_ids": [")") + kExplicit +
                                                    R"("], "include_archive": false})");
    ASSERT_EQ(r.status, 200U);
    const std::vector<std::string> names = entry_names(r.body);
    EXPECT_EQ(names.front(), "RUNICORN-EXPORT.json");
    for (const std::string& n : names) {
        EXPECT_TRUE(n == "RUNICORN-EXPORT.json" ||
                    n.rfind(std::string("runs/cv/resnet/") + kExplicit + "/", 0) == 0)
            << n;
    }
}

}  // namespace
}  // namespace runicorn
