#include "asset_uses.hpp"

#include <array>
#include <string_view>
#include <system_error>

#include <boost/json.hpp>

namespace runicorn::storage::catalog {
namespace {
namespace json = boost::json;
namespace fs = std::filesystem;

std::optional<std::string> string_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || !v->is_string()) {
        return std::nullopt;
    }
    return std::string(v->get_string());
}

std::optional<std::int64_t> int_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->get_int64();
    }
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v->get_uint64());
    }
    if (v->is_double() && v->get_double() >= 0 && v->get_double() < 9.2e18 &&
        static_cast<double>(static_cast<std::int64_t>(v->get_double())) == v->get_double()) {
        return static_cast<std::int64_t>(v->get_double());
    }
    return std::nullopt;
}

/// A URI or path as a text: strings as they are, other JSON (a dict uri) as compact JSON.
std::optional<std::string> source_of(const json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (v->is_string()) {
        return std::string(v->get_string());
    }
    return json::serialize(*v);
}

/// The rebasing rule of FORMAT.md §5.5.
std::optional<std::string> rebase(const std::optional<std::string>& recorded,
                                  const fs::path& root) {
    if (!recorded || recorded->empty()) {
        return recorded;
    }
    const fs::path p(*recorded);
    const fs::path rel = p.lexically_normal().lexically_relative(root.lexically_normal());
    std::error_code ec;
    if (!rel.empty() && *rel.begin() != ".." && fs::exists(p, ec)) {
        return recorded;  // exists under the root
    }
    std::string text = *recorded;
    for (auto& c : text) {
        if (c == '\\') {
            c = '/';
        }
    }
    static constexpr std::array<std::string_view, 3> kMarkers = {
        "/archive/blobs/", "/archive/manifests/", "/archive/outputs/rolling/"};
    std::size_t best = std::string::npos;
    for (const auto m : kMarkers) {
        const auto at = text.rfind(m);
        if (at != std::string::npos && (best == std::string::npos || at > best)) {
            best = at;
        }
    }
    if (best == std::string::npos) {
        return recorded;
    }
    return (root / text.substr(best + 1)).lexically_normal().generic_string();
}

AssetUse use_of(std::string type, const json::object& e, std::string_view source_key,
                const fs::path& root) {
    AssetUse a;
    a.asset_type = std::move(type);
    a.fingerprint = string_of(e, "fingerprint");
    a.fingerprint_kind = string_of(e, "fingerprint_kind");
    a.archive_path = rebase(string_of(e, "archive_path"), root);
    a.name = string_of(e, "name");
    a.source = source_of(e, source_key);
    const auto* saved = e.if_contains("saved");
    a.archived = saved != nullptr && saved->is_bool() && saved->get_bool();
    a.size_bytes = int_of(e, "total_size_bytes");
    if (!a.size_bytes) {
        a.size_bytes = int_of(e, "size_bytes");
    }
    a.file_count = int_of(e, "file_count");
    return a;
}

void add_list(std::vector<AssetUse>& out, const json::object& assets, std::string_view section,
              std::string_view type, std::string_view source_key, const fs::path& root) {
    const auto* list = assets.if_contains(section);
    if (list == nullptr || !list->is_array()) {
        return;
    }
    for (const auto& e : list->get_array()) {
        if (e.is_object()) {
            out.push_back(use_of(std::string(type), e.get_object(), source_key, root));
        }
    }
}

}  // namespace

std::vector<AssetUse> asset_uses_of(const json::object& assets, const fs::path& root) {
    std::vector<AssetUse> out;
    if (const auto* code = assets.if_contains("code"); code != nullptr && code->is_object()) {
        if (const auto* snap = code->get_object().if_contains("snapshot");
            snap != nullptr && snap->is_object()) {
            AssetUse a = use_of("code_snapshot", snap->get_object(), "workspace_root", root);
            // The names runicorn.db gives snapshots (FORMAT.md §6).
            a.name = string_of(snap->get_object(), "format") == "manifest" ? "code_snapshot"
                                                                           : "code_snapshot.zip";
            if (const auto* saved = snap->get_object().if_contains("saved");
                saved == nullptr || !saved->is_bool()) {
                a.archived = true;  // a snapshot is always saved (FORMAT.md §4.6)
            }
            out.push_back(std::move(a));
        }
    }
    add_list(out, assets, "datasets", "dataset", "uri", root);
    add_list(out, assets, "pretrained", "pretrained", "path_or_uri", root);
    add_list(out, assets, "outputs", "output", "path", root);
    return out;
}

}  // namespace runicorn::storage::catalog
