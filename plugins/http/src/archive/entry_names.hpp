#pragma once

#include <string>
#include <string_view>

namespace runicorn::http_plugin::archive {

/// Longest accepted archive entry name, in bytes (API.md §4.10).
inline constexpr std::size_t kMaxEntryName = 4096;

/// An archive entry name after normalisation, or why it is refused.
struct EntryName {
    /// '/'-separated, relative, no "." or ".." segments, no trailing '/'. Empty when refused.
    std::string name;
    /// Empty when accepted; otherwise a short reason ("absolute path", "drive letter", ...).
    std::string refusal;
    /// The raw name ended in '/' (a directory entry in zip and some tars).
    bool trailing_slash = false;
};

/// Normalises a raw entry name by the rules of API.md §4.10: '\' becomes '/', leading "./"
/// segments are dropped, a trailing '/' is dropped; refused are absolute names, names with a
/// drive letter or a UNC prefix, "..", "." or empty segments, NUL or control characters, and
/// names longer than kMaxEntryName bytes. Pure function; thread-safe.
EntryName normalize_entry_name(std::string_view raw);

}  // namespace runicorn::http_plugin::archive
