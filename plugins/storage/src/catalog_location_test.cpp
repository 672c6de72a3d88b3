#include "catalog_location.hpp"

#include <gtest/gtest.h>

#include "catalog.hpp"

namespace runicorn::storage {
namespace {
namespace fs = std::filesystem;

TEST(CatalogLocationTest, AWritableLocalRootKeepsItsCatalogInIndex) {
    const auto p = catalog_placement("/data/rn", true, false, "/cache", "/home/u");
    EXPECT_EQ(p.file, fs::path("/data/rn/index/catalog.sqlite"));
    EXPECT_FALSE(p.in_user_cache);
    EXPECT_EQ(p.reason, "");
}

TEST(CatalogLocationTest, AReadOnlyOrNetworkRootUsesTheUserCache) {
    const std::string id = catalog::sha256_hex("/data/rn").substr(0, 16);
    ASSERT_EQ(id.size(), 16U);
    auto ro = catalog_placement("/data/rn", false, false, "/xdg", "/home/u");
    EXPECT_EQ(ro.file, fs::path("/xdg/runicorn/catalog") / id / "catalog.sqlite");
    EXPECT_TRUE(ro.in_user_cache);
    EXPECT_EQ(ro.reason, "the storage root is read-only");
    auto nfs = catalog_placement("/data/rn", true, true, std::nullopt, "/home/u");
    EXPECT_EQ(nfs.file, fs::path("/home/u/.cache/runicorn/catalog") / id / "catalog.sqlite");
    EXPECT_EQ(nfs.reason, "the storage root is on a network filesystem");
    // A relative XDG_CACHE_HOME is ignored, as the XDG spec asks.
    auto rel = catalog_placement("/data/rn", false, false, "cache", "/home/u");
    EXPECT_EQ(rel.file, fs::path("/home/u/.cache/runicorn/catalog") / id / "catalog.sqlite");
}

TEST(CatalogLocationTest, NetworkFilesystemMagics) {
    for (std::int64_t magic : {0x6969LL, 0x65735546LL, 0x0BD00BD0LL, 0x47504653LL}) {
        EXPECT_TRUE(is_network_fs_type(magic)) << std::hex << magic;
    }
    // statfs's f_type is signed: the SMB magics arrive sign-extended.
    EXPECT_TRUE(is_network_fs_type(static_cast<std::int32_t>(0xFE534D42U)));
    EXPECT_TRUE(is_network_fs_type(0xFF534D42LL));
    EXPECT_FALSE(is_network_fs_type(0xEF53));      // ext4
    EXPECT_FALSE(is_network_fs_type(0x01021994));  // tmpfs
    EXPECT_FALSE(on_network_filesystem(fs::temp_directory_path()));
}

TEST(CatalogLocationTest, RootWritability) {
    EXPECT_TRUE(root_is_writable(fs::temp_directory_path()));
    EXPECT_FALSE(root_is_writable("/nonexistent/runicorn-root"));
    EXPECT_FALSE(root_is_writable("/proc/self"));  // read-only even for root
}

}  // namespace
}  // namespace runicorn::storage
