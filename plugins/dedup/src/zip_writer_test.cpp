#include "zip_writer.hpp"

#include <cstring>
#include <map>

#include <gtest/gtest.h>

#include <runicorn/testing/status_matchers.hpp>
#include <runicorn/testing/temp_dir.hpp>

#include "dedup_test_util.hpp"
#include "dir_manifest.hpp"
#include "hardlink_blob_store.hpp"
#include "sha256.hpp"
#include <fcntl.h>
#include <zlib.h>

namespace runicorn::dedup {
namespace {

namespace fs = std::filesystem;
using runicorn::testing::StatusIs;
using runicorn::testing::TempDir;
using test_util::slurp;
using test_util::write_file;

struct ZipEntry {
    std::string data;
    std::uint16_t method = 0;
    std::uint32_t mode = 0;
};

std::uint32_t get32(const std::string& s, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) {
        v = (v << 8) | static_cast<unsigned char>(s[at + i]);
    }
    return v;
}
std::uint16_t get16(const std::string& s, std::size_t at) {
    return static_cast<std::uint16_t>(static_cast<unsigned char>(s[at]) |
                                      (static_cast<unsigned char>(s[at + 1]) << 8));
}

// A minimal reader for what ZipWriter writes: end record, central directory, local headers,
// stored or raw-deflate data with their CRC-32 checked.
std::map<std::string, ZipEntry> read_zip(const fs::path& path) {
    const auto z = slurp(path);
    std::map<std::string, ZipEntry> out;
    EXPECT_GE(z.size(), 22U);
    const auto eocd = z.size() - 22;
    EXPECT_EQ(get32(z, eocd), 0x06054b50U);
    const auto count = get16(z, eocd + 10);
    auto at = static_cast<std::size_t>(get32(z, eocd + 16));
    EXPECT_EQ(get32(z, eocd + 12), eocd - at);
    for (int i = 0; i < count; ++i) {
        EXPECT_EQ(get32(z, at), 0x02014b50U);
        ZipEntry e;
        e.method = get16(z, at + 10);
        const auto crc = get32(z, at + 16);
        const auto csize = get32(z, at + 20);
        const auto size = get32(z, at + 24);
        const auto name_len = get16(z, at + 28);
        e.mode = (get32(z, at + 38) >> 16) & 07777;
        const auto local = get32(z, at + 42);
        const std::string name = z.substr(at + 46, name_len);
        at += 46 + name_len;
        EXPECT_EQ(get32(z, local), 0x04034b50U);
        EXPECT_EQ(get32(z, local + 14), crc);
        const auto data_at = local + 30 + get16(z, local + 26) + get16(z, local + 28);
        const auto raw = z.substr(data_at, csize);
        if (e.method == 0) {
            e.data = raw;
        } else {
            e.data.resize(size);
            z_stream s{};
            inflateInit2(&s, -15);
            s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(raw.data()));
            s.avail_in = static_cast<uInt>(raw.size());
            s.next_out = reinterpret_cast<Bytef*>(e.data.data());
            s.avail_out = static_cast<uInt>(size);
            EXPECT_EQ(inflate(&s, Z_FINISH), Z_STREAM_END);
            inflateEnd(&s);
        }
        EXPECT_EQ(crc32(0, reinterpret_cast<const Bytef*>(e.data.data()),
                        static_cast<uInt>(e.data.size())),
                  crc)
            << name;
        out.emplace(name, std::move(e));
    }
    return out;
}

class ExportZipTest : public ::testing::TestWithParam<bool> {
protected:
    TempDir dir_;
    HardlinkBlobStore store_{dir_.path() / "store"};
};

TEST_P(ExportZipTest, ExportsEveryFileOfAManifest) {
    const auto ds = dir_.path() / "ds";
    std::string big(3 * kChunkBytes + 99, '\0');
    for (std::size_t i = 0; i < big.size(); ++i) {
        big[i] = static_cast<char>((i * 7) % 256);
    }
    write_file(ds / "train.csv", "a,b\n1,2\n");
    write_file(ds / "labels" / "y.txt", "cat\n");
    write_file(ds / "empty", "");
    write_file(ds / "big.bin", big);
    write_file(ds / "bin" / "run.sh", "#!/bin/sh\n");
    ::chmod((ds / "bin" / "run.sh").c_str(), 0755);
    auto build = store_.store_directory(ds);
    ASSERT_TRUE(build.has_value()) << build.error();
    const auto zip = dir_.path() / "out.zip";
    ASSERT_OK(store_.export_manifest_zip(build->manifest, zip, {.deflate = GetParam()}));
    const auto entries = read_zip(zip);
    ASSERT_EQ(entries.size(), 5U);
    EXPECT_EQ(entries.at("train.csv").data, "a,b\n1,2\n");
    EXPECT_EQ(entries.at("labels/y.txt").data, "cat\n");
    EXPECT_EQ(entries.at("empty").data, "");
    EXPECT_TRUE(entries.at("big.bin").data == big);
    EXPECT_EQ(entries.at("bin/run.sh").mode, 0755U);
    EXPECT_EQ(entries.at("train.csv").mode, 0644U);
    EXPECT_EQ(entries.at("train.csv").method, GetParam() ? 8 : 0);
    EXPECT_EQ(test_util::count_temp_files(dir_.path()), 0);
}

INSTANTIATE_TEST_SUITE_P(StoredAndDeflated, ExportZipTest, ::testing::Bool());

TEST(ZipWriterTest, CorruptBlobAbortsTheExportAndLeavesNoZip) {
    TempDir dir;
    HardlinkBlobStore store(dir.path() / "store");
    write_file(dir.path() / "ds" / "a.txt", "hello");
    auto build = store.store_directory(dir.path() / "ds");
    ASSERT_TRUE(build.has_value());
    const auto blob = *store.blob_path(build->manifest.files[0].sha256);
    ::chmod(blob.c_str(), 0644);
    write_file(blob, "hellx");
    const auto zip = dir.path() / "out.zip";
    EXPECT_THAT(store.export_manifest_zip(build->manifest, zip, {}),
                StatusIs(StatusCode::kDataLoss,
                         "exporting 'a.txt': blob " + build->manifest.files[0].sha256 +
                             " is corrupt: its bytes hash to " + sha256_hex("hellx")));
    EXPECT_FALSE(fs::exists(zip));
    EXPECT_TRUE(fs::is_empty(dir.path()) == false);
    for (const auto& e : fs::directory_iterator(dir.path())) {
        EXPECT_FALSE(e.path().filename().string().ends_with(".tmp")) << e.path();
    }
}

}  // namespace
}  // namespace runicorn::dedup
