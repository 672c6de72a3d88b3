#include "display_width.hpp"

#include <cstdint>

namespace runicorn::cli {
namespace {

bool wide(std::uint32_t c) {
    return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
           (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
           (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
           (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
           (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
           (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

bool combining(std::uint32_t c) {
    return (c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) ||
           (c >= 0xFE00 && c <= 0xFE0F);
}

}  // namespace

std::size_t display_width(std::string_view text) {
    std::size_t width = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        std::size_t len = 1;
        std::uint32_t c = b;
        if (b >= 0xF0 && b <= 0xF4) {
            len = 4;
            c = b & 0x07U;
        } else if (b >= 0xE0) {
            len = 3;
            c = b & 0x0FU;
        } else if (b >= 0xC2 && b < 0xE0) {
            len = 2;
            c = b & 0x1FU;
        }
        bool valid = len == 1 ? b < 0x80 : i + len <= text.size();
        for (std::size_t k = 1; valid && k < len; ++k) {
            const auto cont = static_cast<unsigned char>(text[i + k]);
            valid = (cont & 0xC0U) == 0x80U;
            c = (c << 6U) | (cont & 0x3FU);
        }
        if (!valid) {
            width += 1;  // a stray byte: one column, as most terminals show a replacement char
            i += 1;
            continue;
        }
        width += wide(c) ? 2 : combining(c) ? 0 : 1;
        i += len;
    }
    return width;
}

}  // namespace runicorn::cli
