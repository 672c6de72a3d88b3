// Unit tests of the export and import code: entry-name rules, the multipart reader, the export
// producers written into a string sink, and imports of hand-made archives into temporary stores.

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/temp_dir.hpp>

#include "archive_import.hpp"
#include "entry_names.hpp"
#include "export_plan.hpp"
#include "multipart.hpp"
#include <archive.h>
#include <archive_entry.h>

namespace runicorn::http_plugin::archive {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// sha256("a,b\n1,2\n") and sha256("cat\n") (FORMAT.md §5.2 test vector).
constexpr char kShaTrain[] = "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470";
constexpr char kShaCat[] = "175cc6f362b2f75acd08a373e000144fdb8d14a833d4b70fd743f16a7039103f";
constexpr char kFp[] = "f104b706af00c73ca29b4868aafb9036e55671c7f46c72a926ae15c67256b684";
constexpr char kRunA[] = "20260101_000000_aaaaaa";
constexpr char kRunB[] = "20260101_000000_bbbbbb";

/// A BodySink that appends to a string.
class StringSink final : public plugin::BodySink {
public:
    bool write(std::string_view bytes) override {
        out.append(bytes);
        return true;
    }
    std::string out;
};

/// A BodySink whose client leaves after `limit` bytes.
class GoneSink final : public plugin::BodySink {
public:
    explicit GoneSink(std::size_t limit) : limit_(limit) {}
    bool write(std::string_view bytes) override {
        taken_ += bytes.size();
        return taken_ <= limit_;
    }

private:
    std::size_t limit_;
    std::size_t taken_ = 0;
};

void write_file(const fs::path& p, std::string_view text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

/// Every regular file under `root` (relative name → content), index/ left out.
std::map<std::string, std::string> snapshot(const fs::path& root) {
    std::map<std::string, std::string> out;
    if (!fs::exists(root)) {
        return out;
    }
    for (const auto& e : fs::recursive_directory_iterator(root)) {
        const std::string rel = e.path().lexically_relative(root).generic_string();
        if (rel.rfind("index", 0) == 0 || !e.is_regular_file() || e.is_symlink()) {
            continue;
        }
        out[rel] = read_file(e.path());
    }
    return out;
}

/// One entry to put into a test archive.
struct Item {
    Item(std::string n, std::string c, unsigned t = AE_IFREG, std::string l = {})
        : name(std::move(n)), content(std::move(c)), type(t), link(std::move(l)) {}
    std::string name;
    std::string content;
    unsigned type = AE_IFREG;
    std::string link;  ///< symlink target or hardlink source
};

/// Writes `items` as a zip (deflate) or tar.gz file at `path`.
void make_archive(const fs::path& path, bool zip, const std::vector<Item>& items) {
    struct ::archive* a = archive_write_new();
    if (zip) {
        archive_write_set_format_zip(a);
        archive_write_zip_set_compression_deflate(a);
    } else {
        archive_write_set_format_pax_restricted(a);
        archive_write_add_filter_gzip(a);
    }
    ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
    for (const Item& it : items) {
        archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, it.name.c_str());
        if (!it.link.empty() && it.type == AE_IFREG) {
            archive_entry_set_hardlink(e, it.link.c_str());
            archive_entry_set_size(e, 0);
        } else {
            archive_entry_set_filetype(e, it.type);
            if (it.type == AE_IFLNK) {
                archive_entry_set_symlink(e, it.link.c_str());
            }
            archive_entry_set_size(
                e, it.type == AE_IFREG ? static_cast<la_int64_t>(it.content.size()) : 0);
        }
        archive_entry_set_perm(e, it.type == AE_IFDIR ? 0755 : 0644);
        ASSERT_EQ(archive_write_header(a, e), ARCHIVE_OK) << archive_error_string(a);
        if (it.type == AE_IFREG && it.link.empty() && !it.content.empty()) {
            ASSERT_EQ(archive_write_data(a, it.content.data(), it.content.size()),
                      static_cast<la_ssize_t>(it.content.size()));
        }
        archive_entry_free(e);
    }
    ASSERT_EQ(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

/// The entry names of the archive in `bytes`, in order, with their contents.
std::vector<std::pair<std::string, std::string>> list_archive(const std::string& bytes) {
    std::vector<std::pair<std::string, std::string>> out;
    struct ::archive* a = archive_read_new();
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_filter_gzip(a);
    EXPECT_EQ(archive_read_open_memory(a, bytes.data(), bytes.size()), ARCHIVE_OK);
    archive_entry* e = nullptr;
    while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
        std::string content;
        std::array<char, 65536> buf{};
        la_ssize_t n = 0;
        while ((n = archive_read_data(a, buf.data(), buf.size())) > 0) {
            content.append(buf.data(), static_cast<std::size_t>(n));
        }
        out.emplace_back(archive_entry_pathname(e), std::move(content));
    }
    archive_read_free(a);
    return out;
}

/// A small store: two runs (one with a dataset manifest, a zip-mode code blob and a rolling
/// output), locks and heartbeat files, a torn events tail.
void make_store(const fs::path& root) {
    const fs::path a = root / "runs" / "cv" / "yolo" / kRunA;
    write_file(a / "meta.json", R"({"id": "20260101_000000_aaaaaa", "path": "cv/yolo"})");
    write_file(a / "status.json", R"({"status": "finished"})");
    write_file(a / "summary.json", R"({"loss": 0.5})");
    write_file(a / "events.jsonl",
               "{\"step\": 1, \"loss\": 1.0}\n{\"step\": 2, \"loss\": 0.5}\n{\"st");
    write_file(a / "logs.txt", "hello\nworld\npart");
    write_file(a / "media" / "img.png", "PNGDATA");
    write_file(a / "events.jsonl.lock", "");
    write_file(a / ".writer.lock", "");
    write_file(a / ".heartbeat.json", "{}");
    const std::string store = root.string();
    json::object assets;
    assets["code"] = json::object{
        {"snapshot",
         json::object{{"saved", true},
                      {"format", "zip"},
                      {"archive_path", "/elsewhere/old/archive/blobs/17/" + std::string(kShaCat)},
                      {"fingerprint_kind", "sha256"},
                      {"fingerprint", kShaCat}}}};
    assets["config"] = json::object{};
    assets["datasets"] = json::array{
        json::object{{"name", "ds"},
                     {"saved", true},
                     {"fingerprint_kind", "sha256_manifest"},
                     {"fingerprint", kFp},
                     {"archive_path", store + "/archive/manifests/datasets/f1/" + kFp + ".json"},
                     {"manifest_path", store + "/archive/manifests/datasets/f1/" + kFp + ".json"}}};
    assets["pretrained"] = json::array{};
    assets["outputs"] = json::array{};
    write_file(a / "assets.json", json::serialize(assets));
    write_file(
        root / "archive" / "manifests" / "datasets" / "f1" / (std::string(kFp) + ".json"),
        std::string(R"({"created_at": 1, "source_path": "/d", "fingerprint": ")") + kFp +
            R"(", "total_size_bytes": 12, "file_count": 2, "files": {"train.csv": {"sha256": ")" +
            kShaTrain + R"(", "size_bytes": 8}, "labels/y.txt": {"sha256": ")" + kShaCat +
            R"(", "size_bytes": 4}}})");
    write_file(root / "archive" / "blobs" / "49" / kShaTrain, "a,b\n1,2\n");
    write_file(root / "archive" / "blobs" / "17" / kShaCat, "cat\n");
    write_file(root / "archive" / "outputs" / "rolling" / kRunA / "abc_train.log", "log\n");
    // An unreferenced blob stays home.
    write_file(root / "archive" / "blobs" / "00" / std::string(64, '0'), "zzz");

    const fs::path b = root / "runs" / kRunB;
    write_file(b / "meta.json", R"({"id": "20260101_000000_bbbbbb"})");
    write_file(b / "status.json", R"({"status": "failed"})");
    write_file(b / "events.jsonl", "{\"step\": 1}\n");
}

ExportRequest request_for(const fs::path& root, bool include_archive) {
    ExportRequest req;
    req.root = root;
    req.include_archive = include_archive;
    req.created_by = "runicorn-cpp/test";
    req.runs.push_back({kRunA, "cv/yolo", root / "runs" / "cv" / "yolo" / kRunA});
    req.runs.push_back({kRunB, std::nullopt, root / "runs" / kRunB});
    return req;
}

class ImportTest : public ::testing::Test {
protected:
    void SetUp() override {
        root_ = tmp_.path() / "store";
        fs::create_directories(root_);
    }

    Result<ImportReport> import_file(const fs::path& file, const std::string& filename,
                                     ImportLimits limits = {}) {
        Result<StagingDir> staging = StagingDir::create(root_);
        EXPECT_TRUE(staging.has_value());
        ImportOptions o;
        o.root = root_;
        o.staging = staging->path();
        o.upload = staging->path() / "upload";
        fs::copy_file(file, o.upload);
        o.filename = filename;
        o.limits = limits;
        Result<ImportReport> r = import_archive(o);
        return r;
    }
    Result<ImportReport> import_items(bool zip, const std::vector<Item>& items,
                                      ImportLimits limits = {}) {
        const fs::path file = tmp_.path() / (zip ? "in.zip" : "in.tar.gz");
        fs::remove(file);
        make_archive(file, zip, items);
        return import_file(file, file.filename().string(), limits);
    }

    testing::TempDir tmp_;
    fs::path root_;
};

TEST(EntryNamesTest, AcceptsAndNormalises) {
    EXPECT_EQ(normalize_entry_name("runs/a/b.json").name, "runs/a/b.json");
    EXPECT_EQ(normalize_entry_name("./runs/a/").name, "runs/a");
    EXPECT_TRUE(normalize_entry_name("./runs/a/").trailing_slash);
    EXPECT_EQ(normalize_entry_name("runs\\a\\b").name, "runs/a/b");
}

TEST(EntryNamesTest, RefusesUnsafeNames) {
    for (const std::string& bad : std::vector<std::string>{
             "/etc/passwd", "C:/x", "c:x", "//server/share/x", "\\\\server\\share\\x", "\\abs",
             "a/../b", "..", "../x", "a//b", "a/./b", std::string("a\0b", 3),
             "a\x01"
             "b",
             "a\x7f", "", "./", std::string(5000, 'a')}) {
        const EntryName n = normalize_entry_name(bad);
        EXPECT_FALSE(n.refusal.empty()) << bad;
        EXPECT_TRUE(n.name.empty()) << bad;
    }
}

TEST(EntryNamesTest, ArchiveRelativeRebases) {
    EXPECT_EQ(archive_relative("/old/store/archive/blobs/ab/x").value(), "archive/blobs/ab/x");
    EXPECT_EQ(archive_relative("C:\\s\\archive\\manifests\\d\\f1\\a.json").value(),
              "archive/manifests/d/f1/a.json");
    EXPECT_FALSE(archive_relative("/old/store/archive/blobs/../../x").has_value());
    EXPECT_FALSE(archive_relative("/somewhere/else").has_value());
}

TEST(MultipartTest, FindsTheFilePart) {
    const std::string body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.zip\"\r\n"
        "Content-Type: application/zip\r\n\r\nPK\r\n\x01\x02\r\n--XyZ--\r\n";
    Result<FormPart> p = find_form_part("multipart/form-data; boundary=XyZ", body, "file");
    ASSERT_TRUE(p.has_value()) << p.error();
    EXPECT_EQ(p->filename, "a b.zip");
    EXPECT_EQ(p->content, std::string_view("PK\r\n\x01\x02"));
    EXPECT_EQ(
        find_form_part("multipart/form-data; boundary=\"XyZ\"", body, "missing").error().code(),
        StatusCode::kNotFound);
    EXPECT_EQ(find_form_part("application/json", body, "file").error().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(find_form_part("multipart/form-data", body, "file").error().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(find_form_part("multipart/form-data; boundary=XyZ", "--XyZ\r\nbroken", "file")
                  .error()
                  .code(),
              StatusCode::kInvalidArgument);
}

TEST(ExportPlanTest, TarGzHoldsTheLayoutOfFormat78) {
    testing::TempDir tmp;
    const fs::path root = tmp.path();
    make_store(root);
    Result<ExportPlan> plan = plan_export(request_for(root, true));
    ASSERT_TRUE(plan.has_value()) << plan.error();
    StringSink sink;
    ASSERT_TRUE(write_plan(*plan, ArchiveFormat::kTarGz, sink).is_ok());
    ASSERT_EQ(sink.out.substr(0, 2), "\x1f\x8b");  // gzip
    const auto entries = list_archive(sink.out);
    ASSERT_FALSE(entries.empty());
    EXPECT_EQ(entries.front().first, "RUNICORN-EXPORT.json");
    const json::value doc = json::parse(entries.front().second);
    EXPECT_EQ(doc.at("format"), "runicorn-export");
    EXPECT_EQ(doc.at("format_version"), 1);
    EXPECT_EQ(doc.at("include_archive"), true);
    EXPECT_EQ(doc.at("runs").at(0).at("rel_dir").as_string(), std::string("runs/cv/yolo/") + kRunA);
    EXPECT_TRUE(doc.at("runs").at(1).at("path").is_null());
    std::map<std::string, std::string> files(entries.begin(), entries.end());
    const std::string a = std::string("runs/cv/yolo/") + kRunA + "/";
    EXPECT_EQ(files.count(a + "meta.json"), 1U);
    EXPECT_EQ(files.count(a + "media/img.png"), 1U);
    EXPECT_EQ(files.count(a + "events.jsonl.lock"), 0U);
    EXPECT_EQ(files.count(a + ".writer.lock"), 0U);
    EXPECT_EQ(files.count(a + ".heartbeat.json"), 0U);
    // Append files end at their last newline.
    EXPECT_EQ(files.at(a + "events.jsonl"),
              "{\"step\": 1, \"loss\": 1.0}\n{\"step\": 2, \"loss\": 0.5}\n");
    EXPECT_EQ(files.at(a + "logs.txt"), "hello\nworld\n");
    EXPECT_EQ(files.at(std::string("archive/blobs/49/") + kShaTrain), "a,b\n1,2\n");
    EXPECT_EQ(files.at(std::string("archive/blobs/17/") + kShaCat), "cat\n");
    EXPECT_EQ(files.count(std::string("archive/manifests/datasets/f1/") + kFp + ".json"), 1U);
    EXPECT_EQ(files.at(std::string("archive/outputs/rolling/") + kRunA + "/abc_train.log"),
              "log\n");
    EXPECT_EQ(files.count("archive/blobs/00/" + std::string(64, '0')), 0U);  // unreferenced
    EXPECT_EQ(files.count(std::string("runs/") + kRunB + "/meta.json"), 1U);
}

TEST(ExportPlanTest, WithoutArchiveOnlyRunFolders) {
    testing::TempDir tmp;
    make_store(tmp.path());
    Result<ExportPlan> plan = plan_export(request_for(tmp.path(), false));
    ASSERT_TRUE(plan.has_value());
    for (const ExportEntry& e : plan->files) {
        EXPECT_EQ(e.name.rfind("runs/", 0), 0U) << e.name;
    }
}

TEST(ExportPlanTest, PathZipHasIndexAndRootRelativeRuns) {
    testing::TempDir tmp;
    make_store(tmp.path());
    std::vector<ExportRun> runs = request_for(tmp.path(), false).runs;
    Result<ExportPlan> plan = plan_path_zip(tmp.path(), runs, R"({"path": "cv"})");
    ASSERT_TRUE(plan.has_value());
    StringSink sink;
    ASSERT_TRUE(write_plan(*plan, ArchiveFormat::kZip, sink).is_ok());
    ASSERT_EQ(sink.out.substr(0, 2), "PK");
    const auto entries = list_archive(sink.out);
    ASSERT_FALSE(entries.empty());
    EXPECT_EQ(entries.front().first, "index.json");
    EXPECT_EQ(entries.front().second, R"({"path": "cv"})");
    std::map<std::string, std::string> files(entries.begin(), entries.end());
    EXPECT_EQ(files.at(std::string("runs/cv/yolo/") + kRunA + "/summary.json"), R"({"loss": 0.5})");
}

TEST(ExportPlanTest, ClientGoneStopsTheProducer) {
    testing::TempDir tmp;
    make_store(tmp.path());
    write_file(tmp.path() / "runs" / kRunB / "media" / "big.bin", std::string(4 << 20, 'x'));
    Result<ExportPlan> plan = plan_export(request_for(tmp.path(), true));
    ASSERT_TRUE(plan.has_value());
    GoneSink sink(1024);
    const Status s = write_plan(*plan, ArchiveFormat::kZip, sink);
    EXPECT_EQ(s.code(), StatusCode::kCancelled) << s;
}

TEST_F(ImportTest, ExportImportRoundTrip) {
    const fs::path src = tmp_.path() / "src";
    make_store(src);
    Result<ExportPlan> plan = plan_export(request_for(src, true));
    ASSERT_TRUE(plan.has_value());
    StringSink sink;
    ASSERT_TRUE(write_plan(*plan, ArchiveFormat::kTarGz, sink).is_ok());
    const fs::path file = tmp_.path() / "export.bin";
    write_file(file, sink.out);
    Result<ImportReport> r = import_file(file, "export.bin");  // unknown name: zip, then tar.gz
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->new_run_ids, ElementsAre(kRunA, kRunB));
    EXPECT_EQ(r->blobs_added, 2U);
    EXPECT_TRUE(r->conflicts.empty());
    EXPECT_TRUE(r->skipped.empty());
    auto expected = snapshot(src);
    for (auto it = expected.begin(); it != expected.end();) {
        const std::string& k = it->first;
        const bool dropped = k.find(".lock") != std::string::npos ||
                             k.find(".heartbeat.json") != std::string::npos ||
                             k.rfind("archive/blobs/00/", 0) == 0;
        it = dropped ? expected.erase(it) : std::next(it);
    }
    expected[std::string("runs/cv/yolo/") + kRunA + "/events.jsonl"] =
        "{\"step\": 1, \"loss\": 1.0}\n{\"step\": 2, \"loss\": 0.5}\n";
    expected[std::string("runs/cv/yolo/") + kRunA + "/logs.txt"] = "hello\nworld\n";
    auto got = snapshot(root_);
    got.erase("archive/.gc.lock");
    EXPECT_EQ(got, expected);
    // Blobs are published read-only; the staging area is gone.
    EXPECT_EQ(fs::status(root_ / "archive" / "blobs" / "49" / kShaTrain).permissions() &
                  fs::perms::owner_write,
              fs::perms::none);
    EXPECT_TRUE(fs::is_empty(root_ / "index" / "staging" / "imports"));
    EXPECT_THAT(r->new_run_dirs,
                ::testing::UnorderedElementsAre(root_ / "runs" / "cv" / "yolo" / kRunA,
                                                root_ / "runs" / kRunB));

    // A second import of the same archive: both runs conflict, nothing changes.
    const auto before = snapshot(root_);
    write_file(root_ / "runs" / kRunB / "summary.json", "original");
    Result<ImportReport> again = import_file(file, "export.tar.gz");
    ASSERT_TRUE(again.has_value()) << again.error();
    EXPECT_TRUE(again->new_run_ids.empty());
    ASSERT_EQ(again->conflicts.size(), 2U);
    const ImportConflict& ca =
        again->conflicts[0].run_id == kRunA ? again->conflicts[0] : again->conflicts[1];
    EXPECT_EQ(ca.run_id, kRunA);
    EXPECT_EQ(ca.path.value_or("<none>"), "cv/yolo");
    EXPECT_EQ(ca.reason, "exists");
    EXPECT_EQ(again->blobs_added, 0U);
    EXPECT_EQ(read_file(root_ / "runs" / kRunB / "summary.json"), "original");
}

TEST_F(ImportTest, UnsafeNamesAndLinksAreSkipped) {
    const std::string run = std::string("runs/p/") + kRunA + "/";
    Result<ImportReport> r =
        import_items(false, {{run + "meta.json", "{}"},
                             {"/abs/evil", "x"},
                             {"../evil", "x"},
                             {"runs/../../evil", "x"},
                             {"C:/evil", "x"},
                             {"runs\\p\\" + std::string(kRunA) + "\\back.txt", "backslash"},
                             {run + "link", "", AE_IFLNK, "/etc/passwd"},
                             {run + "hard", "", AE_IFREG, "/etc/passwd"},
                             {run + "fifo", "", AE_IFIFO},
                             {run + "meta.json", "second"}});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->new_run_ids, ElementsAre(kRunA));
    std::map<std::string, std::string> reasons;
    for (const ImportSkip& s : r->skipped) {
        reasons[s.entry] = s.reason;
    }
    EXPECT_EQ(reasons.at("/abs/evil"), "absolute path");
    EXPECT_EQ(reasons.at("../evil"), "'..' segment");
    EXPECT_EQ(reasons.at("runs/../../evil"), "'..' segment");
    EXPECT_EQ(reasons.at("C:/evil"), "drive letter");
    EXPECT_EQ(reasons.at(run + "link"), "symlink");
    EXPECT_EQ(reasons.at(run + "hard"), "hardlink");
    EXPECT_EQ(reasons.at(run + "fifo"), "special file");
    EXPECT_THAT(reasons.at(run + "meta.json"), HasSubstr("first one wins"));
    const fs::path dir = root_ / "runs" / "p" / kRunA;
    EXPECT_EQ(read_file(dir / "meta.json"), "{}");
    EXPECT_EQ(read_file(dir / "back.txt"), "backslash");  // '\' normalised to '/'
    EXPECT_FALSE(fs::exists(fs::symlink_status(dir / "link")));
    EXPECT_FALSE(fs::exists(dir / "hard"));
    EXPECT_FALSE(fs::exists(tmp_.path() / "evil"));
    EXPECT_FALSE(fs::exists(root_ / "evil"));
}

TEST_F(ImportTest, ZipBombOverTheRatioIsRefusedAndNothingApplied) {
    ImportLimits limits;
    limits.max_ratio = 100;
    const auto before = snapshot(root_);
    Result<ImportReport> r = import_items(true,
                                          {{std::string("runs/") + kRunA + "/meta.json", "{}"},
                                           {std::string("runs/") + kRunA + "/media/zeros.bin",
                                            std::string(std::size_t{16} << 20, '\0')}},
                                          limits);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kResourceExhausted);
    EXPECT_THAT(r.error().message(), HasSubstr("compression ratio"));
    EXPECT_EQ(snapshot(root_), before);
    EXPECT_FALSE(fs::exists(root_ / "runs"));
    EXPECT_TRUE(fs::is_empty(root_ / "index" / "staging" / "imports"));
}

TEST_F(ImportTest, EntryCountAndSizeLimits) {
    std::vector<Item> items;
    for (int i = 0; i < 10; ++i) {
        items.push_back({std::string("runs/") + kRunA + "/f" + std::to_string(i), "x"});
    }
    ImportLimits limits;
    limits.max_entries = 5;
    Result<ImportReport> r = import_items(false, items, limits);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kResourceExhausted);
    EXPECT_FALSE(fs::exists(root_ / "runs"));

    limits = {};
    limits.max_total_bytes = 5;
    r = import_items(true, items, limits);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kResourceExhausted);

    limits = {};
    limits.max_upload_bytes = 10;
    r = import_items(true, items, limits);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kResourceExhausted);
    EXPECT_FALSE(fs::exists(root_ / "runs"));
}

TEST_F(ImportTest, CorruptArchivesAreRefused) {
    const fs::path junk = tmp_.path() / "junk.bin";
    write_file(junk, std::string(4096, 'j'));
    for (const char* name : {"junk.bin", "junk.zip", "junk.tgz"}) {
        Result<ImportReport> r = import_file(junk, name);
        ASSERT_FALSE(r.has_value());
        EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
        EXPECT_EQ(r.error().message(), kCorruptArchive);
    }
    // A truncated tar.gz: the first entries read, then the stream breaks.
    const fs::path good = tmp_.path() / "good.tar.gz";
    std::string big;
    for (int i = 0; i < 200000; ++i) {
        big += std::to_string(i * 7919) + ",";
    }
    make_archive(good, false,
                 {{std::string("runs/") + kRunA + "/meta.json", "{}"},
                  {std::string("runs/") + kRunA + "/big.txt", big}});
    const std::string bytes = read_file(good);
    write_file(junk, bytes.substr(0, bytes.size() / 2));
    Result<ImportReport> r = import_file(junk, "cut.tar.gz");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message(), kCorruptArchive);
    EXPECT_FALSE(fs::exists(root_ / "runs"));
}

TEST_F(ImportTest, BlobWhoseContentDoesNotMatchItsNameIsRefused) {
    Result<ImportReport> r =
        import_items(false, {{std::string("runs/") + kRunA + "/meta.json", "{}"},
                             {std::string("archive/blobs/49/") + kShaTrain, "not the content"}});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kDataLoss);
    EXPECT_FALSE(fs::exists(root_ / "runs"));
    EXPECT_FALSE(fs::exists(root_ / "archive" / "blobs" / "49" / kShaTrain));
}

TEST_F(ImportTest, V06PathExportZipIsPlacedByIndex) {
    const std::string index =
        std::string(R"({"path": "cv", "total_runs": 2, "runs": [{"run_id": ")") + kRunA +
        R"(", "path": "cv/yolo"}, {"run_id": ")" + kRunB + R"(", "path": null}]})";
    Result<ImportReport> r = import_items(true, {{"index.json", index},
                                                 {std::string(kRunA) + "/meta.json", "{\"a\":1}"},
                                                 {std::string(kRunA) + "/events.jsonl", "{}\n"},
                                                 {std::string(kRunB) + "/status.json", "{}"}});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->new_run_ids, ElementsAre(kRunA, kRunB));
    EXPECT_EQ(read_file(root_ / "runs" / "cv" / "yolo" / kRunA / "meta.json"), "{\"a\":1}");
    EXPECT_TRUE(fs::exists(root_ / "runs" / kRunB / "status.json"));
    EXPECT_FALSE(fs::exists(root_ / "index.json"));
    EXPECT_EQ(r->imported_files, 3U);
}

TEST_F(ImportTest, RootRelativeTreeWithLegacyRunsAndReservedNames) {
    Result<ImportReport> r =
        import_items(false, {{"index.json", R"({"path": "x"})"},
                             {std::string("runs/x/") + kRunA + "/meta.json", "{}"},
                             {std::string("proj/name/runs/") + kRunB + "/meta.json", "{}"},
                             {"index/catalog.sqlite", "db"},
                             {"README.txt", "hi"}});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(r->new_run_ids, ElementsAre(kRunA, kRunB));
    EXPECT_TRUE(fs::exists(root_ / "proj" / "name" / "runs" / kRunB / "meta.json"));
    EXPECT_FALSE(fs::exists(root_ / "index" / "catalog.sqlite"));
    EXPECT_FALSE(fs::exists(root_ / "README.txt"));
    EXPECT_FALSE(fs::exists(root_ / "index.json"));
}

TEST_F(ImportTest, ArtifactVersionsSameDigestSkippedOtherDigestRenumbered) {
    const fs::path art = root_ / "artifacts" / "model";
    write_file(art / "artifact.json", R"({"name": "model", "type": "model", "last_version": 1})");
    write_file(art / "v1" / "version.json", R"({"name": "model", "version": 1, "digest": "d1"})");
    write_file(art / "v1" / "manifest.json", R"({"files": {}})");
    Result<ImportReport> r = import_items(
        false,
        {{"artifacts/model/artifact.json", R"({"name": "model", "last_version": 2})"},
         {"artifacts/model/aliases.json", R"({"aliases": {}})"},
         {"artifacts/model/v1/version.json", R"({"name": "model", "version": 1, "digest": "d1"})"},
         {"artifacts/model/v1/manifest.json", R"({"files": {}})"},
         {"artifacts/model/v2/version.json", R"({"name": "model", "version": 2, "digest": "d2"})"},
         {"artifacts/model/v2/manifest.json", R"({"files": {}})"},
         {"artifacts/fresh/artifact.json", R"({"name": "fresh", "last_version": 1})"},
         {"artifacts/fresh/v1/version.json", R"({"version": 1, "digest": "x"})"},
         {"artifacts/fresh/v1/manifest.json", R"({"files": {}})"}});
    ASSERT_TRUE(r.has_value()) << r.error();
    const json::value v2 = json::parse(read_file(art / "v2" / "version.json"));
    EXPECT_EQ(v2.at("digest"), "d2");
    EXPECT_EQ(v2.at("version"), 2);
    EXPECT_FALSE(fs::exists(art / "v3"));
    EXPECT_EQ(json::parse(read_file(art / "artifact.json")).at("last_version"), 2);
    EXPECT_TRUE(fs::exists(root_ / "artifacts" / "fresh" / "v1" / "manifest.json"));
    std::string warnings;
    for (const std::string& w : r->warnings) {
        warnings += w + "\n";
    }
    EXPECT_THAT(warnings, HasSubstr("model:v2 imported as v2"));
    EXPECT_THAT(warnings, HasSubstr("model:v1 already exists"));

    // A malformed artifact file refuses the whole import.
    r = import_items(false, {{std::string("runs/") + kRunB + "/meta.json", "{}"},
                             {"artifacts/bad/artifact.json", "{"}});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(fs::exists(root_ / "runs" / kRunB));
}

}  // namespace
}  // namespace runicorn::http_plugin::archive
