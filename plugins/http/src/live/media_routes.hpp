#pragma once

#include <string>
#include <string_view>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "live_common.hpp"

namespace runicorn::http_plugin::live {

/// Adds GET /api/runs/:run_id/media (listing, API.md §4.4) and GET /api/runs/:run_id/media/:file
/// (the bytes: confined to the run's media/ folder with openat2 RESOLVE_BENEATH, else O_NOFOLLOW;
/// content type from the file's signature; ETag, 304, Range 206/416).
Status add_media_routes(plugin::HttpRoutes& routes, const LiveServices& services);

/// The image type of `head` (the file's first bytes) by signature: "image/png", "image/jpeg",
/// "image/gif", "image/webp", "image/bmp", or "" for anything else (SVG included).
std::string image_type_by_signature(std::string_view head);

/// True when `name` may name a file directly inside media/: not empty, not "." or "..", no '/',
/// '\\', NUL or drive letter ("C:").
bool safe_media_name(std::string_view name);

}  // namespace runicorn::http_plugin::live
