#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/result.hpp>

namespace runicorn::http_plugin {

/// The web UI's directory: RUNICORN_FRONTEND_DIST when `env_dist` is set and non-empty, else
/// `<plugin_dir>/web` (API.md §5).
std::filesystem::path web_root(const std::filesystem::path& plugin_dir,
                               std::optional<std::string> env_dist);

/// The Content-Type for a file name by its extension ("text/javascript; charset=utf-8" for .js,
/// ...); application/octet-stream when unknown.
std::string_view mime_type(std::string_view file_name);

/// How a request path maps into the UI directory: the relative path to open ("index.html" for
/// "/"), nullopt when the path is unsafe (a "." or ".." segment, an empty segment, a backslash,
/// NUL, a drive letter). The path is the percent-decoded one.
std::optional<std::string> safe_relative_path(std::string_view decoded_path);

/// A regular file opened under a directory without leaving it: openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS) where the kernel has it, else component by component with O_NOFOLLOW.
/// PERMISSION_DENIED "Unsafe path" when resolving would leave `dir` (.., absolute symlinks,
/// symlinks out); NOT_FOUND when missing or not a regular file.
struct OpenedFile {
    std::string content;
    std::int64_t mtime = 0;  ///< Seconds since the epoch.
    std::uint64_t size = 0;
};
Result<OpenedFile> read_file_beneath(const std::filesystem::path& dir, const std::string& relative);

/// Serves the built web UI from `root` (API.md §5, STYLE.md rule 30): MIME types, a weak ETag
/// W/"<mtime hex>-<size hex>" with 304 for If-None-Match (and If-Modified-Since without it),
/// pre-compressed `.br`/`.gz` siblings per Accept-Encoding with Vary, `public, max-age=31536000,
/// immutable` under assets/ and `no-cache` elsewhere, the single-page-app fallback to index.html
/// for GETs that accept text/html outside /api, /openapi.json and /docs, 403 {"detail": "Unsafe
/// path"} for unsafe paths, and `no_ui_page` (may be null) while index.html does not exist.
/// The directory is looked at on every request, so a UI built while the viewer runs is served.
///
/// Thread safety: safe for concurrent use.
class StaticFiles final : public plugin::RouteHandler {
public:
    StaticFiles(std::filesystem::path root, std::shared_ptr<plugin::RouteHandler> no_ui_page);
    plugin::HttpResponse handle(const plugin::HttpRequest& request) override;

    const std::filesystem::path& root() const noexcept { return root_; }

private:
    plugin::HttpResponse serve(const plugin::HttpRequest& request, const std::string& relative,
                               OpenedFile file, std::string_view encoding);

    std::filesystem::path root_;
    std::shared_ptr<plugin::RouteHandler> no_ui_page_;
};

}  // namespace runicorn::http_plugin
