#include "hardlink_blob_store.hpp"

#include <atomic>
#include <cerrno>
#include <thread>

#include <gtest/gtest.h>

#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "blob_layout.hpp"
#include "dedup_test_util.hpp"
#include "sha256.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace runicorn::plugin {
std::ostream& operator<<(std::ostream& os, MaterializeMethod m) {
    return os << materialize_method_name(m);
}
}  // namespace runicorn::plugin

namespace runicorn::dedup {
namespace {

namespace fs = std::filesystem;
using plugin::MaterializeMethod;
using runicorn::testing::IsOkAndHolds;
using runicorn::testing::StatusIs;
using runicorn::testing::TempDir;
using test_util::lstat_of;
using test_util::slurp;
using test_util::write_file;

const std::string hello = "hello";
const std::string hello_sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

/// Makes every link() fail with one errno (the link limit, a filesystem without hard links).
/// Thread safety: safe for concurrent use.
class FailingLinkOps : public FileOpsWrapper {
public:
    explicit FailingLinkOps(int err) : FileOpsWrapper(FileOps::posix()), err_(err) {}
    int link(const fs::path& /*from*/, const fs::path& /*to*/) override {
        ++calls;
        return err_;
    }
    std::atomic<int> calls{0};

private:
    int err_;
};

/// Runs `hook` when the store tries to reflink (after it opened the source, before it copies),
/// then reports no reflink support. Thread safety: externally synchronized.
class ReflinkHookOps : public FileOpsWrapper {
public:
    explicit ReflinkHookOps(std::function<void()> hook)
        : FileOpsWrapper(FileOps::posix()), hook_(std::move(hook)) {}
    int reflink(int /*dst_fd*/, int /*src_fd*/) override {
        hook_();
        return EOPNOTSUPP;
    }

private:
    std::function<void()> hook_;
};

class HardlinkBlobStoreTest : public ::testing::Test {
protected:
    fs::path root() const { return dir_.path() / "store"; }
    fs::path src(const std::string& name) const { return dir_.path() / "src" / name; }
    fs::path blob(const std::string& sha) const { return *dedup::blob_path(root(), sha); }

    TempDir dir_;
    HardlinkBlobStore store_{dir_.path() / "store"};
};

TEST_F(HardlinkBlobStoreTest, PutStoresAReadOnlyBlobNamedByItsHash) {
    write_file(src("a.txt"), hello);
    auto r = store_.put_file(src("a.txt"), {});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->sha256, hello_sha);
    EXPECT_EQ(r->size_bytes, 5U);
    EXPECT_FALSE(r->deduplicated);
    EXPECT_EQ(slurp(blob(hello_sha)), hello);
    EXPECT_EQ(lstat_of(blob(hello_sha)).st_mode & 07777, 0444U);
    // The user's file is never linked into the store.
    EXPECT_NE(lstat_of(blob(hello_sha)).st_ino, lstat_of(src("a.txt")).st_ino);
    EXPECT_EQ(test_util::count_temp_files(root()), 0);
    EXPECT_THAT(store_.contains(hello_sha), IsOkAndHolds(true));
}

TEST_F(HardlinkBlobStoreTest, DedupHitStoresOnce) {
    write_file(src("a"), hello);
    write_file(src("b"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    auto second = store_.put_file(src("b"), {});
    ASSERT_TRUE(second.has_value()) << second.error();
    EXPECT_TRUE(second->deduplicated);
    EXPECT_EQ(second->sha256, hello_sha);
    auto stats = store_.stats();
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->blob_count, 1U);
    EXPECT_EQ(stats->bytes_stored, 5U);
    EXPECT_EQ(stats->temp_files, 0U);
}

TEST_F(HardlinkBlobStoreTest, DedupHitRefreshesTheBlobMtime) {
    write_file(src("a"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    test_util::set_mtime(blob(hello_sha), 1000);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    EXPECT_GT(lstat_of(blob(hello_sha)).st_mtim.tv_sec, 1000);
}

TEST_F(HardlinkBlobStoreTest, ConcurrentPutsFromFourProcessesMakeOneBlob) {
    std::string data(3 * kChunkBytes + 5, 'x');
    for (std::size_t i = 0; i < data.size(); i += 4096) {
        data[i] = static_cast<char>(i / 4096);
    }
    const auto sha = sha256_hex(data);
    for (int i = 0; i < 4; ++i) {
        write_file(src("f" + std::to_string(i)), data);
    }
    // The children block on a pipe until the parent closes it, so all four start together.
    int gate[2];
    ASSERT_EQ(::pipe(gate), 0);
    std::vector<pid_t> children;
    for (int i = 0; i < 4; ++i) {
        const pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            ::close(gate[1]);
            char c = 0;
            (void)::read(gate[0], &c, 1);
            HardlinkBlobStore store(root());
            auto r = store.put_file(src("f" + std::to_string(i)), {});
            if (!r.has_value()) {
                std::fprintf(stderr, "child %d: %s\n", i, r.error().to_string().c_str());
            }
            ::_exit(r.has_value() && r->sha256 == sha ? 0 : 1);
        }
        children.push_back(pid);
    }
    ::close(gate[0]);
    ::close(gate[1]);
    for (pid_t pid : children) {
        int status = 0;
        ASSERT_EQ(::waitpid(pid, &status, 0), pid);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    auto stats = store_.stats();
    ASSERT_TRUE(stats.has_value());
    EXPECT_EQ(stats->blob_count, 1U);
    EXPECT_EQ(stats->bytes_stored, data.size());
    EXPECT_EQ(test_util::count_temp_files(root()), 0);
    EXPECT_THAT(sha256_file(blob(sha)), IsOkAndHolds(sha));
}

TEST_F(HardlinkBlobStoreTest, SourceRewrittenAfterOpenIsNamedByTheStoredBytes) {
    // Large enough for the streaming path (small files are read whole into memory first).
    write_file(src("a"), std::string(2 * kChunkBytes, 'a'));
    const std::string rewritten = "changed while storing " + std::string(2 * kChunkBytes, 'b');
    HardlinkBlobStore::Options options;
    // The store has opened the source when it tries to reflink; rewrite the same inode then.
    options.ops = std::make_shared<ReflinkHookOps>([&] {
        const int fd = ::open(src("a").c_str(), O_WRONLY | O_TRUNC);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::write(fd, rewritten.data(), rewritten.size()),
                  static_cast<ssize_t>(rewritten.size()));
        ::close(fd);
    });
    HardlinkBlobStore store(root(), options);
    auto r = store.put_file(src("a"), {});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->sha256, sha256_hex(rewritten));
    EXPECT_EQ(slurp(blob(r->sha256)), rewritten);
}

TEST_F(HardlinkBlobStoreTest, SourceGrowingDuringPutIsNamedByTheStoredBytes) {
    write_file(src("a"), std::string(4 * kChunkBytes, 'a'));
    std::atomic<bool> done{false};
    std::jthread writer([&] {
        const int fd = ::open(src("a").c_str(), O_WRONLY | O_APPEND);
        const std::string more(4096, 'b');
        for (int i = 0; i < 2000 && !done; ++i) {
            (void)::write(fd, more.data(), more.size());
        }
        ::close(fd);
    });
    auto r = store_.put_file(src("a"), {});
    done = true;
    writer.join();
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_THAT(sha256_file(blob(r->sha256)), IsOkAndHolds(r->sha256));
}

TEST_F(HardlinkBlobStoreTest, CorruptExistingBlobIsQuarantinedAndReplaced) {
    write_file(src("a"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    ::chmod(blob(hello_sha).c_str(), 0644);
    write_file(blob(hello_sha), "hellx");
    auto r = store_.put_file(src("a"), {});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_FALSE(r->deduplicated);
    EXPECT_EQ(slurp(blob(hello_sha)), hello);
    std::vector<fs::path> quarantined;
    for (const auto& e : fs::directory_iterator(root() / "archive" / "quarantine")) {
        quarantined.push_back(e.path());
    }
    ASSERT_EQ(quarantined.size(), 1U);
    EXPECT_EQ(slurp(quarantined[0]), "hellx");
    EXPECT_TRUE(quarantined[0].filename().string().starts_with(hello_sha + "."));
}

TEST_F(HardlinkBlobStoreTest, SymlinkUnderABlobNameIsQuarantinedAndReplaced) {
    write_file(src("a"), hello);
    write_file(dir_.path() / "elsewhere", hello);
    fs::create_directories(blob(hello_sha).parent_path());
    fs::create_symlink(dir_.path() / "elsewhere", blob(hello_sha));
    auto r = store_.put_file(src("a"), {});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_TRUE(S_ISREG(lstat_of(blob(hello_sha)).st_mode));
    EXPECT_EQ(slurp(dir_.path() / "elsewhere"), hello);
}

TEST_F(HardlinkBlobStoreTest, FastPathTrustsAKnownHashWhenTheBlobHasTheSize) {
    write_file(src("a"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    // Same size, other bytes: the fast path does not read the source, so it answers the hash
    // the caller vouched for. (A caller passes only a hash it computed over that file.)
    write_file(src("b"), "HELLO");
    test_util::set_mtime(blob(hello_sha), 1000);
    auto r = store_.put_file(src("b"), {.known_sha256 = hello_sha});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_TRUE(r->deduplicated);
    EXPECT_EQ(r->sha256, hello_sha);
    EXPECT_GT(lstat_of(blob(hello_sha)).st_mtim.tv_sec, 1000);
    // A known hash with another size is ignored: the bytes are hashed.
    write_file(src("c"), "hello!");
    auto c = store_.put_file(src("c"), {.known_sha256 = hello_sha});
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->sha256, sha256_hex("hello!"));
}

TEST_F(HardlinkBlobStoreTest, PutManyStoresEveryFileInOrder) {
    std::vector<fs::path> paths;
    for (int i = 0; i < 24; ++i) {
        paths.push_back(src("f" + std::to_string(i)));
        write_file(paths.back(), "content " + std::to_string(i % 8));
    }
    auto r = store_.put_many(paths);
    ASSERT_TRUE(r.has_value()) << r.error();
    ASSERT_EQ(r->size(), paths.size());
    for (int i = 0; i < 24; ++i) {
        EXPECT_EQ((*r)[i].sha256, sha256_hex("content " + std::to_string(i % 8)));
    }
    EXPECT_EQ(store_.stats()->blob_count, 8U);
}

TEST_F(HardlinkBlobStoreTest, PutManyFailsNamingTheMissingFile) {
    write_file(src("a"), hello);
    std::vector<fs::path> paths = {src("a"), src("missing")};
    EXPECT_THAT(store_.put_many(paths).error(),
                StatusIs(StatusCode::kNotFound, "cannot open '" + src("missing").string() +
                                                    "': No such file or directory"));
}

TEST_F(HardlinkBlobStoreTest, PutBytesStoresTheBytes) {
    const std::string text = "bytes";
    auto r = store_.put_bytes(std::as_bytes(std::span(text.data(), text.size())));
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(r->sha256, sha256_hex(text));
    EXPECT_EQ(slurp(blob(r->sha256)), text);
}

TEST_F(HardlinkBlobStoreTest, PutRejectsMissingAndNonRegularSources) {
    EXPECT_THAT(store_.put_file(src("none"), {}).error(),
                StatusIs(StatusCode::kNotFound,
                         "cannot open '" + src("none").string() + "': No such file or directory"));
    fs::create_directories(src("dir"));
    EXPECT_THAT(store_.put_file(src("dir"), {}).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "cannot store '" + src("dir").string() + "': not a regular file"));
}

TEST_F(HardlinkBlobStoreTest, PublishesByRenameWhereHardLinksAreRefused) {
    HardlinkBlobStore::Options options;
    auto ops = std::make_shared<FailingLinkOps>(EPERM);
    options.ops = ops;
    HardlinkBlobStore store(root(), options);
    write_file(src("a"), hello);
    auto r = store.put_file(src("a"), {});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_EQ(ops->calls, 1);
    EXPECT_EQ(slurp(blob(hello_sha)), hello);
    EXPECT_EQ(test_util::count_temp_files(root()), 0);
}

TEST_F(HardlinkBlobStoreTest, MaterializeHardLinksTheReadOnlyBlob) {
    write_file(src("a"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    const auto dest = dir_.path() / "out" / "sub" / "a.txt";
    EXPECT_THAT(store_.materialize(hello_sha, dest, {}),
                IsOkAndHolds(MaterializeMethod::kHardLink));
    EXPECT_EQ(lstat_of(dest).st_ino, lstat_of(blob(hello_sha)).st_ino);
    EXPECT_EQ(lstat_of(dest).st_mode & 07777, 0444U);
    auto stats = store_.stats();
    EXPECT_EQ(stats->bytes_stored, 5U);
    EXPECT_EQ(stats->bytes_saved_by_links, 5U);
}

TEST_F(HardlinkBlobStoreTest, MaterializeCopiesAcrossFilesystems) {
    const fs::path shm = "/dev/shm";
    if (!fs::is_directory(shm) || lstat_of(shm).st_dev == lstat_of(dir_.path()).st_dev) {
        GTEST_SKIP() << "/dev/shm is missing or on the same filesystem as " << dir_.path().string();
    }
    write_file(src("a"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    const auto dest = shm / ("rn-dedup-test-" + std::to_string(::getpid())) / "a.txt";
    auto r = store_.materialize(hello_sha, dest, {});
    ASSERT_TRUE(r.has_value()) << r.error();
    EXPECT_NE(*r, MaterializeMethod::kHardLink);
    EXPECT_EQ(slurp(dest), hello);
    EXPECT_EQ(lstat_of(dest).st_mode & 07777, 0444U);
    fs::remove_all(dest.parent_path());
}

TEST_F(HardlinkBlobStoreTest, MaterializeCopiesAtTheLinkLimit) {
    write_file(src("a"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    for (int err : {EMLINK, EXDEV, EPERM, ENOTSUP}) {
        HardlinkBlobStore::Options options;
        auto ops = std::make_shared<FailingLinkOps>(err);
        options.ops = ops;
        HardlinkBlobStore store(root(), options);
        const auto dest = dir_.path() / "out" / ("a-" + std::to_string(err));
        EXPECT_THAT(store.materialize(hello_sha, dest, {}), IsOkAndHolds(MaterializeMethod::kCopy))
            << errno_text(err);
        EXPECT_EQ(ops->calls, 1);
        EXPECT_EQ(slurp(dest), hello);
        EXPECT_EQ(lstat_of(dest).st_mode & 07777, 0444U);
        EXPECT_NE(lstat_of(dest).st_ino, lstat_of(blob(hello_sha)).st_ino);
    }
}

TEST_F(HardlinkBlobStoreTest, MaterializeWithoutLinkGivesAnIndependentWritableCopy) {
    write_file(src("a"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    const auto dest = dir_.path() / "out" / "a.txt";
    EXPECT_THAT(store_.materialize(hello_sha, dest, {.link = false}),
                IsOkAndHolds(MaterializeMethod::kCopy));
    EXPECT_NE(lstat_of(dest).st_mode & 0200, 0U);
    write_file(dest, "edited");
    EXPECT_EQ(slurp(blob(hello_sha)), hello);
}

TEST_F(HardlinkBlobStoreTest, MaterializeRefusesAnExistingDestinationUnlessOverwriting) {
    write_file(src("a"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    const auto dest = dir_.path() / "out" / "a.txt";
    write_file(dest, "old");
    EXPECT_THAT(store_.materialize(hello_sha, dest, {}).error(),
                StatusIs(StatusCode::kAlreadyExists, "'" + dest.string() + "' already exists"));
    EXPECT_THAT(store_.materialize(hello_sha, dest, {.overwrite = true}),
                IsOkAndHolds(MaterializeMethod::kHardLink));
    EXPECT_EQ(slurp(dest), hello);
    EXPECT_THAT(store_.materialize(hello_sha, dest, {.link = false, .overwrite = true}),
                IsOkAndHolds(MaterializeMethod::kCopy));
}

TEST_F(HardlinkBlobStoreTest, MaterializeNeverCopiesACorruptBlob) {
    write_file(src("a"), hello);
    ASSERT_TRUE(store_.put_file(src("a"), {}).has_value());
    ::chmod(blob(hello_sha).c_str(), 0644);
    write_file(blob(hello_sha), "hellx");
    const auto dest = dir_.path() / "out" / "a.txt";
    EXPECT_THAT(
        store_.materialize(hello_sha, dest, {.link = false}).error(),
        StatusIs(StatusCode::kDataLoss,
                 "blob " + hello_sha + " is corrupt: its bytes hash to " + sha256_hex("hellx")));
    EXPECT_FALSE(fs::exists(dest));
    EXPECT_TRUE(fs::is_empty(dest.parent_path()));
}

TEST_F(HardlinkBlobStoreTest, MaterializeRejectsBadAndMissingNames) {
    EXPECT_THAT(store_.materialize("../../etc/passwd", dir_.path() / "x", {}).error(),
                StatusIs(StatusCode::kInvalidArgument,
                         "'../../etc/passwd' is not a SHA-256 (64 lower-case hex digits)"));
    EXPECT_THAT(store_.materialize(hello_sha, dir_.path() / "x", {}).error(),
                StatusIs(StatusCode::kNotFound, "blob " + hello_sha + " does not exist"));
}

TEST_F(HardlinkBlobStoreTest, BeginWriteHoldsTheSharedLock) {
    auto lease = store_.begin_write();
    ASSERT_TRUE(lease.has_value()) << lease.error();
    EXPECT_TRUE(fs::exists(root() / "archive" / ".gc.lock"));
    // A second writer shares it.
    auto second = store_.begin_write();
    EXPECT_TRUE(second.has_value());
}

}  // namespace
}  // namespace runicorn::dedup
