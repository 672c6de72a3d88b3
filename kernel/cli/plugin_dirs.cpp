#include "plugin_dirs.hpp"

#include <cstdlib>
#include <string>

namespace runicorn::cli {
namespace fs = std::filesystem;

std::vector<fs::path> bundled_plugin_dirs() {
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) {
        return {};
    }
    const fs::path dir = exe.parent_path();
    return {dir / "plugins", (dir / ".." / "lib" / "runicorn" / "plugins").lexically_normal()};
}

void set_sdk_plugin_path() {
    std::string path;
    for (const auto& d : bundled_plugin_dirs()) {
        path += (path.empty() ? "" : ":") + d.string();
    }
    // Called from main() before any thread exists.
    if (const char* old = std::getenv("RUNICORN_PLUGIN_PATH");
        old != nullptr && *old != '\0') {  // NOLINT(concurrency-mt-unsafe)
        path += ":" + std::string(old);
    }
    ::setenv("RUNICORN_PLUGIN_PATH", path.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
}

}  // namespace runicorn::cli
