#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/result.hpp>

namespace runicorn::http_plugin {

/// Owns one file descriptor (closed on destruction). Thread safety: the descriptor may be read
/// with pread() from several threads; reset() is externally synchronized.
class UniqueFd {
public:
    explicit UniqueFd(int fd = -1) noexcept : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }
    void reset(int fd = -1) noexcept;
    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }

private:
    int fd_;
};

/// Opens `relative` ("" or "." for the directory itself) beneath the directory `dir_fd` without
/// ever leaving it (API.md §1.4): openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) where the
/// kernel has it, else component by component with O_NOFOLLOW (no symlink followed at all).
/// Opened O_RDONLY | O_NONBLOCK (a FIFO does not block), close-on-exec.
/// PERMISSION_DENIED "Unsafe path" when resolving would leave the directory (a ".." or a symlink
/// out) or when `relative` is absolute; NOT_FOUND "File not found" when a component is missing;
/// PERMISSION_DENIED "Permission denied" on EACCES; UNAVAILABLE on other errors.
Result<UniqueFd> open_beneath(int dir_fd, std::string_view relative);

/// How file_response() labels the file.
struct FileResponseOptions {
    std::string content_type = "application/octet-stream";
    /// The Content-Disposition value (content_disposition()); "" sends none.
    std::string disposition;
    std::string cache_control = "no-cache";
};

/// Serves an open regular file as a streamed body (HttpResponse::stream) with the validators
/// and byte ranges of RFC 9110: a strong ETag "<mtime ns hex>-<size hex>", Last-Modified,
/// Accept-Ranges: bytes. If-None-Match naming the ETag (or "*") gives 304; without
/// If-None-Match, an If-Modified-Since equal to Last-Modified gives 304. One range
/// ("bytes=a-b", "bytes=a-", "bytes=-n") gives 206 with Content-Range; a range that starts past
/// the end (or a zero-length suffix) gives 416 {"detail": "Range not satisfiable"} with
/// Content-Range: bytes */<size>; several ranges or a malformed header give the whole file (200),
/// as does an If-Range that names neither the ETag nor Last-Modified. The producer reads the
/// descriptor with pread() from the offset it needs and fails (truncated transfer) when the file
/// ends early. The bytes sent are those of the file at fstat() time.
/// `file` must be open for reading; an fstat() failure or a non-regular file gives 500.
plugin::HttpResponse file_response(const plugin::HttpRequest& request,
                                   std::shared_ptr<const UniqueFd> file,
                                   const FileResponseOptions& options);

/// Parses a Range header against a file of `size` bytes (single range only). nullopt: serve
/// the whole file (no "bytes=" unit, several ranges, malformed numbers); a pair {first, last}
/// (inclusive) on success; {size, 0} (first > last) when unsatisfiable.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_byte_range(std::string_view header,
                                                                        std::uint64_t size);

/// The IMF-fixdate form of a Unix time ("Sun, 06 Nov 1994 08:49:37 GMT"), locale-free.
std::string http_date(std::int64_t unix_seconds);

/// A download name made safe for a header and a file system (API.md §2.2): '/' and '\' become
/// '_', control characters (and DEL) are dropped, surrounding spaces and dots are trimmed; ""
/// when nothing is left.
std::string sanitize_filename(std::string_view name);

/// `attachment; filename="<ASCII fallback>"` plus `; filename*=UTF-8''<percent-encoded>` (RFC
/// 5987/6266) when the name holds non-ASCII bytes or characters the quoted form cannot carry.
/// `name` should already be sanitize_filename()'d; an empty one gives "download".
std::string content_disposition(std::string_view name);

}  // namespace runicorn::http_plugin
