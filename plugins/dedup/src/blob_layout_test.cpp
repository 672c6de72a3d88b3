#include "blob_layout.hpp"

#include <gtest/gtest.h>

namespace runicorn::dedup {
namespace {

TEST(BlobLayoutTest, PathIsShardedBySha) {
    const std::string sha = "0510f528e0325d5ad0572c65fb1b9bc5f9ba1fb5022533011de76998acfd0369";
    auto p = blob_path("/store", sha);
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->string(), "/store/archive/blobs/05/" + sha);
}

TEST(BlobLayoutTest, RejectsNonHexNames) {
    auto p = blob_path("/store", "../../etc/passwd");
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error(), Status::invalid_argument(
                             "'../../etc/passwd' is not a SHA-256 (64 lower-case hex digits)"));
    EXPECT_FALSE(is_sha256_hex(std::string(64, 'A')));
}

TEST(BlobLayoutTest, CountsTheFixtureBlobs) {
    auto stats = blob_stats(std::filesystem::path(RUNICORN_FIXTURE_DIR) / "store");
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->blob_count, 5U);
    EXPECT_GT(stats->bytes_stored, 0U);
}

TEST(BlobLayoutTest, AbsentStoreIsEmpty) {
    auto stats = blob_stats("/nonexistent/runicorn");
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->blob_count, 0U);
}

}  // namespace
}  // namespace runicorn::dedup
