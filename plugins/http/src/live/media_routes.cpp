#include "media_routes.hpp"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <optional>
#include <utility>

#include "../http_router.hpp"
#include "../responses.hpp"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace runicorn::http_plugin::live {
namespace {

/// Largest media file served (it is read into memory: the route API has no streaming body yet).
constexpr std::int64_t kMaxMediaBytes = std::int64_t{256} << 20;

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

plugin::HttpResponse unsafe_path() { return error_response(403, "UNSAFE_PATH", "Unsafe path"); }

plugin::HttpResponse file_not_found() {
    return error_response(404, "FILE_NOT_FOUND", "File not found");
}

/// Opens `name` below `dir_fd`, never leaving it: openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS) where the kernel has it, else openat(O_NOFOLLOW) (one component).
int open_beneath(int dir_fd, const char* name) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
    if (fd >= 0) {
        return static_cast<int>(fd);
    }
    if (errno != ENOSYS && errno != EPERM) {
        return -1;
    }
    return ::openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
}

/// Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range against `size`. nullopt: ignore
/// the header (malformed or several ranges: the whole file is sent); {-1,-1}: unsatisfiable.
std::optional<std::pair<std::int64_t, std::int64_t>> parse_range(std::string_view h,
                                                                 std::int64_t size) {
    if (!h.starts_with("bytes=")) {
        return std::nullopt;
    }
    h.remove_prefix(6);
    if (h.find(',') != std::string_view::npos) {
        return std::nullopt;
    }
    const auto dash = h.find('-');
    if (dash == std::string_view::npos) {
        return std::nullopt;
    }
    const auto num = [](std::string_view s, std::int64_t& out) {
        const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size() && out >= 0;
    };
    std::int64_t a = 0;
    std::int64_t b = 0;
    const std::string_view first = h.substr(0, dash);
    const std::string_view last = h.substr(dash + 1);
    if (first.empty()) {
        if (!num(last, b)) {
            return std::nullopt;
        }
        if (b == 0 || size == 0) {
            return std::make_pair(std::int64_t{-1}, std::int64_t{-1});
        }
        return std::make_pair(std::max<std::int64_t>(0, size - b), size - 1);
    }
    if (!num(first, a)) {
        return std::nullopt;
    }
    if (last.empty()) {
        b = size - 1;
    } else if (!num(last, b) || b < a) {
        return std::nullopt;
    }
    if (a >= size) {
        return std::make_pair(std::int64_t{-1}, std::int64_t{-1});
    }
    return std::make_pair(a, std::min(b, size - 1));
}

bool etag_matches(std::string_view header, std::string_view etag) {
    while (!header.empty()) {
        const auto comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (item.starts_with("W/")) {
            item.remove_prefix(2);
        }
        if (item == "*" || item == etag) {
            return true;
        }
        if (comma == std::string_view::npos) {
            break;
        }
        header.remove_prefix(comma + 1);
    }
    return false;
}

plugin::HttpResponse media_file(const LiveServices& s, const plugin::HttpRequest& req) {
    if (s.runs == nullptr) {
        return storage_missing();
    }
    const std::string run_id = req.param("run_id").value_or("");
    const std::string file = req.param("file").value_or("");
    if (!safe_media_name(file)) {
        return unsafe_path();
    }
    auto run = s.runs->find_run(run_id, false);
    if (!run) {
        return failure_response(run.error(), "path", *s.logger, "media of " + run_id);
    }
    const Fd dir(::open((run->location.dir / "media").c_str(),
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
    if (dir.get() < 0) {
        return errno == ELOOP || errno == ENOTDIR ? unsafe_path() : file_not_found();
    }
    const Fd fd(open_beneath(dir.get(), file.c_str()));
    if (fd.get() < 0) {
        if (errno == ENOENT) {
            return file_not_found();
        }
        if (errno == EXDEV || errno == ELOOP) {
            return unsafe_path();
        }
        return file_not_found();
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return file_not_found();
    }
    const std::int64_t size = st.st_size;
    if (size > kMaxMediaBytes) {
        return error_response(413, "PAYLOAD_TOO_LARGE", "Media file too large");
    }
    char tag[96];
    std::snprintf(tag, sizeof(tag), "\"%llx-%llx-%llx\"",
                  static_cast<unsigned long long>(st.st_ino),
                  static_cast<unsigned long long>(st.st_mtim.tv_sec) * 1000000000ULL +
                      static_cast<unsigned long long>(st.st_mtim.tv_nsec),
                  static_cast<unsigned long long>(size));
    const std::string etag = tag;
    plugin::HttpResponse res;
    res.headers.emplace_back("ETag", etag);
    res.headers.emplace_back("Cache-Control", "private, max-age=31536000, immutable");
    res.headers.emplace_back("Accept-Ranges", "bytes");
    if (auto inm = req.header("if-none-match"); inm && etag_matches(*inm, etag)) {
        res.status = 304;
        res.content_type.clear();
        return res;
    }
    std::string data(static_cast<std::size_t>(size), '\0');
    std::size_t got = 0;
    while (got < data.size()) {
        const ssize_t n =
            ::pread(fd.get(), data.data() + got, data.size() - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    data.resize(got);
    const std::string type = image_type_by_signature(std::string_view(data).substr(0, 16));
    if (type.empty()) {
        res.content_type = "application/octet-stream";
        res.headers.emplace_back("Content-Disposition", "attachment");
    } else {
        res.content_type = type;
    }
    const auto total = static_cast<std::int64_t>(data.size());
    std::optional<std::pair<std::int64_t, std::int64_t>> range;
    if (auto h = req.header("range")) {
        range = parse_range(*h, total);
        if (auto ir = req.header("if-range"); ir && range && *ir != etag) {
            range.reset();
        }
    }
    if (range && range->first < 0) {
        plugin::HttpResponse bad =
            error_response(416, "RANGE_NOT_SATISFIABLE", "Range not satisfiable");
        bad.headers.emplace_back("Content-Range", "bytes */" + std::to_string(total));
        return bad;
    }
    res.status = 200;
    if (range) {
        res.status = 206;
        res.headers.emplace_back("Content-Range", "bytes " + std::to_string(range->first) + "-" +
                                                      std::to_string(range->second) + "/" +
                                                      std::to_string(total));
        res.body = data.substr(static_cast<std::size_t>(range->first),
                               static_cast<std::size_t>(range->second - range->first + 1));
    } else {
        res.body = std::move(data);
    }
    return res;
}

plugin::HttpResponse media_list(const LiveServices& s, const plugin::HttpRequest& req) {
    if (s.series == nullptr) {
        return storage_missing();
    }
    plugin::MediaQuery q;
    q.key = req.query_value("key");
    if (auto bad = query_int(req, "step_min", q.step_min)) {
        return std::move(*bad);
    }
    if (auto bad = query_int(req, "step_max", q.step_max)) {
        return std::move(*bad);
    }
    std::optional<std::int64_t> limit;
    if (auto bad = query_int(req, "limit", limit)) {
        return std::move(*bad);
    }
    q.limit = limit.value_or(200);
    q.cursor = req.query_value("cursor").value_or("");
    const std::string run_id = req.param("run_id").value_or("");
    auto out = s.series->media(run_id, q);
    if (!out) {
        return failure_response(out.error(), "query", *s.logger, "media list of " + run_id);
    }
    return with_etag(req, json_response(200, *out));
}

}  // namespace

std::string image_type_by_signature(std::string_view head) {
    if (head.starts_with("\x89PNG\r\n\x1a\n")) {
        return "image/png";
    }
    if (head.starts_with("\xFF\xD8\xFF")) {
        return "image/jpeg";
    }
    if (head.starts_with("GIF87a") || head.starts_with("GIF89a")) {
        return "image/gif";
    }
    if (head.size() >= 12 && head.starts_with("RIFF") && head.substr(8, 4) == "WEBP") {
        return "image/webp";
    }
    if (head.size() >= 14 && head.starts_with("BM")) {
        return "image/bmp";
    }
    return "";
}

bool safe_media_name(std::string_view name) {
    if (name.empty() || name == "." || name == "..") {
        return false;
    }
    if (name.find_first_of(std::string_view("/\\\0", 3)) != std::string_view::npos) {
        return false;
    }
    if (name.size() >= 2 && name[1] == ':' &&
        ((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z'))) {
        return false;
    }
    return true;
}

Status add_media_routes(plugin::HttpRoutes& routes, const LiveServices& services) {
    const auto s = std::make_shared<const LiveServices>(services);
    plugin::RouteSpec list{"GET", "/api/runs/:run_id/media", "Images logged by a run", false};
    list.tags = {"media"};
    list.parameters = {{"key", "query", false, "string", ""},
                       {"step_min", "query", false, "integer", ""},
                       {"step_max", "query", false, "integer", ""},
                       {"limit", "query", false, "integer", "1..1000"},
                       {"cursor", "query", false, "string", ""}};
    RUNICORN_RETURN_IF_ERROR(routes.add_route(
        list, make_handler([s](const plugin::HttpRequest& r) { return media_list(*s, r); })));
    plugin::RouteSpec file{"GET", "/api/runs/:run_id/media/:file", "One image file", false};
    file.tags = {"media"};
    return routes.add_route(
        file, make_handler([s](const plugin::HttpRequest& r) { return media_file(*s, r); }));
}

}  // namespace runicorn::http_plugin::live
