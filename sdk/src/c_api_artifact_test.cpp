// The artifact functions of the C ABI (runicorn.h, ABI 1.2) against the real storage and dedup
// plugins (RUNICORN_PLUGIN_PATH).

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/c/runicorn.h>
#include <runicorn/testing/temp_dir.hpp>

#include <sys/stat.h>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

void write_file(const fs::path& p, std::string_view text) {
    fs::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

/// Releases a C handle at scope exit.
template <class T, int (*Release)(T*)>
struct Owned {
    T* p = nullptr;
    Owned() = default;
    Owned(const Owned&) = delete;
    Owned& operator=(const Owned&) = delete;
    ~Owned() { (void)Release(p); }
};
using RunPtr = Owned<rn_run, &rn_run_release>;
using ArtifactPtr = Owned<rn_artifact, &rn_artifact_release>;
using VersionPtr = Owned<rn_artifact_version, &rn_artifact_version_release>;

class CApiArtifactTest : public ::testing::Test {
protected:
    void SetUp() override {
        ::setenv("RUNICORN_PLUGIN_PATH", RUNICORN_TEST_PLUGIN_DIR, 1);
        ::setenv("RUNICORN_SILENT", "1", 1);
        rn_set_enabled(1);
        root_ = tmp_.path() / "store";
        work_ = tmp_.path() / "work";
        fs::create_directories(work_);
        rn_init_options o;
        rn_init_options_default(&o);
        o.storage = root_.c_str();
        o.path = "c/art";
        ASSERT_EQ(rn_init(&o, &run_.p), RN_OK) << rn_last_error();
    }

    ::runicorn::testing::TempDir tmp_;
    fs::path root_;
    fs::path work_;
    RunPtr run_;
};

TEST_F(CApiArtifactTest, LogsResolvesAndDownloads) {
    write_file(work_ / "w.bin", "weights");
    write_file(work_ / "tok" / "vocab.txt", "abc");
    ArtifactPtr a;
    ASSERT_EQ(rn_artifact_new("net", "model", &a.p), RN_OK) << rn_last_error();
    ASSERT_EQ(rn_artifact_add_file(a.p, (work_ / "w.bin").c_str(), "model.bin"), RN_OK)
        << rn_last_error();
    ASSERT_EQ(rn_artifact_add_dir(a.p, (work_ / "tok").c_str(), "tokenizer"), RN_OK);
    ASSERT_EQ(rn_artifact_set_description(a.p, "a net"), RN_OK);
    ASSERT_EQ(rn_artifact_set_metadata_json(a.p, R"({"acc": 0.5})"), RN_OK);
    const char* aliases[] = {"production"};
    VersionPtr v;
    ASSERT_EQ(rn_log_artifact(run_.p, a.p, aliases, 1, &v.p), RN_OK) << rn_last_error();

    rn_artifact_version_info info{};
    info.struct_size = sizeof info;
    ASSERT_EQ(rn_artifact_version_get_info(v.p, &info), RN_OK);
    EXPECT_STREQ(info.name, "net");
    EXPECT_STREQ(info.type, "model");
    EXPECT_EQ(info.version, 1);
    EXPECT_EQ(std::string(info.digest).size(), 64u);
    EXPECT_EQ(info.file_count, 2u);
    EXPECT_EQ(info.total_size_bytes, 10u);
    EXPECT_EQ(info.deduplicated, 0);
    EXPECT_EQ(boost::json::parse(info.metadata_json).at("acc").as_double(), 0.5);

    // An older caller's smaller struct gets only what fits.
    rn_artifact_version_info small{};
    small.struct_size = offsetof(rn_artifact_version_info, type);
    ASSERT_EQ(rn_artifact_version_get_info(v.p, &small), RN_OK);
    EXPECT_STREQ(small.name, "net");
    EXPECT_EQ(small.type, nullptr);

    // The whole version as JSON; a short buffer reports the size needed.
    std::size_t needed = 0;
    char tiny[4];
    EXPECT_EQ(rn_artifact_version_json(v.p, tiny, sizeof tiny, &needed), RN_E_BUFFER_TOO_SMALL);
    ASSERT_GT(needed, sizeof tiny);
    std::string text(needed, '\0');
    ASSERT_EQ(rn_artifact_version_json(v.p, text.data(), text.size(), &needed), RN_OK);
    const auto doc = boost::json::parse(text.c_str()).as_object();
    EXPECT_EQ(doc.at("aliases").as_array().at(0).as_string(), "production");
    EXPECT_EQ(doc.at("description").as_string(), "a net");
    EXPECT_EQ(doc.at("produced_by").at("path").as_string(), "c/art");

    char buf[4096];
    ASSERT_EQ(rn_artifact_version_files_json(v.p, buf, sizeof buf, &needed), RN_OK);
    const auto files = boost::json::parse(buf).as_array();
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].at("path").as_string(), "model.bin");
    EXPECT_EQ(files[1].at("path").as_string(), "tokenizer/vocab.txt");

    // Identical content again: the version is reused.
    VersionPtr again;
    ASSERT_EQ(rn_log_artifact(run_.p, a.p, nullptr, 0, &again.p), RN_OK);
    ASSERT_EQ(rn_artifact_version_get_info(again.p, &info), RN_OK);
    EXPECT_EQ(info.version, 1);
    EXPECT_EQ(info.deduplicated, 1);

    // Download: hard links by default, writable copies with RN_DL_NO_LINK.
    const auto dest = tmp_.path() / "dl";
    ASSERT_EQ(rn_artifact_version_download(v.p, dest.c_str(), 0, buf, sizeof buf, &needed), RN_OK)
        << rn_last_error();
    EXPECT_EQ(fs::path(buf), dest);
    struct stat st {};
    ASSERT_EQ(::stat((dest / "model.bin").c_str(), &st), 0);
    EXPECT_GE(st.st_nlink, 2u);
    EXPECT_EQ(read_file(dest / "tokenizer" / "vocab.txt"), "abc");
    const auto copies = tmp_.path() / "copies";
    ASSERT_EQ(rn_artifact_version_download(v.p, copies.c_str(), RN_DL_NO_LINK, nullptr, 0, nullptr),
              RN_OK);
    ASSERT_EQ(::stat((copies / "model.bin").c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u);
    write_file(copies / "model.bin", "changed");
    EXPECT_EQ(rn_artifact_version_download(v.p, copies.c_str(), RN_DL_NO_LINK, nullptr, 0, nullptr),
              RN_E_ALREADY_EXISTS);
    EXPECT_THAT(rn_last_error(), HasSubstr("model.bin"));
    EXPECT_EQ(rn_artifact_version_download(v.p, copies.c_str(), RN_DL_NO_LINK | RN_DL_OVERWRITE,
                                           nullptr, 0, nullptr),
              RN_OK);
    EXPECT_EQ(read_file(copies / "model.bin"), "weights");
    EXPECT_EQ(rn_artifact_version_download(v.p, copies.c_str(), 8, nullptr, 0, nullptr),
              RN_E_INVALID_ARGUMENT);
    ASSERT_EQ(
        rn_artifact_version_download_file(v.p, "tokenizer/vocab.txt", (tmp_.path() / "one").c_str(),
                                          0, buf, sizeof buf, &needed),
        RN_OK);
    EXPECT_EQ(fs::path(buf), tmp_.path() / "one" / "tokenizer" / "vocab.txt");
    EXPECT_EQ(rn_artifact_version_download_file(v.p, "nope", nullptr, 0, nullptr, 0, nullptr),
              RN_E_NOT_FOUND);

    // Resolve without a run, use with one, aliases.
    VersionPtr resolved;
    ASSERT_EQ(rn_artifact_resolve("net:production", root_.c_str(), &resolved.p), RN_OK)
        << rn_last_error();
    ASSERT_EQ(rn_artifact_version_set_alias(resolved.p, "best"), RN_OK);
    EXPECT_EQ(rn_artifact_version_set_alias(resolved.p, "latest"), RN_E_INVALID_ARGUMENT);
    VersionPtr used;
    ASSERT_EQ(rn_use_artifact(run_.p, "net:best", &used.p), RN_OK) << rn_last_error();
    ASSERT_EQ(rn_artifact_version_remove_alias(used.p, "best"), RN_OK);
    EXPECT_EQ(rn_artifact_version_remove_alias(used.p, "best"), RN_E_NOT_FOUND);
    rn_run_info ri{};
    ri.struct_size = sizeof ri;
    ASSERT_EQ(rn_run_get_info(run_.p, &ri), RN_OK);
    const auto artifacts = boost::json::parse(read_file(fs::path(ri.run_dir) / "artifacts.json"));
    EXPECT_EQ(artifacts.at("used").as_array().at(0).at("requested").as_string(), "net:best");
    EXPECT_EQ(artifacts.at("logged").as_array().size(), 2u);
}

TEST_F(CApiArtifactTest, RefusesBadArguments) {
    ArtifactPtr a;
    EXPECT_EQ(rn_artifact_new("bad/name", "model", &a.p), RN_E_INVALID_ARGUMENT);
    EXPECT_THAT(rn_last_error(), HasSubstr("bad/name"));
    EXPECT_EQ(a.p, nullptr);
    EXPECT_EQ(rn_artifact_new("ok", "", &a.p), RN_E_INVALID_ARGUMENT);
    EXPECT_EQ(rn_artifact_new(nullptr, "model", &a.p), RN_E_INVALID_ARGUMENT);
    EXPECT_EQ(rn_artifact_new("ok", "model", nullptr), RN_E_INVALID_ARGUMENT);
    ASSERT_EQ(rn_artifact_new("ok", "model", &a.p), RN_OK);
    EXPECT_EQ(rn_artifact_add_file(a.p, (work_ / "missing").c_str(), nullptr), RN_E_NOT_FOUND);
    write_file(work_ / "f", "f");
    EXPECT_EQ(rn_artifact_add_file(a.p, (work_ / "f").c_str(), "../f"), RN_E_INVALID_ARGUMENT);
    ASSERT_EQ(rn_artifact_add_file(a.p, (work_ / "f").c_str(), nullptr), RN_OK);
    EXPECT_EQ(rn_artifact_add_file(a.p, (work_ / "f").c_str(), "f"), RN_E_INVALID_ARGUMENT);
    EXPECT_THAT(rn_last_error(), HasSubstr("already taken"));
    EXPECT_EQ(rn_artifact_add_file(nullptr, "x", nullptr), RN_E_INVALID_ARGUMENT);
    EXPECT_EQ(rn_artifact_set_metadata_json(a.p, "[1]"), RN_E_INVALID_ARGUMENT);
    EXPECT_EQ(rn_artifact_set_metadata_json(a.p, "{"), RN_E_INVALID_ARGUMENT);

    VersionPtr v;
    const char* bad_aliases[] = {"v2"};
    EXPECT_EQ(rn_log_artifact(run_.p, a.p, bad_aliases, 1, &v.p), RN_E_INVALID_ARGUMENT);
    EXPECT_THAT(rn_last_error(), HasSubstr("v2"));
    EXPECT_EQ(rn_log_artifact(run_.p, a.p, nullptr, 1, &v.p), RN_E_INVALID_ARGUMENT);
    const char* null_alias[] = {nullptr};
    EXPECT_EQ(rn_log_artifact(run_.p, a.p, null_alias, 1, &v.p), RN_E_INVALID_ARGUMENT);
    EXPECT_EQ(rn_log_artifact(nullptr, a.p, nullptr, 0, &v.p), RN_E_INVALID_ARGUMENT);
    EXPECT_EQ(v.p, nullptr);

    EXPECT_EQ(rn_use_artifact(run_.p, "unknown", &v.p), RN_E_NOT_FOUND);
    EXPECT_EQ(rn_use_artifact(run_.p, "ok:v0", &v.p), RN_E_NOT_FOUND);  // no such artifact yet
    EXPECT_EQ(rn_artifact_resolve("unknown:latest", root_.c_str(), &v.p), RN_E_NOT_FOUND);
    EXPECT_EQ(rn_artifact_resolve(nullptr, nullptr, &v.p), RN_E_INVALID_ARGUMENT);
    EXPECT_EQ(rn_artifact_version_get_info(nullptr, nullptr), RN_E_INVALID_ARGUMENT);
    EXPECT_EQ(rn_artifact_version_release(nullptr), RN_OK);
    EXPECT_EQ(rn_artifact_release(nullptr), RN_OK);

    ASSERT_EQ(rn_finish(run_.p, nullptr), RN_OK);
    EXPECT_EQ(rn_log_artifact(run_.p, a.p, nullptr, 0, &v.p), RN_E_FAILED_PRECONDITION);
}

}  // namespace
