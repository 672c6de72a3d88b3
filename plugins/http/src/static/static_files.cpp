#include "static_files.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <utility>
#include <vector>

#include "../responses.hpp"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace runicorn::http_plugin {
namespace {

constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

/// Owns a file descriptor. Thread safety: externally synchronized.
class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }
    ~Fd() { reset(); }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

Status unsafe() { return Status::permission_denied("Unsafe path"); }

// openat2 with RESOLVE_BENEATH: -1 with errno ENOSYS where the kernel lacks it.
int open_beneath(int dirfd, const std::string& relative) {
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, relative.c_str(), &how, sizeof(how)));
}

// The fallback: every component opened with O_NOFOLLOW, so no symlink is followed at all.
Result<Fd> open_by_components(int dirfd, const std::string& relative) {
    Fd current(::dup(dirfd));
    if (current.get() < 0) {
        return Status::internal("dup failed");
    }
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = relative.find('/', start);
        const std::string part = relative.substr(start, slash - start);
        const bool last = slash == std::string::npos;
        const int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? 0 : O_DIRECTORY);
        Fd next(::openat(current.get(), part.c_str(), flags));
        if (next.get() < 0) {
            if (errno == ELOOP) {
                return unsafe();
            }
            return Status::not_found("Not Found");
        }
        current = std::move(next);
        if (last) {
            return current;
        }
        start = slash + 1;
    }
}

bool is_drive_letter(std::string_view s) {
    return s.size() == 2 && std::isalpha(static_cast<unsigned char>(s[0])) != 0 && s[1] == ':';
}

std::string to_lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// True when Accept-Encoding allows `coding` (a q of 0 refuses it).
bool accepts_encoding(std::string_view header, std::string_view coding) {
    std::string_view rest = header;
    while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        const std::size_t semi = item.find(';');
        std::string_view name = item.substr(0, semi);
        while (!name.empty() && name.front() == ' ') {
            name.remove_prefix(1);
        }
        while (!name.empty() && name.back() == ' ') {
            name.remove_suffix(1);
        }
        if (to_lower(name) != coding) {
            continue;
        }
        if (semi == std::string_view::npos) {
            return true;
        }
        std::string params = to_lower(item.substr(semi + 1));
        params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
        if (!params.starts_with("q=")) {
            return true;
        }
        return std::strtod(params.c_str() + 2, nullptr) > 0.0;
    }
    return false;
}

bool accepts_html(const plugin::HttpRequest& request) {
    const auto accept = request.header("accept");
    return accept && (accept->find("text/html") != std::string::npos ||
                      accept->find("text/*") != std::string::npos ||
                      accept->find("*/*") != std::string::npos);
}

std::string hex(std::uint64_t v) {
    std::array<char, 17> buf{};
    std::snprintf(buf.data(), buf.size(), "%llx", static_cast<unsigned long long>(v));
    return buf.data();
}

std::string http_date(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    std::array<char, 64> buf{};
    const std::size_t n = std::strftime(buf.data(), buf.size(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf.data(), n);
}

std::optional<std::int64_t> parse_http_date(const std::string& text) {
    std::tm tm{};
    const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    return static_cast<std::int64_t>(::timegm(&tm));
}

// Weak comparison of an If-None-Match list against `etag` (RFC 9110 §13.1.2).
bool etag_matches(std::string_view header, std::string_view etag) {
    const auto strip = [](std::string_view s) {
        while (!s.empty() && s.front() == ' ') {
            s.remove_prefix(1);
        }
        while (!s.empty() && s.back() == ' ') {
            s.remove_suffix(1);
        }
        if (s.starts_with("W/")) {
            s.remove_prefix(2);
        }
        return s;
    };
    const std::string_view want = strip(etag);
    std::string_view rest = header;
    while (!rest.empty()) {
        const std::size_t comma = rest.find(',');
        const std::string_view item = strip(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
        if (item == "*" || item == want) {
            return true;
        }
    }
    return false;
}

bool excluded_from_fallback(std::string_view path) {
    return path == "/api" || path.starts_with("/api/") || path == "/openapi.json" ||
           path == "/docs" || path.starts_with("/docs/");
}

}  // namespace

std::filesystem::path web_root(const std::filesystem::path& plugin_dir,
                               std::optional<std::string> env_dist) {
    if (env_dist && !env_dist->empty()) {
        return std::filesystem::path(*env_dist);
    }
    return plugin_dir / "web";
}

std::string_view mime_type(std::string_view file_name) {
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 24> kTypes = {{
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".txt", "text/plain; charset=utf-8"},
        {".xml", "application/xml"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},
        {".webp", "image/webp"},
        {".avif", "image/avif"},
        {".ico", "image/x-icon"},
        {".woff", "font/woff"},
        {".woff2", "font/woff2"},
        {".ttf", "font/ttf"},
        {".otf", "font/otf"},
        {".wasm", "application/wasm"},
        {".pdf", "application/pdf"},
    }};
    const std::size_t dot = file_name.rfind('.');
    const std::size_t slash = file_name.rfind('/');
    if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
        return "application/octet-stream";
    }
    const std::string ext = to_lower(file_name.substr(dot));
    for (const auto& [e, type] : kTypes) {
        if (e == ext) {
            return type;
        }
    }
    return "application/octet-stream";
}

std::optional<std::string> safe_relative_path(std::string_view decoded_path) {
    if (decoded_path.empty() || decoded_path.front() != '/' ||
        decoded_path.find('\\') != std::string_view::npos ||
        decoded_path.find('\0') != std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view rest = decoded_path.substr(1);
    if (rest.empty()) {
        return std::string("index.html");
    }
    std::string out;
    bool first = true;
    while (true) {
        const std::size_t slash = rest.find('/');
        const std::string_view seg = rest.substr(0, slash);
        const bool last = slash == std::string_view::npos;
        if ((seg.empty() && !last) || seg == "." || seg == ".." ||
            (first && is_drive_letter(seg))) {
            return std::nullopt;
        }
        if (seg.empty()) {
            out += "index.html";  // "/dir/": its index page, if any
        } else {
            out += seg;
        }
        if (last) {
            return out;
        }
        out += '/';
        rest = rest.substr(slash + 1);
        first = false;
    }
}

Result<OpenedFile> read_file_beneath(const std::filesystem::path& dir,
                                     const std::string& relative) {
    Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (root.get() < 0) {
        return Status::not_found("Not Found");
    }
    Fd file(open_beneath(root.get(), relative));
    if (file.get() < 0) {
        if (errno == ENOSYS || errno == EPERM) {
            RUNICORN_ASSIGN_OR_RETURN(file, open_by_components(root.get(), relative));
        } else if (errno == EXDEV || errno == ELOOP) {
            return unsafe();
        } else {
            return Status::not_found("Not Found");
        }
    }
    struct stat st {};
    if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return Status::not_found("Not Found");
    }
    OpenedFile out;
    out.mtime = static_cast<std::int64_t>(st.st_mtime);
    out.size = static_cast<std::uint64_t>(st.st_size);
    out.content.resize(out.size);
    std::size_t done = 0;
    while (done < out.content.size()) {
        const ssize_t n = ::read(file.get(), out.content.data() + done, out.content.size() - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    out.content.resize(done);
    out.size = done;
    return out;
}

StaticFiles::StaticFiles(std::filesystem::path root,
                         std::shared_ptr<plugin::RouteHandler> no_ui_page)
    : root_(std::move(root)), no_ui_page_(std::move(no_ui_page)) {}

plugin::HttpResponse StaticFiles::serve(const plugin::HttpRequest& request,
                                        const std::string& relative, OpenedFile file,
                                        std::string_view encoding) {
    plugin::HttpResponse r;
    r.content_type = std::string(mime_type(relative));
    const std::string etag = "W/\"" + hex(static_cast<std::uint64_t>(file.mtime)) + "-" +
                             hex(file.size) +
                             (encoding.empty() ? "" : "-" + std::string(encoding)) + "\"";
    r.headers.emplace_back("ETag", etag);
    r.headers.emplace_back("Last-Modified", http_date(file.mtime));
    r.headers.emplace_back(
        "Cache-Control",
        std::string(relative.starts_with("assets/") ? kImmutable : std::string_view("no-cache")));
    r.headers.emplace_back("Vary", "Accept-Encoding");
    bool not_modified = false;
    if (auto inm = request.header("if-none-match")) {
        not_modified = etag_matches(*inm, etag);
    } else if (auto ims = request.header("if-modified-since")) {
        const auto since = parse_http_date(*ims);
        not_modified = since && file.mtime <= *since;
    }
    if (not_modified) {
        r.status = 304;
        r.content_type.clear();
        return r;
    }
    if (!encoding.empty()) {
        r.headers.emplace_back("Content-Encoding", std::string(encoding));
    }
    r.body = std::move(file.content);
    return r;
}

plugin::HttpResponse StaticFiles::handle(const plugin::HttpRequest& request) {
    const auto relative = safe_relative_path(request.path);
    if (!relative) {
        return error_response(403, "Unsafe path");
    }
    const std::string accept_encoding = request.header("accept-encoding").value_or("");
    for (const auto& [coding, suffix] :
         {std::pair<std::string_view, std::string_view>{"br", ".br"}, {"gzip", ".gz"}}) {
        if (!accepts_encoding(accept_encoding, coding)) {
            continue;
        }
        auto compressed = read_file_beneath(root_, *relative + std::string(suffix));
        if (compressed) {
            return serve(request, *relative, std::move(*compressed), coding);
        }
    }
    auto file = read_file_beneath(root_, *relative);
    if (file) {
        return serve(request, *relative, std::move(*file), "");
    }
    if (file.error().code() == StatusCode::kPermissionDenied) {
        return error_response(403, "Unsafe path");
    }
    if (excluded_from_fallback(request.path) || (request.path != "/" && !accepts_html(request))) {
        return error_response(404, "Not Found");
    }
    // The single-page-app fallback: the UI's router handles the path.
    auto index = read_file_beneath(root_, "index.html");
    if (index) {
        plugin::HttpResponse r = serve(request, "index.html", std::move(*index), "");
        return r;
    }
    if (no_ui_page_ != nullptr) {
        return no_ui_page_->handle(request);
    }
    return error_response(404, "Not Found");
}

}  // namespace runicorn::http_plugin
