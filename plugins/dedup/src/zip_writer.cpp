#include "zip_writer.hpp"

#include <array>
#include <ctime>
#include <limits>

#include "sha256.hpp"
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMax32 = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint16_t kUtf8Flag = 0x0800;
constexpr std::uint16_t kVersionNeeded = 20;
constexpr std::uint16_t kVersionMadeBy = (3 << 8) | 20;  // 3 = Unix attributes

void put16(std::string& out, std::uint16_t v) {
    out += static_cast<char>(v & 0xFF);
    out += static_cast<char>(v >> 8);
}
void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out += static_cast<char>((v >> (8 * i)) & 0xFF);
    }
}

/// Owns a zlib deflate stream. Thread safety: externally synchronized.
class Deflater {
public:
    Deflater() = default;
    ~Deflater() {
        if (active_) {
            deflateEnd(&z_);
        }
    }
    Deflater(const Deflater&) = delete;
    Deflater& operator=(const Deflater&) = delete;
    Deflater(Deflater&&) = delete;
    Deflater& operator=(Deflater&&) = delete;

    bool init() {
        // Raw deflate (negative window bits): a zip entry has no zlib header or trailer.
        active_ = deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8,
                               Z_DEFAULT_STRATEGY) == Z_OK;
        return active_;
    }
    z_stream& stream() { return z_; }

private:
    z_stream z_{};
    bool active_ = false;
};

}  // namespace

ZipWriter::ZipWriter(fs::path path, fs::path temp, UniqueFd fd)
    : path_(std::move(path)), temp_(std::move(temp)), fd_(std::move(fd)) {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&now, &tm);
    dos_time_ = static_cast<std::uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    dos_date_ = static_cast<std::uint16_t>(((std::max(tm.tm_year, 80) - 80) << 9) |
                                           ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

ZipWriter::~ZipWriter() {
    if (!finished_ && fd_.valid()) {
        ::unlink(temp_.c_str());
    }
}

Result<ZipWriter> ZipWriter::create(const fs::path& path) {
    const auto temp =
        path.parent_path() / ("." + path.filename().string() + "." + random_hex(12) + ".tmp");
    RUNICORN_ASSIGN_OR_RETURN(auto fd, open_fd(temp, O_WRONLY | O_CREAT | O_EXCL, 0666));
    return ZipWriter(path, temp, std::move(fd));
}

Status ZipWriter::write(const void* data, std::size_t n) {
    RUNICORN_RETURN_IF_ERROR(write_all(fd_.get(), data, n, temp_));
    offset_ += n;
    return Status::ok();
}

Status ZipWriter::add(std::string_view name, int src_fd, unsigned mode, bool deflate,
                      std::string_view expected_sha256) {
    if (entries_.size() >= 0xFFFF) {
        return Status::out_of_range("zip '" + path_.string() +
                                    "': more than 65535 entries need ZIP64, which is not written");
    }
    if (offset_ > kMax32) {
        return Status::out_of_range("zip '" + path_.string() +
                                    "': larger than 4 GiB needs ZIP64, which is not written");
    }
    Entry e;
    e.name = std::string(name);
    e.method = deflate ? 8 : 0;
    e.offset = static_cast<std::uint32_t>(offset_);
    e.mode = mode;

    std::string header;
    put32(header, 0x04034b50);
    put16(header, kVersionNeeded);
    put16(header, kUtf8Flag);
    put16(header, e.method);
    put16(header, dos_time_);
    put16(header, dos_date_);
    put32(header, 0);  // crc, sizes: patched once the data is written
    put32(header, 0);
    put32(header, 0);
    put16(header, static_cast<std::uint16_t>(e.name.size()));
    put16(header, 0);
    header += e.name;
    RUNICORN_RETURN_IF_ERROR(write(header.data(), header.size()));
    const std::uint64_t data_start = offset_;

    RUNICORN_ASSIGN_OR_RETURN(auto hash, Sha256::create());
    Deflater deflater;
    if (deflate && !deflater.init()) {
        return Status::internal("zlib cannot start a deflate stream");
    }
    std::vector<unsigned char> in(kChunkBytes);
    std::vector<unsigned char> out(deflate ? kChunkBytes : 0);
    std::uint64_t size = 0;
    uLong crc = crc32(0L, Z_NULL, 0);
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(auto n, read_some(src_fd, in.data(), in.size(), path_));
        size += n;
        if (size > kMax32) {
            return Status::out_of_range("zip '" + path_.string() + "': entry '" + e.name +
                                        "' is 4 GiB or more and needs ZIP64, which is not written");
        }
        crc = crc32(crc, in.data(), static_cast<uInt>(n));
        hash.update(in.data(), n);
        if (!deflate) {
            if (n == 0) {
                break;
            }
            RUNICORN_RETURN_IF_ERROR(write(in.data(), n));
            continue;
        }
        auto& z = deflater.stream();
        z.next_in = in.data();
        z.avail_in = static_cast<uInt>(n);
        const int flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
        int rc = Z_OK;
        do {
            z.next_out = out.data();
            z.avail_out = static_cast<uInt>(out.size());
            rc = ::deflate(&z, flush);
            if (rc == Z_STREAM_ERROR) {
                return Status::internal("zlib deflate failed on '" + e.name + "'");
            }
            RUNICORN_RETURN_IF_ERROR(write(out.data(), out.size() - z.avail_out));
        } while (z.avail_out == 0);
        if (n == 0) {
            break;
        }
    }
    if (!expected_sha256.empty()) {
        const auto got = hash.hex_digest();
        if (got != expected_sha256) {
            return Status::data_loss("blob " + std::string(expected_sha256) +
                                     " is corrupt: its bytes hash to " + got);
        }
    }
    const std::uint64_t compressed = offset_ - data_start;
    if (compressed > kMax32 || offset_ > kMax32) {
        return Status::out_of_range("zip '" + path_.string() +
                                    "': larger than 4 GiB needs ZIP64, which is not written");
    }
    e.crc = static_cast<std::uint32_t>(crc);
    e.size = static_cast<std::uint32_t>(size);
    e.compressed = static_cast<std::uint32_t>(compressed);
    std::string patch;
    put32(patch, e.crc);
    put32(patch, e.compressed);
    put32(patch, e.size);
    if (::pwrite(fd_.get(), patch.data(), patch.size(), static_cast<off_t>(e.offset) + 14) !=
        static_cast<ssize_t>(patch.size())) {
        return errno_status("cannot write", temp_, errno);
    }
    entries_.push_back(std::move(e));
    return Status::ok();
}

Status ZipWriter::finish() {
    const std::uint64_t cd_start = offset_;
    std::string cd;
    for (const auto& e : entries_) {
        put32(cd, 0x02014b50);
        put16(cd, kVersionMadeBy);
        put16(cd, kVersionNeeded);
        put16(cd, kUtf8Flag);
        put16(cd, e.method);
        put16(cd, dos_time_);
        put16(cd, dos_date_);
        put32(cd, e.crc);
        put32(cd, e.compressed);
        put32(cd, e.size);
        put16(cd, static_cast<std::uint16_t>(e.name.size()));
        put16(cd, 0);  // extra
        put16(cd, 0);  // comment
        put16(cd, 0);  // disk
        put16(cd, 0);  // internal attributes
        put32(cd, (0100000U | (e.mode & 07777U)) << 16);
        put32(cd, e.offset);
        cd += e.name;
    }
    if (cd_start + cd.size() > kMax32) {
        return Status::out_of_range("zip '" + path_.string() +
                                    "': larger than 4 GiB needs ZIP64, which is not written");
    }
    put32(cd, 0x06054b50);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, static_cast<std::uint16_t>(entries_.size()));
    put16(cd, static_cast<std::uint16_t>(entries_.size()));
    put32(cd, static_cast<std::uint32_t>(cd.size() - 0));  // patched below
    put32(cd, static_cast<std::uint32_t>(cd_start));
    put16(cd, 0);
    // The directory size excludes the 22-byte end record itself.
    const auto dir_size = static_cast<std::uint32_t>(cd.size() - 22);
    for (int i = 0; i < 4; ++i) {
        cd[cd.size() - 10 + i] = static_cast<char>((dir_size >> (8 * i)) & 0xFF);
    }
    RUNICORN_RETURN_IF_ERROR(write(cd.data(), cd.size()));
    if (::fsync(fd_.get()) != 0) {
        return errno_status("cannot fsync", temp_, errno);
    }
    fd_.reset();
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp_.c_str());
        return errno_status("cannot rename the zip into place", path_, err);
    }
    finished_ = true;
    return Status::ok();
}

}  // namespace runicorn::dedup
