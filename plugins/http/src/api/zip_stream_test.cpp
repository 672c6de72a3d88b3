// The streaming zip writer: archives it writes are read back by Python's zipfile (an independent
// reader) and checked entry by entry; ZIP64 is exercised by entry count and by a 4 GiB entry
// written from a sparse file into a sparse file.

#include "zip_stream.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/temp_dir.hpp>

#include "../file_response.hpp"
#include <fcntl.h>
#include <unistd.h>

namespace runicorn::http_plugin::api {
namespace {

namespace fs = std::filesystem;

/// Collects the bytes in memory. Thread safety: externally synchronized.
class StringSink final : public plugin::BodySink {
public:
    bool write(std::string_view bytes) override {
        if (refuse_after_ && out.size() + bytes.size() > *refuse_after_) {
            return false;
        }
        out.append(bytes);
        return true;
    }
    void refuse_after(std::size_t n) { refuse_after_ = n; }
    std::string out;

private:
    std::optional<std::size_t> refuse_after_;
};

/// Writes to a file, leaving runs of zero bytes as holes (so a 4 GiB entry of zeros costs no
/// disk). Thread safety: externally synchronized.
class SparseFileSink final : public plugin::BodySink {
public:
    explicit SparseFileSink(const fs::path& path)
        : fd_(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) {}
    bool write(std::string_view bytes) override {
        static const std::string kZeros(std::size_t{1} << 20, '\0');
        const bool zeros = bytes.size() <= kZeros.size() &&
                           std::memcmp(bytes.data(), kZeros.data(), bytes.size()) == 0;
        if (!zeros && ::pwrite(fd_.get(), bytes.data(), bytes.size(),
                               static_cast<off_t>(offset_)) != static_cast<ssize_t>(bytes.size())) {
            return false;
        }
        offset_ += bytes.size();
        return true;
    }
    bool close() { return ::ftruncate(fd_.get(), static_cast<off_t>(offset_)) == 0; }

private:
    UniqueFd fd_;
    std::uint64_t offset_ = 0;
};

std::string run_python(const std::string& script, const fs::path& zip) {
    const fs::path script_file = zip.string() + ".py";
    std::ofstream(script_file) << script;
    const std::string cmd = std::string(RUNICORN_PYTHON3) + " '" + script_file.string() + "' '" +
                            zip.string() + "' 2>&1";
    std::string out;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    if (pipe == nullptr) {
        return "popen failed";
    }
    std::array<char, 4096> buf{};
    while (std::fgets(buf.data(), buf.size(), pipe) != nullptr) {
        out += buf.data();
    }
    const int rc = ::pclose(pipe);
    return rc == 0 ? out : "exit " + std::to_string(rc) + ": " + out;
}

class ZipStreamTest : public ::testing::Test {
protected:
    void SetUp() override {
        if (std::string(RUNICORN_PYTHON3).empty()) {
            GTEST_SKIP() << "no python3 to read the archives back";
        }
    }
    fs::path write_zip(const std::string& bytes) {
        const fs::path p = tmp_.path() / "out.zip";
        std::ofstream(p, std::ios::binary) << bytes;
        return p;
    }
    testing::TempDir tmp_;
};

TEST_F(ZipStreamTest, PythonReadsWhatItWrites) {
    const fs::path file = tmp_.path() / "w.bin";
    std::string big(700'000, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>(i * 31 % 251);
    }
    std::ofstream(file, std::ios::binary) << big;
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));

    StringSink sink;
    ZipStreamWriter zip(sink);
    ASSERT_TRUE(zip.add_bytes("a.txt", "hello\n", 1736935200).is_ok());
    ASSERT_TRUE(zip.add_bytes("empty", "", 1736935200).is_ok());
    ASSERT_TRUE(zip.add_file("dir/sub/w.bin", fd.get(), big.size(), 1736935200, true).is_ok());
    ASSERT_TRUE(zip.add_bytes("数据/ü.txt", "unicode", 0).is_ok());
    ASSERT_TRUE(zip.finish().is_ok());
    EXPECT_EQ(zip.bytes_written(), sink.out.size());

    const std::string out = run_python(R"(
import sys, zipfile, stat
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in z.infolist():
    print(i.filename, i.file_size, i.compress_type, oct(stat.S_IMODE(i.external_attr >> 16)))
print(z.read('a.txt') == b'hello\n', z.read('empty') == b'', z.read('数据/ü.txt') == b'unicode')
w = z.read('dir/sub/w.bin')
print(len(w), all(w[i] == i * 31 % 251 for i in range(len(w))))
)",
                                       write_zip(sink.out));
    EXPECT_EQ(out,
              "a.txt 6 0 0o644\n"
              "empty 0 0 0o644\n"
              "dir/sub/w.bin 700000 0 0o755\n"
              "数据/ü.txt 7 0 0o644\n"
              "True True True\n"
              "700000 True\n");
}

TEST_F(ZipStreamTest, UnsafeNamesAreRefused) {
    for (const std::string& bad :
         std::vector<std::string>{"", "/etc/passwd", "../x", "a/../../x", "a//b", "./a", "a\\b",
                                  "C:x", std::string("a\0b", 3), "a\nb", "a/"}) {
        EXPECT_FALSE(valid_zip_entry_name(bad)) << bad;
        StringSink sink;
        ZipStreamWriter zip(sink);
        EXPECT_EQ(zip.add_bytes(bad, "x", 0).code(), StatusCode::kInvalidArgument) << bad;
    }
    for (const std::string good : {"a", "a/b.txt", ".gitignore", "x..y", "数据/ü"}) {
        EXPECT_TRUE(valid_zip_entry_name(good)) << good;
    }
}

TEST_F(ZipStreamTest, ShortFileAndGoneClientFail) {
    const fs::path file = tmp_.path() / "short.bin";
    std::ofstream(file, std::ios::binary) << std::string(10, 'x');
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    {
        StringSink sink;
        ZipStreamWriter zip(sink);
        EXPECT_EQ(zip.add_file("f", fd.get(), 20, 0).code(), StatusCode::kDataLoss);
        EXPECT_FALSE(zip.finish().is_ok());  // unusable after an error
    }
    {
        StringSink sink;
        sink.refuse_after(40);
        ZipStreamWriter zip(sink);
        EXPECT_EQ(zip.add_file("f", fd.get(), 10, 0).code(), StatusCode::kCancelled);
    }
}

TEST_F(ZipStreamTest, Zip64ForManyEntries) {
    StringSink sink;
    ZipStreamWriter zip(sink);
    constexpr int kCount = 70'000;  // over the 65,535 a plain end record can count
    for (int i = 0; i < kCount; ++i) {
        ASSERT_TRUE(zip.add_bytes("f" + std::to_string(i), std::to_string(i), 0).is_ok());
    }
    ASSERT_TRUE(zip.finish().is_ok());
    const std::string out = run_python(R"(
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
n = z.infolist()
print(len(n), z.read('f69999'), z.read('f0'))
)",
                                       write_zip(sink.out));
    EXPECT_EQ(out, "70000 b'69999' b'0'\n");
}

TEST_F(ZipStreamTest, Zip64ForAnEntryOver4GiB) {
    // A sparse input of 4 GiB + 1 bytes, zipped into a sparse archive: the big entry needs ZIP64
    // sizes, and the entry after it a ZIP64 offset.
    const fs::path big = tmp_.path() / "big.bin";
    const std::uint64_t size = (std::uint64_t{1} << 32) + 1;
    {
        UniqueFd fd(::open(big.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        ASSERT_EQ(::ftruncate(fd.get(), static_cast<off_t>(size)), 0);
    }
    UniqueFd in(::open(big.c_str(), O_RDONLY | O_CLOEXEC));
    const fs::path out_zip = tmp_.path() / "big.zip";
    SparseFileSink sink(out_zip);
    ZipStreamWriter zip(sink);
    ASSERT_TRUE(zip.add_bytes("first.txt", "first", 0).is_ok());
    ASSERT_TRUE(zip.add_file("big.bin", in.get(), size, 0).is_ok());
    ASSERT_TRUE(zip.add_bytes("after.txt", "after the big one", 0).is_ok());
    ASSERT_TRUE(zip.finish().is_ok());
    ASSERT_TRUE(sink.close());
    const std::string out = run_python(R"(
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    print(i.filename, i.file_size, i.header_offset > 0xFFFFFFFF)
print(z.read('after.txt'), z.read('first.txt'))
)",
                                       out_zip);
    EXPECT_EQ(out,
              "first.txt 5 False\n"
              "big.bin 4294967297 False\n"
              "after.txt 17 True\n"
              "b'after the big one' b'first'\n");
}

}  // namespace
}  // namespace runicorn::http_plugin::api
