#include "file_io.hpp"

#include <array>
#include <string>

#include <boost/json/object.hpp>
#include <gtest/gtest.h>

#include "json_io.hpp"
#include "storage_test_util.hpp"
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn::storage {
namespace {
namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::ElementsAre;
using testing::RecordingLogger;
using testing::slurp;
using testing::StatusIs;
using testing::TempDir;
using testing::write_text;

std::vector<std::string> dir_entries(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(FileLockTest, SecondHolderTimesOutWithUnavailable) {
    TempDir tmp;
    const fs::path lock = tmp.path() / "status.json.lock";
    auto first = FileLock::acquire(lock);
    ASSERT_TRUE(first.has_value()) << first.error();
    auto second = FileLock::acquire(lock, std::chrono::milliseconds(30));
    EXPECT_THAT(second.error(),
                StatusIs(StatusCode::kUnavailable,
                         "timed out after 30 ms waiting for the lock '" + lock.string() + "'"));
    first->release();
    auto third = FileLock::acquire(lock, std::chrono::milliseconds(30));
    EXPECT_TRUE(third.has_value());
    EXPECT_TRUE(fs::exists(lock));  // never deleted
}

TEST(FileLockTest, ExcludesAnotherProcess) {
    TempDir tmp;
    const fs::path lock = tmp.path() / "x.lock";
    std::array<int, 2> held{};
    std::array<int, 2> done{};
    ASSERT_EQ(::pipe(held.data()), 0);
    ASSERT_EQ(::pipe(done.data()), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        auto l = FileLock::acquire(lock);
        char c = l.has_value() ? 'y' : 'n';
        (void)!::write(held[1], &c, 1);
        (void)!::read(done[0], &c, 1);  // hold until the parent is done
        ::_exit(0);
    }
    char c = 0;
    ASSERT_EQ(::read(held[0], &c, 1), 1);
    ASSERT_EQ(c, 'y');
    EXPECT_THAT(FileLock::acquire(lock, std::chrono::seconds(1)).error(),
                StatusIs(StatusCode::kUnavailable, ::testing::HasSubstr("timed out after 1 s")));
    (void)!::write(done[1], "x", 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(FileLock::acquire(lock, std::chrono::seconds(1)).has_value());
    for (int fd : {held[0], held[1], done[0], done[1]}) {
        ::close(fd);
    }
}

TEST(AtomicWriteTest, ReplacesWholeAndLeavesNoTempFiles) {
    TempDir tmp;
    const fs::path f = tmp.path() / "status.json";
    RUNICORN_ASSERT_OK(write_file_atomic(f, "old"));
    RUNICORN_ASSERT_OK(write_file_atomic(f, "new content"));
    EXPECT_EQ(slurp(f), "new content");
    EXPECT_THAT(dir_entries(tmp.path()), ElementsAre("status.json"));
}

TEST(AtomicWriteTest, MissingDirectoryIsNotFoundNamingTheFile) {
    TempDir tmp;
    const fs::path f = tmp.path() / "gone" / "meta.json";
    EXPECT_THAT(
        write_file_atomic(f, "{}"),
        StatusIs(StatusCode::kNotFound, "writing '" + f.string() + "': No such file or directory"));
}

TEST(UpdateJsonFileTest, KeepsUnknownKeysAndTheirOrder) {
    TempDir tmp;
    const fs::path f = tmp.path() / "meta.json";
    write_text(f, R"({"zeta": 1, "id": "r", "alias": "old", "custom": {"k": NaN}})");
    RUNICORN_ASSERT_OK(update_json_file(
        f,
        [](json::object& o) {
            o["alias"] = "new";
            o["tags"] = json::array{"a"};
            return true;
        },
        nullptr));
    EXPECT_EQ(slurp(f),
              "{\n  \"zeta\": 1,\n  \"id\": \"r\",\n  \"alias\": \"new\",\n  \"custom\": {\n"
              "    \"k\": NaN\n  },\n  \"tags\": [\n    \"a\"\n  ]\n}");
    EXPECT_TRUE(fs::exists(tmp.path() / "meta.json.lock"));
}

TEST(UpdateJsonFileTest, ReturningFalseWritesNothing) {
    TempDir tmp;
    const fs::path f = tmp.path() / "status.json";
    write_text(f, "{\"status\":\"finished\"}");
    RUNICORN_ASSERT_OK(update_json_file(
        f, [](json::object&) { return false; }, nullptr));
    EXPECT_EQ(slurp(f), "{\"status\":\"finished\"}");
}

TEST(LoadJsonObjectTest, DamagedFilesAreAbsentWithOneWarning) {
    TempDir tmp;
    RecordingLogger rec;
    write_text(tmp.path() / "empty.json", "");
    write_text(tmp.path() / "bad.json", "{\"status\": ");
    write_text(tmp.path() / "list.json", "[1]");
    EXPECT_FALSE(load_json_object(tmp.path() / "missing.json", rec.logger.get()).has_value());
    EXPECT_FALSE(load_json_object(tmp.path() / "empty.json", rec.logger.get()).has_value());
    EXPECT_FALSE(load_json_object(tmp.path() / "bad.json", rec.logger.get()).has_value());
    EXPECT_FALSE(load_json_object(tmp.path() / "list.json", rec.logger.get()).has_value());
    const auto p = tmp.path().string();
    EXPECT_THAT(rec.sink->messages(),
                ElementsAre("ignoring '" + p + "/empty.json': the file is empty",
                            "ignoring '" + p +
                                "/bad.json': not valid JSON: line 1, column 12: unexpected end "
                                "of input",
                            "ignoring '" + p + "/list.json': the JSON value is not an object"));
    EXPECT_EQ(slurp(tmp.path() / "bad.json"), "{\"status\": ");  // never rewritten
}

TEST(AppendFileTest, CreatedByFirstAppendAndRejectsUnterminatedBatch) {
    TempDir tmp;
    AppendFile f(tmp.path() / "events.jsonl");
    RUNICORN_ASSERT_OK(f.open_existing());
    EXPECT_FALSE(fs::exists(f.path()));
    EXPECT_THAT(f.append("{\"a\":1}"), StatusIs(StatusCode::kInvalidArgument,
                                                "appending to '" + f.path().string() +
                                                    "': the batch does not end with a newline"));
    RUNICORN_ASSERT_OK(f.append("{\"a\":1}\n{\"a\":2}\n"));
    EXPECT_TRUE(f.has_unsynced_data());
    RUNICORN_ASSERT_OK(f.sync());
    EXPECT_FALSE(f.has_unsynced_data());
    EXPECT_EQ(slurp(f.path()), "{\"a\":1}\n{\"a\":2}\n");
}

TEST(AppendFileTest, TornTailGetsExactlyOneNewline) {
    TempDir tmp;
    const fs::path p = tmp.path() / "events.jsonl";
    write_text(p, "{\"a\":1}\n{\"a\":2,\"b\":");
    {
        AppendFile f(p);
        RUNICORN_ASSERT_OK(f.open_existing());
        EXPECT_EQ(slurp(p), "{\"a\":1}\n{\"a\":2,\"b\":\n");
        RUNICORN_ASSERT_OK(f.append("{\"a\":3}\n"));
    }
    EXPECT_EQ(slurp(p), "{\"a\":1}\n{\"a\":2,\"b\":\n{\"a\":3}\n");
    // A file that already ends in a newline is left alone.
    AppendFile again(p);
    RUNICORN_ASSERT_OK(again.open_existing());
    EXPECT_EQ(slurp(p), "{\"a\":1}\n{\"a\":2,\"b\":\n{\"a\":3}\n");
}

TEST(AppendFileTest, RepairsWhenOpenedByTheFirstAppend) {
    TempDir tmp;
    const fs::path p = tmp.path() / "logs.txt";
    write_text(p, "10:00:00 | half a li");
    AppendFile f(p);
    RUNICORN_ASSERT_OK(f.append("10:00:01 | next\n"));
    EXPECT_EQ(slurp(p), "10:00:00 | half a li\n10:00:01 | next\n");
}

TEST(IoErrorTest, MapsErrnoToCodes) {
    const fs::path p = "/x/y";
    EXPECT_THAT(
        io_error(ENOSPC, "appending to", p),
        StatusIs(StatusCode::kResourceExhausted, "appending to '/x/y': No space left on device"));
    EXPECT_EQ(io_error(EDQUOT, "w", p).code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(io_error(EACCES, "w", p).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(io_error(EROFS, "w", p).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(io_error(ENOENT, "w", p).code(), StatusCode::kNotFound);
    EXPECT_EQ(io_error(EIO, "w", p).code(), StatusCode::kUnavailable);
    EXPECT_EQ(io_error(ESTALE, "w", p).code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace runicorn::storage
