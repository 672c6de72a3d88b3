#include "store_marker.hpp"

#include <algorithm>
#include <array>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "file_io.hpp"
#include "sys_info.hpp"

namespace runicorn::storage {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

/// Features this version understands (and may therefore write around).
constexpr std::array<std::string_view, 4> kKnownFeatures = {"heartbeat", "catalog", "artifacts",
                                                            "code-manifest"};
/// Features a run writer of this plugin produces.
constexpr std::array<std::string_view, 1> kWrittenFeatures = {"heartbeat"};

bool contains(const json::array& arr, std::string_view s) {
    return std::any_of(arr.begin(), arr.end(),
                       [s](const json::value& v) { return v.is_string() && v.get_string() == s; });
}

}  // namespace

Status ensure_store_marker(const fs::path& root, std::string_view created_by, spdlog::logger* log) {
    const fs::path marker = root / kStoreMarkerName;
    // Fast path without the lock: the marker exists and is complete.
    if (const auto existing = load_json_object(marker, nullptr)) {
        const auto* features = existing->if_contains("features");
        const auto* required = existing->if_contains("required_features");
        const bool complete =
            features != nullptr && features->is_array() &&
            std::all_of(kWrittenFeatures.begin(), kWrittenFeatures.end(),
                        [&](std::string_view f) { return contains(features->get_array(), f); });
        const bool nothing_required =
            required == nullptr || !required->is_array() || required->get_array().empty();
        if (complete && nothing_required) {
            return Status::ok();
        }
    }
    Status refused;
    Status s = update_json_file(
        marker,
        [&](json::object& obj) {
            if (const auto* required = obj.if_contains("required_features");
                required != nullptr && required->is_array()) {
                for (const auto& f : required->get_array()) {
                    if (!f.is_string()) {
                        continue;
                    }
                    const std::string_view name = f.get_string();
                    if (std::find(kKnownFeatures.begin(), kKnownFeatures.end(), name) ==
                        kKnownFeatures.end()) {
                        refused = Status::failed_precondition(
                            "the store '" + root.string() + "' requires feature '" +
                            std::string(name) +
                            "', which this version does not support; it is read-only here");
                        return false;
                    }
                }
            }
            bool changed = false;
            if (obj.empty()) {
                obj["format"] = "runicorn-store";
                obj["format_version"] = 1;
                obj["store_id"] = random_hex(32);
                obj["created_at"] = wall_now();
                obj["created_by"] = created_by;
                obj["features"] = json::array();
                obj["required_features"] = json::array();
                changed = true;
            }
            auto* features = obj.if_contains("features");
            if (features == nullptr || !features->is_array()) {
                obj["features"] = json::array();
                features = obj.if_contains("features");
                changed = true;
            }
            for (const auto f : kWrittenFeatures) {
                if (!contains(features->get_array(), f)) {
                    features->get_array().emplace_back(f);
                    changed = true;
                }
            }
            return changed;
        },
        log);
    if (!refused.is_ok()) {
        return refused;
    }
    return s;
}

}  // namespace runicorn::storage
