#include "log_tail.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::http_plugin::live {
namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::size_t kMaxLine = std::size_t{16} << 20;

/// Owns a descriptor. Thread safety: externally synchronized.
class Fd {
public:
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

Status io_error(const std::filesystem::path& p, std::string_view what) {
    return Status::unavailable(std::string(what) + " '" + p.string() +
                               "': " + std::error_code(errno, std::generic_category()).message());
}

/// Reads up to `len` bytes at `off`; returns what it got (short at end of file).
Result<std::string> read_at(int fd, std::uint64_t off, std::size_t len,
                            const std::filesystem::path& p) {
    std::string buf(len, '\0');
    std::size_t got = 0;
    while (got < len) {
        const ssize_t n = ::pread(fd, buf.data() + got, len - got, static_cast<off_t>(off + got));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error(p, "cannot read");
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    buf.resize(got);
    return buf;
}

bool blank(std::string_view s) {
    return s.find_first_not_of(" \t\r\f\v") == std::string_view::npos;
}

}  // namespace

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    const std::size_t n = s.size();
    while (i < n) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        }
        bool ok = len != 0 && i + len <= n;
        for (std::size_t k = 1; ok && k < len; ++k) {
            const auto cc = static_cast<unsigned char>(s[i + k]);
            ok = (cc & 0xC0) == 0x80;
            cp = (cp << 6) | (cc & 0x3F);
        }
        ok = ok && !((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
                     (len == 4 && cp < 0x10000) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF));
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

LogTailer::LogTailer(std::filesystem::path path) : path_(std::move(path)) {}

bool LogTailer::exists() const {
    struct stat st {};
    return ::stat(path_.c_str(), &st) == 0;
}

Status LogTailer::check_identity(bool& reset, std::uint64_t& size) {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
        if (errno != ENOENT) {
            return io_error(path_, "cannot stat");
        }
        size = 0;
        if (known_ || offset_ > 0) {
            reset = offset_ > 0;
            offset_ = 0;
            line_no_ = 0;
            known_ = false;
        }
        return Status::ok();
    }
    size = static_cast<std::uint64_t>(st.st_size);
    const auto dev = static_cast<std::uint64_t>(st.st_dev);
    const auto ino = static_cast<std::uint64_t>(st.st_ino);
    if ((known_ && (dev != dev_ || ino != ino_)) || size < offset_) {
        reset = true;
        offset_ = 0;
        line_no_ = 0;
    }
    dev_ = dev;
    ino_ = ino;
    known_ = true;
    return Status::ok();
}

Result<bool> LogTailer::start(std::optional<std::uint64_t> since, std::size_t tail,
                              bool count_lines) {
    offset_ = 0;
    line_no_ = 0;
    known_ = false;
    const Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return false;
        }
        return io_error(path_, "cannot open");
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return io_error(path_, "cannot stat");
    }
    dev_ = static_cast<std::uint64_t>(st.st_dev);
    ino_ = static_cast<std::uint64_t>(st.st_ino);
    known_ = true;
    const auto size = static_cast<std::uint64_t>(st.st_size);
    bool cut = false;
    std::uint64_t pos = 0;
    if (since) {
        pos = *since <= size ? *since : 0;
    } else {
        // Scan back from the end: the complete part ends after the last '\n'; the replay starts
        // after the (tail + 1)-th '\n' from there.
        std::uint64_t end = size;
        std::uint64_t newlines = 0;
        bool found_end = false;
        pos = 0;
        std::uint64_t scan = size;
        bool done = false;
        while (scan > 0 && !done) {
            const std::uint64_t from = scan >= kChunk ? scan - kChunk : 0;
            RUNICORN_ASSIGN_OR_RETURN(
                const std::string buf,
                read_at(fd.get(), from, static_cast<std::size_t>(scan - from), path_));
            for (std::size_t i = buf.size(); i-- > 0;) {
                if (buf[i] != '\n') {
                    continue;
                }
                if (!found_end) {
                    found_end = true;
                    end = from + i + 1;
                    newlines = 1;
                    if (tail == 0) {
                        pos = end;
                        cut = end > 0;
                        done = true;
                        break;
                    }
                    continue;
                }
                if (newlines == tail) {
                    pos = from + i + 1;
                    cut = true;
                    done = true;
                    break;
                }
                ++newlines;
            }
            scan = from;
        }
        if (!found_end) {
            pos = 0;
        }
        (void)end;
    }
    if (count_lines && pos > 0) {
        std::uint64_t lines = 0;
        for (std::uint64_t at = 0; at < pos;) {
            const std::size_t len =
                static_cast<std::size_t>(std::min<std::uint64_t>(kChunk * 16, pos - at));
            RUNICORN_ASSIGN_OR_RETURN(const std::string buf, read_at(fd.get(), at, len, path_));
            if (buf.empty()) {
                break;
            }
            lines += static_cast<std::uint64_t>(std::count(buf.begin(), buf.end(), '\n'));
            at += buf.size();
        }
        line_no_ = lines;
    }
    offset_ = pos;
    return cut;
}

Result<LogChunk> LogTailer::read(std::size_t max_bytes, bool& more) {
    more = false;
    LogChunk out;
    std::uint64_t size = 0;
    RUNICORN_RETURN_IF_ERROR(check_identity(out.reset, size));
    out.first_line = line_no_ + 1;
    out.offset = offset_;
    if (size <= offset_) {
        return out;
    }
    const Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return out;
        }
        return io_error(path_, "cannot open");
    }
    std::size_t want = std::max<std::size_t>(max_bytes, 1024);
    std::string buf;
    std::size_t last_nl = std::string::npos;
    while (true) {
        const std::size_t len =
            static_cast<std::size_t>(std::min<std::uint64_t>(want, size - offset_));
        RUNICORN_ASSIGN_OR_RETURN(buf, read_at(fd.get(), offset_, len, path_));
        last_nl = buf.rfind('\n');
        if (last_nl != std::string::npos || offset_ + buf.size() >= size) {
            break;
        }
        if (want >= kMaxLine) {
            // A line longer than 16 MiB: cut it here rather than hold it forever.
            buf.push_back('\n');
            last_nl = buf.size() - 1;
            break;
        }
        want = std::min(want * 4, kMaxLine);
    }
    if (last_nl == std::string::npos) {
        return out;  // only an unterminated line so far
    }
    const bool cut_line = last_nl == buf.size() - 1 && buf.size() > 0 &&
                          offset_ + buf.size() - 1 < size && want >= kMaxLine;
    std::string_view rest(buf.data(), last_nl + 1);
    std::uint64_t consumed = 0;
    while (!rest.empty()) {
        const std::size_t nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest.remove_prefix(nl + 1);
        consumed += nl + 1;
        ++line_no_;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (blank(line)) {
            if (out.lines.empty()) {
                out.first_line = line_no_ + 1;
            }
            continue;
        }
        out.lines.push_back(sanitize_utf8(line));
    }
    offset_ += cut_line ? consumed - 1 : consumed;
    out.offset = offset_;
    // Anything complete left? Cheap check: is there a '\n' after the new position?
    if (offset_ < size) {
        for (std::uint64_t at = offset_; at < size && !more;) {
            const std::size_t len =
                static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, size - at));
            RUNICORN_ASSIGN_OR_RETURN(const std::string probe, read_at(fd.get(), at, len, path_));
            if (probe.empty()) {
                break;
            }
            more = probe.find('\n') != std::string::npos;
            at += probe.size();
        }
    }
    return out;
}

Result<std::optional<LogChunk>> LogTailer::flush_partial() {
    LogChunk out;
    std::uint64_t size = 0;
    RUNICORN_RETURN_IF_ERROR(check_identity(out.reset, size));
    if (size <= offset_) {
        return std::optional<LogChunk>();
    }
    const Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        return std::optional<LogChunk>();
    }
    const std::size_t len =
        static_cast<std::size_t>(std::min<std::uint64_t>(size - offset_, kMaxLine));
    RUNICORN_ASSIGN_OR_RETURN(std::string buf, read_at(fd.get(), offset_, len, path_));
    if (buf.find('\n') != std::string::npos) {
        return std::optional<LogChunk>();  // complete lines first: read() handles them
    }
    out.first_line = line_no_ + 1;
    offset_ += buf.size();
    ++line_no_;
    out.offset = offset_;
    if (!buf.empty() && buf.back() == '\r') {
        buf.pop_back();
    }
    if (!blank(buf)) {
        out.lines.push_back(sanitize_utf8(buf));
    }
    return std::optional<LogChunk>(std::move(out));
}

}  // namespace runicorn::http_plugin::live
