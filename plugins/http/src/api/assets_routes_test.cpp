// End-to-end tests of the run asset routes (API.md §2.2 download and refs, §4.5 run artifacts):
// the kernel loads the real storage and http plugins onto a private copy of the Runicorn v0.6
// fixture store and the tests speak HTTP to the viewer. Zips are read back with Python's zipfile.

#include <array>
#include <cstdio>
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
#include <sys/stat.h>

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
constexpr char kKitchen[] = "20250115_100000_6cefa5";
constexpr char kExplicit[] = "20250115_101500_df538c";
constexpr char kNested[] = "20250115_121500_5faeb7";
constexpr char kDeleted[] = "20250115_123000_6e554c";
constexpr char kOldStore[] = "/tmp/runicorn-fixture/store";
constexpr char kDatasetFp[] = "05e6c4742742c720356e14e0a68f12952c958bf52a65d8194e6e746d0514207b";

struct Reply {
    unsigned status = 0;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  ///< Lower-case names.
    beast::error_code read_error;

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

std::string enc(std::string_view s) {
    static constexpr std::string_view kHex = "0123456789ABCDEF";
    std::string out;
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[u >> 4U]);
            out.push_back(kHex[u & 0xFU]);
        }
    }
    return out;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

class AssetsRoutesTest : public ::testing::Test {
protected:
    AssetsRoutesTest()
        : logs_(spdlog::level::warn, {std::make_shared<spdlog::sinks::ostream_sink_mt>(log_)}) {}

    void SetUp() override {
        root_ = tmp_.path() / "store";
        testing::copy_tree_writable(kFixture / "store", root_);
        root_ = fs::canonical(root_);
        kitchen_ = root_ / "runs" / "cv" / "resnet" / kKitchen;
        explicit_ = root_ / "runs" / "cv" / "resnet" / kExplicit;

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
        auto routes = host_->find<plugin::HttpRoutes>();
        ASSERT_NE(routes, nullptr) << log_.str();
        const std::string base = routes->base_url();
        ASSERT_FALSE(base.empty());
        port_ = static_cast<std::uint16_t>(std::stoi(base.substr(base.rfind(':') + 1)));
    }

    void TearDown() override {
        if (host_ != nullptr) {
            host_->stop();
        }
    }

    Reply get(const std::string& target,
              const std::vector<std::pair<std::string, std::string>>& extra = {},
              http::verb method = http::verb::get) {
        net::io_context ioc;
        tcp::socket socket(ioc);
        socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
        http::request<http::empty_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port_));
        for (const auto& [k, v] : extra) {
            req.set(k, v);
        }
        http::write(socket, req);
        beast::flat_buffer buffer;
        http::response_parser<http::string_body> parser;
        parser.body_limit(std::uint64_t{64} * 1024 * 1024);
        parser.skip(method == http::verb::head);
        Reply out;
        http::read(socket, buffer, parser, out.read_error);
        auto res = parser.release();
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

    Reply download(const std::string& run, const std::string& path,
                   const std::string& extra_query = "",
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
        return get("/api/runs/" + run + "/assets/download?path=" + enc(path) + extra_query,
                   headers);
    }

    /// Runs `script` with the zip at sys.argv[1]; returns its output (or the failure).
    std::string python_on(const std::string& zip_bytes, const std::string& script) {
        if (std::string(RUNICORN_PYTHON3).empty()) {
            return "<no python>";
        }
        const fs::path zip = tmp_.path() / "got.zip";
        std::ofstream(zip, std::ios::binary) << zip_bytes;
        const fs::path py = tmp_.path() / "check.py";
        std::ofstream(py) << script;
        const std::string cmd = std::string(RUNICORN_PYTHON3) + " '" + py.string() + "' '" +
                                zip.string() + "' '" + root_.string() + "' 2>&1";
        std::string out;
        FILE* pipe = ::popen(cmd.c_str(), "r");
        std::array<char, 4096> buf{};
        while (pipe != nullptr && std::fgets(buf.data(), buf.size(), pipe) != nullptr) {
            out += buf.data();
        }
        const int rc = pipe != nullptr ? ::pclose(pipe) : -1;
        return rc == 0 ? out : "exit " + std::to_string(rc) + ": " + out;
    }

    /// Adds a dataset entry pointing at `manifest` (absolute) to the explicit run's assets.json.
    void record_manifest(const fs::path& manifest) {
        json::value assets = json::parse(read_file(explicit_ / "assets.json"));
        json::object entry;
        entry["name"] = "crafted";
        entry["saved"] = true;
        entry["fingerprint"] = "f";
        entry["manifest_path"] = manifest.string();
        entry["archive_path"] = manifest.string();
        assets.as_object()["datasets"].as_array().push_back(entry);
        std::ofstream(explicit_ / "assets.json", std::ios::trunc) << json::serialize(assets);
    }

    testing::TempDir tmp_;
    fs::path root_;
    fs::path kitchen_;
    fs::path explicit_;
    std::ostringstream log_;
    kernel::LogHub logs_;
    std::unique_ptr<kernel::PluginHost> host_;
    std::uint16_t port_ = 0;
};

TEST_F(AssetsRoutesTest, RunFileWithRangeAndName) {
    const std::string logs = read_file(kitchen_ / "logs.txt");
    ASSERT_FALSE(logs.empty());
    Reply r = download(kKitchen, "logs.txt");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.body, logs);
    EXPECT_EQ(r.header("content-disposition"), "attachment; filename=\"logs.txt\"");
    EXPECT_THAT(r.header("content-type"), HasSubstr("text/plain"));
    EXPECT_EQ(r.header("accept-ranges"), "bytes");
    // The same file by its absolute path, a byte range of it, and past its end.
    r = download(kKitchen, (kitchen_ / "logs.txt").string(), "", {{"Range", "bytes=0-9"}});
    EXPECT_EQ(r.status, 206U);
    EXPECT_EQ(r.body, logs.substr(0, 10));
    EXPECT_EQ(r.header("content-range"), "bytes 0-9/" + std::to_string(logs.size()));
    r = download(kKitchen, "logs.txt", "", {{"Range", "bytes=999999-"}});
    EXPECT_EQ(r.status, 416U);
    // filename: reduced to a base name, non-ASCII carried by filename*.
    r = download(kKitchen, "./logs.txt", "&filename=" + enc("../évil/\x01log.txt"));
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.header("content-disposition"),
              "attachment; filename=\"___vil_log.txt\"; filename*=UTF-8''_%C3%A9vil_log.txt");
    // HEAD: the headers only.
    r = get("/api/runs/" + std::string(kKitchen) + "/assets/download?path=logs.txt", {},
            http::verb::head);
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.header("content-length"), std::to_string(logs.size()));
    EXPECT_TRUE(r.body.empty());
}

TEST_F(AssetsRoutesTest, RecordedArchivePathsAreRebased) {
    // The fixture records paths under /tmp/runicorn-fixture/store; they map onto this root.
    const std::string blob = "0510f528e0325d5ad0572c65fb1b9bc5f9ba1fb5022533011de76998acfd0369";
    const fs::path local = root_ / "archive" / "blobs" / "05" / blob;
    Reply r = download(kKitchen, std::string(kOldStore) + "/archive/blobs/05/" + blob);
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.body, read_file(local));
    // ... and the current location of the same recorded path.
    r = download(kKitchen, local.string());
    EXPECT_EQ(r.status, 200U);
    // A rolling output of the run, by its recorded path.
    r = download(kKitchen, std::string(kOldStore) +
                               "/archive/outputs/rolling/20250115_100000_6cefa5/"
                               "8bbe27ff1b7b71a4ac5ce6e7febb25f61fee8e0c_train.log");
    ASSERT_EQ(r.status, 200U) << r.body;
    // The v0.6 code snapshot (zip mode: a blob) downloads byte for byte and is a valid zip.
    r = download(kKitchen,
                 std::string(kOldStore) +
                     "/archive/blobs/74/"
                     "7459b9682d326abebe87bc5f7ebe5c25ca46b1c94626b775af968c203b12e2d6",
                 "&filename=code_snapshot.zip");
    ASSERT_EQ(r.status, 200U);
    EXPECT_EQ(r.header("content-type"), "application/zip");
    EXPECT_EQ(r.header("content-disposition"), "attachment; filename=\"code_snapshot.zip\"");
    EXPECT_THAT(python_on(r.body,
                          "import sys, zipfile\n"
                          "z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\n"
                          "print('train.py' in z.namelist())\n"),
                ::testing::AnyOf("True\n", "<no python>"));
}

TEST_F(AssetsRoutesTest, ManifestBecomesAZipOfItsBlobs) {
    const std::string manifest =
        std::string(kOldStore) + "/archive/manifests/datasets/05/" + kDatasetFp + ".json";
    const Reply r = download(kKitchen, manifest);
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_FALSE(r.read_error) << r.read_error.message();
    EXPECT_EQ(r.header("content-type"), "application/zip");
    EXPECT_EQ(r.header("transfer-encoding"), "chunked");
    // The name: the basename of the manifest's source_path.
    EXPECT_EQ(r.header("content-disposition"), "attachment; filename=\"ds1.zip\"");
    // Every entry equals its blob.
    const std::string out = python_on(r.body, R"(
import sys, zipfile, json, os
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
root = sys.argv[2]
m = json.load(open(os.path.join(root, 'archive/manifests/datasets/05/05e6c4742742c720356e14e0a68f12952c958bf52a65d8194e6e746d0514207b.json')))
ok = sorted(z.namelist()) == sorted(m['files'])
for name, f in m['files'].items():
    blob = open(os.path.join(root, 'archive/blobs', f['sha256'][:2], f['sha256']), 'rb').read()
    ok = ok and z.read(name) == blob
print(len(z.namelist()), ok)
)");
    EXPECT_THAT(out, ::testing::AnyOf("3 True\n", "<no python>"));
    // The same manifest by a run that does not record it: refused.
    EXPECT_EQ(download(kExplicit, manifest).status, 403U);
    // filename wins over source_path.
    const Reply named = download(kNested, manifest, "&filename=my%20data");
    EXPECT_EQ(named.header("content-disposition"), "attachment; filename=\"my data.zip\"");
}

TEST_F(AssetsRoutesTest, BadManifestsAreRefusedAndMissingBlobsTruncate) {
    const fs::path dir = root_ / "archive" / "manifests" / "datasets" / "ab";
    fs::create_directories(dir);
    const std::string good_blob =
        "2a2b86e74ffd5e6a9b75e52a105cf9d02920837179f8e8961aa15411d380f7a3";
    const auto write_manifest = [&](const std::string& name, const std::string& files) {
        const fs::path p = dir / name;
        std::ofstream(p) << R"({"source_path": "/x/crafted", "fingerprint": "ab", "files": )"
                         << files << "}";
        record_manifest(p);
        return p;
    };
    const fs::path bad_id = write_manifest(
        "bad-id.json", R"({"a.txt": {"sha256": "../../../../etc/passwd", "size_bytes": 1}})");
    const fs::path upper =
        write_manifest("upper.json", R"({"a.txt": {"sha256": ")" + std::string(64, 'A') +
                                         R"(", "size_bytes": 1}})");
    const fs::path dotdot = write_manifest(
        "dotdot.json", R"({"../evil.txt": {"sha256": ")" + good_blob + R"(", "size_bytes": 12}})");
    const fs::path absolute = write_manifest(
        "abs.json", R"({"/etc/evil": {"sha256": ")" + good_blob + R"(", "size_bytes": 12}})");
    const fs::path missing =
        write_manifest("missing.json", R"({"a.txt": {"sha256": ")" + good_blob +
                                           R"(", "size_bytes": 12}, "b.txt": {"sha256": ")" +
                                           std::string(64, 'e') + R"(", "size_bytes": 5}})");
    for (const fs::path& p : {bad_id, upper, dotdot, absolute}) {
        const Reply r = download(kExplicit, p.string());
        EXPECT_EQ(r.status, 400U) << p << ": " << r.body;
        EXPECT_THAT(r.body, HasSubstr("INVALID_MANIFEST"));
    }
    // A blob that is not there: the zip starts, then the transfer breaks off (no last chunk).
    const Reply r = download(kExplicit, missing.string());
    EXPECT_EQ(r.status, 200U);
    EXPECT_EQ(r.read_error, http::error::partial_message) << r.read_error.message();
}

TEST_F(AssetsRoutesTest, DirectoryBecomesAZipWithoutSymlinks) {
    fs::create_directories(kitchen_ / "out" / "sub");
    std::ofstream(kitchen_ / "out" / "a.txt") << "aaa";
    std::ofstream(kitchen_ / "out" / "sub" / "b.txt") << "bb";
    fs::create_symlink(explicit_ / "meta.json", kitchen_ / "out" / "link.json");
    fs::create_directory_symlink(explicit_, kitchen_ / "out" / "linkdir");
    const Reply r = download(kKitchen, "out", "");
    ASSERT_EQ(r.status, 200U) << r.body;
    EXPECT_EQ(r.header("content-disposition"), "attachment; filename=\"out.zip\"");
    EXPECT_THAT(python_on(r.body,
                          "import sys, zipfile\n"
                          "z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None\n"
                          "print(sorted(z.namelist()), z.read('sub/b.txt'))\n"),
                ::testing::AnyOf("['a.txt', 'sub/b.txt'] b'bb'\n", "<no python>"));
    // The whole run folder.
    const Reply whole = download(kKitchen, ".");
    ASSERT_EQ(whole.status, 200U);
    EXPECT_EQ(whole.header("content-disposition"),
              "attachment; filename=\"" + std::string(kKitchen) + ".zip\"");
    EXPECT_THAT(python_on(whole.body,
                          "import sys, zipfile\n"
                          "n = zipfile.ZipFile(sys.argv[1]).namelist()\n"
                          "print('meta.json' in n, 'out/a.txt' in n,\n"
                          "      any('linkdir' in x or 'link.json' in x for x in n))\n"),
                ::testing::AnyOf("True True False\n", "<no python>"));
}

TEST_F(AssetsRoutesTest, TraversalAttemptsAreRefused) {
    fs::create_symlink(explicit_ / "meta.json", kitchen_ / "escape.json");
    fs::create_directory_symlink(root_ / "runs", kitchen_ / "escape_dir");
    const std::string k = std::string("/api/runs/") + kKitchen + "/assets/download?path=";
    const std::vector<std::string> targets = {
        k + "..%2F..%2F" + kExplicit + "%2Fmeta.json",
        k + "../../x",
        k + "%2e%2e/%2e%2e/meta.json",
        k + "%2E%2E%2F%2E%2E%2Fmeta.json",
        k + "media%2F..%2F..%2F..%2Fmeta.json",
        k + enc((explicit_ / "meta.json").string()),
        k + enc(kitchen_.string() + "/../" + kExplicit + "/meta.json"),
        k + "%2Fetc%2Fpasswd",
        k + "escape.json",
        k + "escape_dir%2Fcv%2Fresnet%2F" + kExplicit + "%2Fmeta.json",
        k + "logs.txt%00.png",
        k + "..%5C..%5Cmeta.json",
        k + "C:%5Cwindows",
        // another run's blob: not recorded by this run
        std::string("/api/runs/") + kExplicit + "/assets/download?path=" +
            enc((root_ / "archive" / "blobs" / "05" /
                 "0510f528e0325d5ad0572c65fb1b9bc5f9ba1fb5022533011de76998acfd0369")
                    .string()),
        // another run's rolling outputs
        std::string("/api/runs/") + kExplicit + "/assets/download?path=" +
            enc((root_ / "archive" / "outputs" / "rolling" / kKitchen /
                 "8bbe27ff1b7b71a4ac5ce6e7febb25f61fee8e0c_train.log")
                    .string()),
        // the archive root itself
        k + enc((root_ / "archive").string()),
    };
    for (const std::string& t : targets) {
        const Reply r = get(t);
        EXPECT_EQ(r.status, 403U) << t << " -> " << r.body;
        EXPECT_THAT(r.body, HasSubstr("Unsafe path")) << t;
    }
}

TEST_F(AssetsRoutesTest, MissingAndUnsupportedTargets) {
    Reply r = download(kKitchen, "nope.txt");
    EXPECT_EQ(r.status, 404U);
    EXPECT_THAT(r.body, HasSubstr("File not found"));
    r = download(kKitchen, std::string(kOldStore) + "/archive/blobs/05/" + std::string(64, '0'));
    EXPECT_EQ(r.status, 403U);  // not recorded by the run
    r = get(std::string("/api/runs/") + kKitchen + "/assets/download");
    EXPECT_EQ(r.status, 422U);
    r = download("no_such_run", "logs.txt");
    EXPECT_EQ(r.status, 404U);
    EXPECT_THAT(r.body, HasSubstr("Run not found"));
    ASSERT_EQ(::mkfifo((kitchen_ / "pipe").c_str(), 0600), 0);
    r = download(kKitchen, "pipe");
    EXPECT_EQ(r.status, 400U);
    EXPECT_THAT(r.body, HasSubstr("Unsupported target"));
}

TEST_F(AssetsRoutesTest, RefsFromEveryRunsAssets) {
    Reply r = get(std::string("/api/runs/") + kKitchen + "/assets/refs");
    ASSERT_EQ(r.status, 200U) << r.body;
    const json::object body = r.json().as_object();
    EXPECT_EQ(body.at("run_id").as_string(), kKitchen);
    const json::array& shared = body.at("shared_assets").as_array();
    ASSERT_EQ(shared.size(), 1U) << r.body;
    EXPECT_EQ(shared[0].at("fingerprint").as_string(), kDatasetFp);
    EXPECT_EQ(shared[0].at("asset_type").as_string(), "dataset");
    EXPECT_EQ(shared[0].at("role").as_string(), "dataset");
    EXPECT_EQ(shared[0].at("ref_count").as_int64(), 2);
    EXPECT_EQ(shared[0].at("other_runs"), json::parse(std::string("[\"") + kNested + "\"]"));
    // asset_id from runicorn.db where it has the asset.
    EXPECT_EQ(shared[0].at("asset_id").as_string(), "a456e605-aaa3-4b6b-81d1-6defd7d94e2e");
    EXPECT_EQ(body.at("shared_count").as_int64(), 1);
    const json::array& orphaned = body.at("orphaned_assets").as_array();
    EXPECT_EQ(body.at("orphaned_count").as_int64(), static_cast<std::int64_t>(orphaned.size()));
    std::set<std::string> ids;
    for (const json::value& a : orphaned) {
        ids.insert(std::string(a.at("asset_id").as_string()));
        EXPECT_EQ(a.at("ref_count").as_int64(), 1);
        EXPECT_FALSE(a.as_object().contains("other_runs"));
    }
    // code snapshot, config, unfingerprinted remote-val (all from the index).
    EXPECT_TRUE(ids.contains("ca0a7a4a-d6f5-414d-96d7-c2c613789d73"));
    EXPECT_TRUE(ids.contains("9b81eaaa-9804-4a55-8743-f94e2ab28c30"));
    EXPECT_TRUE(ids.contains("8015b5af-98e4-406c-8559-07014d7c30a2"));
    EXPECT_EQ(orphaned.size(), 7U);  // 8 assets, 1 shared

    // A deleted run counts, and can be asked about.
    fs::remove(root_ / "index" / "runicorn.db");  // derived ids from here on
    r = get(std::string("/api/runs/") + kNested + "/assets/refs");
    ASSERT_EQ(r.status, 200U);
    const json::value nested_shared = r.json().at("shared_assets");
    ASSERT_EQ(nested_shared.as_array().size(), 1U);
    const std::string derived(nested_shared.at(0).at("asset_id").as_string());
    EXPECT_EQ(derived.size(), 36U);
    EXPECT_EQ(get(std::string("/api/runs/") + kNested + "/assets/refs").json(),
              r.json());  // stable
    EXPECT_EQ(get(std::string("/api/runs/") + kDeleted + "/assets/refs").status, 200U);
    // The kitchen run deleted: the nested run's dataset is still shared with it.
    ASSERT_EQ(get(std::string("/api/runs/") + kKitchen).status, 200U);
    std::ofstream(kitchen_ / ".deleted") << R"({"deleted_at": 1, "reason": "user_deleted"})";
    r = get(std::string("/api/runs/") + kNested + "/assets/refs");
    EXPECT_EQ(r.json().at("shared_count").as_int64(), 1);

    EXPECT_EQ(get("/api/runs/bad..id/assets/refs").status, 400U);
    EXPECT_EQ(get("/api/runs/20990101_000000_abcdef/assets/refs").status, 404U);
}

TEST_F(AssetsRoutesTest, RunArtifacts) {
    Reply r = get(std::string("/api/runs/") + kKitchen + "/artifacts");
    ASSERT_EQ(r.status, 200U);
    EXPECT_EQ(r.body, R"({"logged":[],"used":[]})");
    std::ofstream(kitchen_ / "artifacts.json")
        << R"({"logged": [{"name": "m", "version": 3, "x": NaN}], "used": []})";
    r = get(std::string("/api/runs/") + kKitchen + "/artifacts");
    EXPECT_EQ(r.json(), json::parse(R"({"logged": [{"name": "m", "version": 3, "x": null}],
                                        "used": []})"));
    std::ofstream(kitchen_ / "artifacts.json", std::ios::trunc) << "{broken";
    EXPECT_EQ(get(std::string("/api/runs/") + kKitchen + "/artifacts").body,
              R"({"logged":[],"used":[]})");
    EXPECT_EQ(get("/api/runs/nope/artifacts").status, 404U);
    EXPECT_EQ(get(std::string("/api/runs/") + kDeleted + "/artifacts").status, 404U);
}

TEST_F(AssetsRoutesTest, RoutesAreInTheOpenApiDocument) {
    const Reply r = get("/openapi.json");
    ASSERT_EQ(r.status, 200U);
    const json::value doc = r.json();
    const json::value& paths = doc.at("paths");
    const json::value& dl = paths.at("/api/runs/{run_id}/assets/download").at("get");
    EXPECT_EQ(dl.at("x-runicorn-compat"), json::value(true));
    EXPECT_THAT(json::serialize(dl.at("parameters")), HasSubstr("\"filename\""));
    EXPECT_EQ(paths.at("/api/runs/{run_id}/assets/refs").at("get").at("x-runicorn-compat"),
              json::value(true));
    EXPECT_EQ(paths.at("/api/runs/{run_id}/artifacts").at("get").at("x-runicorn-compat"),
              json::value(false));
}

}  // namespace
}  // namespace runicorn
