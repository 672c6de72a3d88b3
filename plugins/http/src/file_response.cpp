#include "file_response.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <system_error>

#include "responses.hpp"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace runicorn::http_plugin {
namespace {

constexpr std::size_t kReadPiece = std::size_t{256} * 1024;

std::string hex(std::uint64_t v) {
    std::array<char, 17> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, 16);
    (void)ec;
    return std::string(buf.data(), end);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
    if (s.empty()) {
        return false;
    }
    const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
    return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// True when a comma-separated If-None-Match list names `etag` (weak comparison) or is "*".
bool etag_listed(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
        const std::size_t comma = header.find(',');
        std::string_view item = trim(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        if (item.starts_with("W/")) {
            item.remove_prefix(2);
        }
        if (item == "*" || item == etag) {
            return true;
        }
    }
    return false;
}

/// Streams `length` bytes of `file` from `offset`.
Status send_range(const UniqueFd& file, std::uint64_t offset, std::uint64_t length,
                  plugin::BodySink& sink) {
    std::string buffer(static_cast<std::size_t>(std::min<std::uint64_t>(length, kReadPiece)), '\0');
    while (length > 0) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(length, buffer.size()));
        const ssize_t n = ::pread(file.get(), buffer.data(), want, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Status::unavailable("reading the file failed: " +
                                       std::error_code(errno, std::generic_category()).message());
        }
        if (n == 0) {
            return Status::data_loss("the file ended " + std::to_string(length) +
                                     " bytes early (it shrank while being sent)");
        }
        if (!sink.write(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
            return Status::cancelled("the client is gone");
        }
        offset += static_cast<std::uint64_t>(n);
        length -= static_cast<std::uint64_t>(n);
    }
    return Status::ok();
}

Status open_error(int err) {
    switch (err) {
        case EXDEV:
        case ELOOP:
            return Status::permission_denied("Unsafe path");
        case ENOENT:
        case ENOTDIR:
            return Status::not_found("File not found");
        case EACCES:
        case EPERM:
            return Status::permission_denied("Permission denied");
        default:
            return Status::unavailable("cannot open the file: " +
                                       std::error_code(err, std::generic_category()).message());
    }
}

constexpr int kOpenFlags = O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;

// The fallback without openat2: every component opened with O_NOFOLLOW.
Result<UniqueFd> open_by_components(int dir_fd, std::string_view relative) {
    UniqueFd current(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
    if (!current.valid()) {
        return open_error(errno);
    }
    while (!relative.empty()) {
        const std::size_t slash = relative.find('/');
        const std::string part(relative.substr(0, slash));
        relative =
            slash == std::string_view::npos ? std::string_view() : relative.substr(slash + 1);
        if (part.empty() || part == ".") {
            continue;
        }
        if (part == "..") {
            return Status::permission_denied("Unsafe path");
        }
        UniqueFd next(::openat(current.get(), part.c_str(), kOpenFlags | O_NOFOLLOW));
        if (!next.valid()) {
            return open_error(errno);
        }
        current = std::move(next);
    }
    return current;
}

}  // namespace

Result<UniqueFd> open_beneath(int dir_fd, std::string_view relative) {
    if (relative.starts_with('/')) {
        return Status::permission_denied("Unsafe path");
    }
    const std::string path = relative.empty() ? std::string(".") : std::string(relative);
    if (path.find('\0') != std::string::npos) {
        return Status::permission_denied("Unsafe path");
    }
    open_how how{};
    how.flags = static_cast<std::uint64_t>(kOpenFlags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, dir_fd, path.c_str(), &how, sizeof(how));
    if (fd >= 0) {
        return UniqueFd(static_cast<int>(fd));
    }
    if (errno != ENOSYS && errno != EPERM) {
        return open_error(errno);
    }
    return open_by_components(dir_fd, relative);
}

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
    }
    fd_ = fd;
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_byte_range(std::string_view header,
                                                                        std::uint64_t size) {
    header = trim(header);
    if (!header.starts_with("bytes=")) {
        return std::nullopt;
    }
    header.remove_prefix(6);
    if (header.find(',') != std::string_view::npos) {
        return std::nullopt;
    }
    const std::size_t dash = header.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view first_text = trim(header.substr(0, dash));
    const std::string_view last_text = trim(header.substr(dash + 1));
    const std::pair<std::uint64_t, std::uint64_t> unsatisfiable{size, 0};
    if (first_text.empty()) {
        std::uint64_t suffix = 0;
        if (!parse_u64(last_text, suffix)) {
            return std::nullopt;
        }
        if (suffix == 0 || size == 0) {
            return unsatisfiable;
        }
        suffix = std::min(suffix, size);
        return std::pair{size - suffix, size - 1};
    }
    std::uint64_t first = 0;
    if (!parse_u64(first_text, first)) {
        return std::nullopt;
    }
    std::uint64_t last = size == 0 ? 0 : size - 1;
    if (!last_text.empty()) {
        if (!parse_u64(last_text, last)) {
            return std::nullopt;
        }
        if (last < first) {
            return std::nullopt;  // syntactically invalid: ignored (RFC 9110 §14.1.1)
        }
        last = std::min(last, size == 0 ? 0 : size - 1);
    }
    if (first >= size) {
        return unsatisfiable;
    }
    return std::pair{first, last};
}

std::string http_date(std::int64_t unix_seconds) {
    static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                         "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> kMonths = {
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (::gmtime_r(&t, &tm) == nullptr) {
        return "Thu, 01 Jan 1970 00:00:00 GMT";
    }
    std::array<char, 40> buf{};
    std::snprintf(buf.data(), buf.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                  kDays.at(static_cast<std::size_t>(tm.tm_wday)), tm.tm_mday,
                  kMonths.at(static_cast<std::size_t>(tm.tm_mon)), tm.tm_year + 1900, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
    return buf.data();
}

std::string sanitize_filename(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '/' || c == '\\') {
            out.push_back('_');
        } else if (u < 0x20 || u == 0x7f) {
            continue;
        } else {
            out.push_back(c);
        }
    }
    const std::size_t begin = out.find_first_not_of(" .");
    if (begin == std::string::npos) {
        return "";
    }
    const std::size_t end = out.find_last_not_of(" .");
    return out.substr(begin, end - begin + 1);
}

std::string content_disposition(std::string_view name) {
    if (name.empty()) {
        name = "download";
    }
    std::string ascii;
    std::string encoded;
    bool needs_extended = false;
    static constexpr std::string_view kHex = "0123456789ABCDEF";
    for (const char c : name) {
        const auto u = static_cast<unsigned char>(c);
        const bool plain = u >= 0x20 && u < 0x7f;
        if (!plain || c == '"' || c == '\\' || c == '%') {
            ascii.push_back('_');
            needs_extended = true;
        } else {
            ascii.push_back(c);
        }
        // RFC 5987 attr-char: ALPHA / DIGIT / "!#$&+-.^_`|~"
        const bool attr_char = (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') ||
                               (u >= 'a' && u <= 'z') ||
                               std::string_view("!#$&+-.^_`|~").find(c) != std::string_view::npos;
        if (attr_char) {
            encoded.push_back(c);
        } else {
            encoded.push_back('%');
            encoded.push_back(kHex[u >> 4U]);
            encoded.push_back(kHex[u & 0xFU]);
        }
    }
    std::string out = "attachment; filename=\"" + ascii + "\"";
    if (needs_extended) {
        out += "; filename*=UTF-8''" + encoded;
    }
    return out;
}

plugin::HttpResponse file_response(const plugin::HttpRequest& request,
                                   std::shared_ptr<const UniqueFd> file,
                                   const FileResponseOptions& options) {
    struct stat st {};
    if (file == nullptr || !file->valid() || ::fstat(file->get(), &st) != 0 ||
        !S_ISREG(st.st_mode)) {
        return error_response(500, "Internal error");
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::uint64_t mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1'000'000'000U +
                                   static_cast<std::uint64_t>(st.st_mtim.tv_nsec);
    const std::string etag = "\"" + hex(mtime_ns) + "-" + hex(size) + "\"";
    const std::string last_modified = http_date(st.st_mtim.tv_sec);

    plugin::HttpResponse res;
    res.content_type = options.content_type;
    res.headers.emplace_back("ETag", etag);
    res.headers.emplace_back("Last-Modified", last_modified);
    res.headers.emplace_back("Accept-Ranges", "bytes");
    if (!options.cache_control.empty()) {
        res.headers.emplace_back("Cache-Control", options.cache_control);
    }
    if (!options.disposition.empty()) {
        res.headers.emplace_back("Content-Disposition", options.disposition);
    }
    const auto inm = request.header("if-none-match");
    const auto ims = request.header("if-modified-since");
    if ((inm && etag_listed(*inm, etag)) || (!inm && ims && trim(*ims) == last_modified)) {
        res.status = 304;
        res.content_type.clear();
        return res;
    }

    std::uint64_t first = 0;
    std::uint64_t length = size;
    if (const auto range_header = request.header("range")) {
        auto range = parse_byte_range(*range_header, size);
        if (const auto if_range = request.header("if-range");
            range && if_range && trim(*if_range) != etag && trim(*if_range) != last_modified) {
            range.reset();
        }
        if (range && range->first > range->second) {
            plugin::HttpResponse bad =
                error_response(416, "RANGE_NOT_SATISFIABLE", "Range not satisfiable");
            bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
            return bad;
        }
        if (range) {
            first = range->first;
            length = range->second - range->first + 1;
            res.status = 206;
            res.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) +
                                                          "-" + std::to_string(range->second) +
                                                          "/" + std::to_string(size));
        }
    }
    res.content_length = length;
    res.stream = [file = std::move(file), first, length](plugin::BodySink& sink) {
        return send_range(*file, first, length, sink);
    };
    return res;
}

}  // namespace runicorn::http_plugin
