#include "sha256.hpp"

#include <gtest/gtest.h>

#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "dedup_test_util.hpp"
#include "tolerant_json.hpp"

namespace runicorn::dedup {
namespace {

using runicorn::testing::IsOkAndHolds;
using runicorn::testing::StatusIs;
using runicorn::testing::TempDir;

TEST(Sha256Test, KnownVectors) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, StreamingAcrossChunksMatchesOneShot) {
    TempDir dir;
    std::string data(3 * kChunkBytes + 17, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) {
        data[i] = static_cast<char>((i * 131) % 251);
    }
    test_util::write_file(dir.path() / "f", data);
    std::uint64_t size = 0;
    EXPECT_THAT(sha256_file(dir.path() / "f", &size), IsOkAndHolds(sha256_hex(data)));
    EXPECT_EQ(size, data.size());
}

TEST(Sha256Test, MissingFileIsNotFound) {
    EXPECT_THAT(
        sha256_file("/nonexistent/x").error(),
        StatusIs(StatusCode::kNotFound, "cannot open '/nonexistent/x': No such file or directory"));
}

TEST(TolerantJsonTest, NonFiniteTokensReadAsNull) {
    auto v = parse_tolerant_json(
        "\xEF\xBB\xBF{\"a\": NaN, \"b\": [Infinity, -Infinity], \"s\": \"NaN \\\" Infinity\"}");
    ASSERT_TRUE(v.has_value()) << v.error();
    EXPECT_TRUE(v->at("a").is_null());
    EXPECT_TRUE(v->at("b").at(1).is_null());
    EXPECT_EQ(v->at("s").as_string(), "NaN \" Infinity");
}

TEST(TolerantJsonTest, GarbageIsInvalidArgument) {
    EXPECT_THAT(parse_tolerant_json("{broken").error(),
                StatusIs(StatusCode::kInvalidArgument, ::testing::StartsWith("not valid JSON: ")));
}

}  // namespace
}  // namespace runicorn::dedup
