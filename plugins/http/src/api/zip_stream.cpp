#include "zip_stream.hpp"

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <limits>
#include <system_error>

#include <unistd.h>
#include <zlib.h>

namespace runicorn::http_plugin::api {
namespace {

constexpr std::uint32_t kLocalHeaderSig = 0x04034b50;
constexpr std::uint32_t kDescriptorSig = 0x08074b50;
constexpr std::uint32_t kCentralSig = 0x02014b50;
constexpr std::uint32_t kZip64EndSig = 0x06064b50;
constexpr std::uint32_t kZip64LocatorSig = 0x07064b50;
constexpr std::uint32_t kEndSig = 0x06054b50;
constexpr std::uint16_t kFlags = (1U << 3U) | (1U << 11U);  // data descriptor, UTF-8 names
constexpr std::uint16_t kVersion20 = 20;
constexpr std::uint16_t kVersion45 = 45;  // ZIP64
constexpr std::uint16_t kMadeByUnix = (3U << 8U) | kVersion45;
constexpr std::uint32_t kMax32 = 0xFFFFFFFFU;
constexpr std::uint16_t kMax16 = 0xFFFFU;
constexpr std::size_t kMaxName = 4096;
constexpr std::size_t kReadPiece = std::size_t{256} * 1024;

void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFFU));
    out.push_back(static_cast<char>((v >> 8U) & 0xFFU));
}

void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) {
        out.push_back(static_cast<char>((v >> (8U * static_cast<unsigned>(i))) & 0xFFU));
    }
}

void put64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) {
        out.push_back(static_cast<char>((v >> (8U * static_cast<unsigned>(i))) & 0xFFU));
    }
}

std::uint32_t clamp32(std::uint64_t v) {
    return v >= kMax32 ? kMax32 : static_cast<std::uint32_t>(v);
}

// MS-DOS date and time (local time, 2-second resolution, 1980..2107).
void dos_time(std::int64_t mtime, std::uint16_t& time, std::uint16_t& date) {
    const std::time_t t = static_cast<std::time_t>(mtime);
    std::tm tm{};
    if (mtime < 315532800 || ::localtime_r(&t, &tm) == nullptr || tm.tm_year < 80) {
        time = 0;
        date = (1U << 5U) | 1U;  // 1980-01-01
        return;
    }
    const int year = std::min(tm.tm_year - 80, 127);
    time = static_cast<std::uint16_t>((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
    date = static_cast<std::uint16_t>((year << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

std::uint32_t crc_update(std::uint32_t crc, std::string_view bytes) {
    while (!bytes.empty()) {
        const auto n = static_cast<uInt>(
            std::min<std::size_t>(bytes.size(), std::numeric_limits<uInt>::max()));
        crc = static_cast<std::uint32_t>(
            ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), n));
        bytes.remove_prefix(n);
    }
    return crc;
}

}  // namespace

bool valid_zip_entry_name(std::string_view name) {
    if (name.empty() || name.size() > kMaxName || name.front() == '/') {
        return false;
    }
    if (name.size() >= 2 && name[1] == ':') {
        return false;  // a drive letter
    }
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\\' || u < 0x20 || u == 0x7f) {
            return false;
        }
    }
    std::size_t start = 0;
    while (start <= name.size()) {
        std::size_t slash = name.find('/', start);
        if (slash == std::string_view::npos) {
            slash = name.size();
        }
        const std::string_view segment = name.substr(start, slash - start);
        if (segment.empty() || segment == "." || segment == "..") {
            return false;
        }
        start = slash + 1;
    }
    return true;
}

Status ZipStreamWriter::put(std::string_view bytes) {
    if (failed_) {
        return Status::failed_precondition("the zip stream already failed");
    }
    if (!sink_.write(bytes)) {
        failed_ = true;
        return Status::cancelled("the client is gone");
    }
    offset_ += bytes.size();
    return Status::ok();
}

Status ZipStreamWriter::begin_entry(std::string_view name, std::uint64_t size, std::int64_t mtime,
                                    bool executable, Entry& entry) {
    if (finished_ || failed_) {
        return Status::failed_precondition("the zip stream is finished or failed");
    }
    if (!valid_zip_entry_name(name)) {
        failed_ = true;
        return Status::invalid_argument("unsafe zip entry name '" + std::string(name) + "'");
    }
    entry.name = std::string(name);
    entry.size = size;
    entry.offset = offset_;
    entry.mode = executable ? 0100755U : 0100644U;
    entry.zip64 = size >= kMax32;
    dos_time(mtime, entry.dos_time, entry.dos_date);

    std::string header;
    header.reserve(30 + name.size() + 20);
    put32(header, kLocalHeaderSig);
    put16(header, entry.zip64 ? kVersion45 : kVersion20);
    put16(header, kFlags);
    put16(header, 0);  // stored
    put16(header, entry.dos_time);
    put16(header, entry.dos_date);
    put32(header, 0);  // CRC-32, sizes: in the data descriptor
    put32(header, entry.zip64 ? kMax32 : 0);
    put32(header, entry.zip64 ? kMax32 : 0);
    put16(header, static_cast<std::uint16_t>(name.size()));
    put16(header, entry.zip64 ? 20 : 0);
    header.append(name);
    if (entry.zip64) {
        put16(header, 0x0001);
        put16(header, 16);
        put64(header, 0);
        put64(header, 0);
    }
    return put(header);
}

Status ZipStreamWriter::end_entry(Entry entry) {
    std::string descriptor;
    put32(descriptor, kDescriptorSig);
    put32(descriptor, entry.crc);
    if (entry.zip64) {
        put64(descriptor, entry.size);
        put64(descriptor, entry.size);
    } else {
        put32(descriptor, static_cast<std::uint32_t>(entry.size));
        put32(descriptor, static_cast<std::uint32_t>(entry.size));
    }
    Status s = put(descriptor);
    if (s.is_ok()) {
        entries_.push_back(std::move(entry));
    }
    return s;
}

Status ZipStreamWriter::add_file(std::string_view name, int fd, std::uint64_t size,
                                 std::int64_t mtime, bool executable) {
    Entry entry;
    RUNICORN_RETURN_IF_ERROR(begin_entry(name, size, mtime, executable, entry));
    std::string buffer(static_cast<std::size_t>(std::min<std::uint64_t>(size, kReadPiece)), '\0');
    std::uint64_t done = 0;
    std::uint32_t crc = 0;
    while (done < size) {
        const auto want =
            static_cast<std::size_t>(std::min<std::uint64_t>(size - done, buffer.size()));
        const ssize_t n = ::pread(fd, buffer.data(), want, static_cast<off_t>(done));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            failed_ = true;
            return Status::unavailable("reading '" + entry.name + "' failed: " +
                                       std::error_code(errno, std::generic_category()).message());
        }
        if (n == 0) {
            failed_ = true;
            return Status::data_loss("'" + entry.name + "' ended after " + std::to_string(done) +
                                     " of " + std::to_string(size) + " bytes");
        }
        const std::string_view piece(buffer.data(), static_cast<std::size_t>(n));
        crc = crc_update(crc, piece);
        RUNICORN_RETURN_IF_ERROR(put(piece));
        done += static_cast<std::uint64_t>(n);
    }
    entry.crc = crc;
    return end_entry(std::move(entry));
}

Status ZipStreamWriter::add_bytes(std::string_view name, std::string_view bytes,
                                  std::int64_t mtime) {
    Entry entry;
    RUNICORN_RETURN_IF_ERROR(begin_entry(name, bytes.size(), mtime, false, entry));
    entry.crc = crc_update(0, bytes);
    if (!bytes.empty()) {
        RUNICORN_RETURN_IF_ERROR(put(bytes));
    }
    return end_entry(std::move(entry));
}

Status ZipStreamWriter::finish() {
    if (finished_ || failed_) {
        return Status::failed_precondition("the zip stream is finished or failed");
    }
    finished_ = true;
    const std::uint64_t cd_start = offset_;
    std::string out;
    for (const Entry& e : entries_) {
        out.clear();
        std::string extra;
        if (e.size >= kMax32) {
            put64(extra, e.size);  // uncompressed
            put64(extra, e.size);  // compressed
        }
        if (e.offset >= kMax32) {
            put64(extra, e.offset);
        }
        const bool zip64 = !extra.empty() || e.zip64;
        put32(out, kCentralSig);
        put16(out, kMadeByUnix);
        put16(out, zip64 ? kVersion45 : kVersion20);
        put16(out, kFlags);
        put16(out, 0);
        put16(out, e.dos_time);
        put16(out, e.dos_date);
        put32(out, e.crc);
        put32(out, clamp32(e.size));
        put32(out, clamp32(e.size));
        put16(out, static_cast<std::uint16_t>(e.name.size()));
        put16(out, static_cast<std::uint16_t>(extra.empty() ? 0 : extra.size() + 4));
        put16(out, 0);  // comment
        put16(out, 0);  // disk
        put16(out, 0);  // internal attributes
        put32(out, e.mode << 16U);
        put32(out, clamp32(e.offset));
        out.append(e.name);
        if (!extra.empty()) {
            put16(out, 0x0001);
            put16(out, static_cast<std::uint16_t>(extra.size()));
            out.append(extra);
        }
        RUNICORN_RETURN_IF_ERROR(put(out));
    }
    const std::uint64_t cd_size = offset_ - cd_start;
    const std::uint64_t count = entries_.size();
    out.clear();
    if (count >= kMax16 || cd_size >= kMax32 || cd_start >= kMax32) {
        const std::uint64_t zip64_end = offset_;
        put32(out, kZip64EndSig);
        put64(out, 44);  // size of the rest of this record
        put16(out, kMadeByUnix);
        put16(out, kVersion45);
        put32(out, 0);  // this disk
        put32(out, 0);  // disk of the central directory
        put64(out, count);
        put64(out, count);
        put64(out, cd_size);
        put64(out, cd_start);
        put32(out, kZip64LocatorSig);
        put32(out, 0);
        put64(out, zip64_end);
        put32(out, 1);  // total disks
    }
    put32(out, kEndSig);
    put16(out, 0);
    put16(out, 0);
    put16(out, static_cast<std::uint16_t>(std::min<std::uint64_t>(count, kMax16)));
    put16(out, static_cast<std::uint16_t>(std::min<std::uint64_t>(count, kMax16)));
    put32(out, clamp32(cd_size));
    put32(out, clamp32(cd_start));
    put16(out, 0);  // comment
    return put(out);
}

}  // namespace runicorn::http_plugin::api
