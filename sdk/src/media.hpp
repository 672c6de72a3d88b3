#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace runicorn::sdk {

/// What the first bytes of an encoded image say.
struct ImageInfo {
    std::string_view format;  ///< "png", "jpeg", "gif", "webp", "bmp"; empty when unknown
    std::int64_t width = -1;  ///< -1 when unknown
    std::int64_t height = -1;
};

/// Recognises PNG, JPEG, GIF, WebP and BMP by their signature and reads the size where the header
/// holds it. Unknown bytes give an empty format.
ImageInfo sniff_image(std::span<const std::byte> bytes) noexcept;

/// The key part of a media file name (FORMAT.md §4.8): characters outside [A-Za-z0-9._-] become
/// `_`, cut to 64 bytes; a key made only of dots (or an empty result) becomes `_`.
std::string sanitize_media_key(std::string_view key);

/// "<ms>_<hex6>_<sanitised key>.<ext>".
std::string media_file_name(std::int64_t unix_ms, std::uint32_t random24, std::string_view key,
                            std::string_view ext);

/// The extension for a `format` argument: lower-cased, "jpg" → "jpeg"; nullopt unless it is 1–10
/// ASCII letters or digits.
std::optional<std::string> normalize_format(std::string_view format);

}  // namespace runicorn::sdk
