#include "manifest.hpp"

#include <fstream>

#include <gtest/gtest.h>

namespace runicorn::kernel {
namespace {
namespace fs = std::filesystem;

class ManifestTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("rn-manifest-" + std::to_string(::getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }
    Result<PluginManifest> read(const std::string& text) {
        std::ofstream(dir_ / "plugin.json") << text;
        return read_manifest(dir_);
    }
    std::string file() const { return (dir_ / "plugin.json").string(); }
    fs::path dir_;
};

TEST_F(ManifestTest, ReadsEveryField) {
    auto m = read(R"({"id": "storage", "version": "0.1.0", "abi": "1.2", "library": "libstorage.so",
                      "provides": ["runicorn.run_store/1"], "requires": ["runicorn.kernel/1"],
                      "uses": ["runicorn.locales/1"], "description": "d", "extra": true})");
    ASSERT_TRUE(m.has_value()) << m.error();
    EXPECT_EQ(m->id, "storage");
    EXPECT_EQ(m->abi, (plugin::AbiVersion{1, 2}));
    EXPECT_EQ(m->library, "libstorage.so");
    EXPECT_EQ(m->provides, std::vector<std::string>{"runicorn.run_store/1"});
    EXPECT_EQ(m->requires_services, std::vector<std::string>{"runicorn.kernel/1"});
    EXPECT_EQ(m->uses, std::vector<std::string>{"runicorn.locales/1"});
}

TEST_F(ManifestTest, DataOnlyHasNoLibrary) {
    auto m = read(R"({"id": "pack", "version": "1", "abi": "1.0", "library": null})");
    ASSERT_TRUE(m.has_value());
    EXPECT_FALSE(m->library.has_value());
}

TEST_F(ManifestTest, BadFieldsAreNamed) {
    EXPECT_EQ(
        read(R"({"id": "Bad Id", "version": "1", "abi": "1.0", "library": null})").error(),
        Status::invalid_argument("invalid manifest '" + file() +
                                 "': \"id\" must match [a-z][a-z0-9_-]{0,63}, got \"Bad Id\""));
    EXPECT_EQ(read(R"({"id": "x", "version": "1", "abi": "one", "library": null})").error(),
              Status::invalid_argument("invalid manifest '" + file() +
                                       "': \"abi\" must be \"MAJOR.MINOR\", got \"one\""));
    EXPECT_EQ(read(R"({"id": "x", "version": "1", "abi": "1.0"})").error(),
              Status::invalid_argument(
                  "invalid manifest '" + file() +
                  "': missing \"library\" (a file name, or null for a data-only plugin)"));
    EXPECT_EQ(
        read(R"({"id": "x", "version": "1", "abi": "1.0", "library": null, "provides": ["x"]})")
            .error(),
        Status::invalid_argument("invalid manifest '" + file() +
                                 "': \"provides\" holds \"x\", not a service id like "
                                 "\"runicorn.run_store/1\""));
    EXPECT_EQ(read("[1, 2]").error(),
              Status::invalid_argument("invalid manifest '" + file() +
                                       "': the top level must be an object"));
}

TEST_F(ManifestTest, MissingManifestIsNotFound) {
    EXPECT_EQ(read_manifest(dir_ / "nope").error(),
              Status::not_found("missing manifest: no plugin.json in '" + (dir_ / "nope").string() +
                                "'"));
}

TEST(ServiceIdTest, Shapes) {
    EXPECT_TRUE(is_valid_service_id("runicorn.run_store/1"));
    EXPECT_TRUE(is_valid_service_id("runicorn.a/12"));
    EXPECT_FALSE(is_valid_service_id("runicorn.run_store"));
    EXPECT_FALSE(is_valid_service_id("Runicorn.x/1"));
    EXPECT_FALSE(is_valid_service_id("runicorn.x/v1"));
    EXPECT_FALSE(is_valid_service_id("/1"));
}

}  // namespace
}  // namespace runicorn::kernel
