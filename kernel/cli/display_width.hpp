#pragma once

#include <cstddef>
#include <string_view>

namespace runicorn::cli {

/// The number of terminal columns UTF-8 `text` takes: East Asian wide and fullwidth characters
/// (CJK, Hangul, fullwidth forms) count 2, combining marks 0, everything else 1. Invalid bytes
/// count 1 each. Used to align table columns that hold translated text.
std::size_t display_width(std::string_view text);

}  // namespace runicorn::cli
