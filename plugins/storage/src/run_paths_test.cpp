#include "run_paths.hpp"

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "storage_test_util.hpp"

namespace runicorn::storage {
namespace {
using testing::StatusIs;

std::string norm(std::optional<std::string_view> raw) {
    auto r = normalize_path(raw);
    EXPECT_TRUE(r.has_value()) << r.error();
    return r.has_value() ? *r : std::string("<error>");
}

TEST(NormalizePathTest, FollowsTheEightSteps) {
    EXPECT_EQ(norm(std::nullopt), "default");                       // 1
    EXPECT_EQ(norm("cv\\yolo"), "cv/yolo");                         // 2
    EXPECT_EQ(norm(""), "");                                        // 3
    EXPECT_EQ(norm("/"), "");                                       // 3
    EXPECT_EQ(norm("\\"), "");                                      // 2 then 3
    EXPECT_EQ(norm("/cv/yolo/"), "cv/yolo");                        // 4
    EXPECT_EQ(norm("a//b///c"), "a/b/c");                           // 5
    EXPECT_EQ(norm("A-b_9/x"), "A-b_9/x");                          // 6
    EXPECT_EQ(norm(std::string(200, 'a')), std::string(200, 'a'));  // 8: exactly the limit
}

TEST(NormalizePathTest, RejectsBadPathsWithClearMessages) {
    EXPECT_THAT(normalize_path("///").error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run path '///': nothing is left after removing leading and "
                         "trailing '/'"));
    EXPECT_THAT(normalize_path("cv/yolo v8").error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run path 'cv/yolo v8': only ASCII letters, digits, '_', '-' "
                         "and '/' are allowed"));
    EXPECT_THAT(normalize_path("../etc").error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run path '../etc': only ASCII letters, digits, '_', '-' and "
                         "'/' are allowed"));
    EXPECT_THAT(normalize_path("准确率").error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run path '准确率': only ASCII letters, digits, '_', '-' and '/' "
                         "are allowed"));
    const std::string long_path(201, 'a');
    EXPECT_THAT(normalize_path(long_path).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run path '" + long_path + "': longer than 200 characters"));
}

TEST(ValidateRunIdTest, AcceptsTheRule) {
    RUNICORN_EXPECT_OK(validate_run_id("20261126_062216_012eca"));
    RUNICORN_EXPECT_OK(validate_run_id("my-run.v2_final"));
    RUNICORN_EXPECT_OK(validate_run_id("a"));
    RUNICORN_EXPECT_OK(validate_run_id(std::string(128, 'r')));
}

TEST(ValidateRunIdTest, RejectsTraversalAndOddNames) {
    EXPECT_THAT(validate_run_id(""),
                StatusIs(StatusCode::kInvalidArgument, "invalid run id '': empty"));
    EXPECT_THAT(validate_run_id("../x"),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run id '../x': must start with an ASCII letter or digit"));
    EXPECT_THAT(validate_run_id(".hidden"),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run id '.hidden': must start with an ASCII letter or digit"));
    EXPECT_THAT(validate_run_id("a/b"),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run id 'a/b': only ASCII letters, digits, '_', '.' and '-' are "
                         "allowed"));
    EXPECT_THAT(validate_run_id("a..b"), StatusIs(StatusCode::kInvalidArgument,
                                                  "invalid run id 'a..b': '..' is not allowed"));
    const std::string long_id(129, 'r');
    EXPECT_THAT(validate_run_id(long_id),
                StatusIs(StatusCode::kInvalidArgument,
                         "invalid run id '" + long_id + "': longer than 128 characters"));
}

TEST(GenerateRunIdTest, HasTheV06FormAndRandomSuffix) {
    const auto when = std::chrono::system_clock::from_time_t(1795674136);
    std::set<std::string> suffixes;
    for (int i = 0; i < 20; ++i) {
        const std::string id = generate_run_id(when);
        EXPECT_TRUE(is_generated_run_id(id)) << id;
        RUNICORN_EXPECT_OK(validate_run_id(id));
        suffixes.insert(id.substr(16));
    }
    EXPECT_GT(suffixes.size(), 1U);
    EXPECT_FALSE(is_generated_run_id("20261126_062216_012ecA"));
    EXPECT_FALSE(is_generated_run_id("20261126-062216_012eca"));
    EXPECT_FALSE(is_generated_run_id("my-run"));
}

}  // namespace
}  // namespace runicorn::storage
