#include "media.hpp"

#include <cstdio>
#include <cstring>

namespace runicorn::sdk {
namespace {

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}
std::uint32_t be16(const unsigned char* p) { return (std::uint32_t{p[0]} << 8) | p[1]; }
std::uint32_t le16(const unsigned char* p) {
    return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8);
}
std::uint32_t le24(const unsigned char* p) { return le16(p) | (std::uint32_t{p[2]} << 16); }
std::uint32_t le32(const unsigned char* p) { return le24(p) | (std::uint32_t{p[3]} << 24); }

void jpeg_size(const unsigned char* p, std::size_t n, ImageInfo& info) {
    std::size_t i = 2;
    while (i + 4 <= n) {
        if (p[i] != 0xFF) {
            return;
        }
        const unsigned char marker = p[i + 1];
        if (marker == 0xFF) {
            ++i;  // fill byte
            continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            i += 2;
            continue;
        }
        const std::uint32_t len = be16(p + i + 2);
        const bool sof =
            marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof && i + 9 <= n) {
            info.height = be16(p + i + 5);
            info.width = be16(p + i + 7);
            return;
        }
        if (marker == 0xDA || len < 2) {
            return;  // start of scan: no frame header before it
        }
        i += 2 + len;
    }
}

}  // namespace

ImageInfo sniff_image(std::span<const std::byte> bytes) noexcept {
    ImageInfo info;
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const std::size_t n = bytes.size();
    if (n >= 8 && std::memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) {
        info.format = "png";
        if (n >= 24 && std::memcmp(p + 12, "IHDR", 4) == 0) {
            info.width = be32(p + 16);
            info.height = be32(p + 20);
        }
    } else if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
        info.format = "jpeg";
        jpeg_size(p, n, info);
    } else if (n >= 6 && (std::memcmp(p, "GIF87a", 6) == 0 || std::memcmp(p, "GIF89a", 6) == 0)) {
        info.format = "gif";
        if (n >= 10) {
            info.width = le16(p + 6);
            info.height = le16(p + 8);
        }
    } else if (n >= 12 && std::memcmp(p, "RIFF", 4) == 0 && std::memcmp(p + 8, "WEBP", 4) == 0) {
        info.format = "webp";
        if (n >= 30 && std::memcmp(p + 12, "VP8 ", 4) == 0) {
            info.width = le16(p + 26) & 0x3FFF;
            info.height = le16(p + 28) & 0x3FFF;
        } else if (n >= 25 && std::memcmp(p + 12, "VP8L", 4) == 0) {
            const std::uint32_t b = le32(p + 21);
            info.width = (b & 0x3FFF) + 1;
            info.height = ((b >> 14) & 0x3FFF) + 1;
        } else if (n >= 30 && std::memcmp(p + 12, "VP8X", 4) == 0) {
            info.width = le24(p + 24) + 1;
            info.height = le24(p + 27) + 1;
        }
    } else if (n >= 2 && p[0] == 'B' && p[1] == 'M') {
        info.format = "bmp";
        if (n >= 26) {
            info.width = static_cast<std::int32_t>(le32(p + 18));
            const auto h = static_cast<std::int32_t>(le32(p + 22));
            info.height = h < 0 ? -static_cast<std::int64_t>(h) : h;  // negative: top-down rows
        }
    }
    return info;
}

std::string sanitize_media_key(std::string_view key) {
    std::string out;
    for (const char c : key.substr(0, 64)) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        out += ok ? c : '_';
    }
    if (out.find_first_not_of('.') == std::string::npos) {
        out.assign(1, '_');
    }
    return out;
}

std::string media_file_name(std::int64_t unix_ms, std::uint32_t random24, std::string_view key,
                            std::string_view ext) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "%06x", random24 & 0xFFFFFFu);
    std::string name = std::to_string(unix_ms);
    name += '_';
    name += hex;
    name += '_';
    name += sanitize_media_key(key);
    name += '.';
    name += ext;
    return name;
}

std::optional<std::string> normalize_format(std::string_view format) {
    if (format.empty() || format.size() > 10) {
        return std::nullopt;
    }
    std::string out;
    for (const char c : format) {
        if (c >= 'A' && c <= 'Z') {
            out += static_cast<char>(c - 'A' + 'a');
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            out += c;
        } else {
            return std::nullopt;
        }
    }
    if (out == "jpg") {
        out = "jpeg";
    }
    return out;
}

}  // namespace runicorn::sdk
