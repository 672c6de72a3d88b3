#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <runicorn/plugin/abi.hpp>
#include <runicorn/result.hpp>

namespace runicorn::kernel {

/// A plugin's plugin.json (STYLE.md rule 21), read before any of the plugin's code is loaded.
struct PluginManifest {
    std::string id;
    std::string version;
    plugin::AbiVersion abi;
    std::optional<std::string> library;  ///< Relative to the plugin directory; nullopt: data-only.
    std::vector<std::string> provides;
    std::vector<std::string> requires_services;  ///< Must be provided, or the plugin is refused.
    std::vector<std::string> uses;               ///< Optional services: only order init after them.
    std::string description;
    std::filesystem::path dir;  ///< The directory holding plugin.json.
};

/// Reads `<dir>/plugin.json`. Errors (INVALID_ARGUMENT, or NOT_FOUND when there is no manifest) say
/// what is wrong without naming the file; the caller adds "plugin '<path>': ".
Result<PluginManifest> read_manifest(const std::filesystem::path& dir);

/// True for ids like "runicorn.run_store/1": lower-case dotted name, '/', a version number.
bool is_valid_service_id(std::string_view id);

}  // namespace runicorn::kernel
