#include "run_discovery.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include <sys/stat.h>

namespace runicorn::storage {
namespace fs = std::filesystem;
using plugin::RunLocation;

namespace {

constexpr int kMaxDepth = 64;
constexpr std::array<std::string_view, 4> kReservedTopLevel = {"runs", "archive", "index", "webui"};

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

bool exists_file(const fs::path& p) {
    std::error_code ec;
    return fs::exists(p, ec);
}

/// True when `p` is inside `root` (both canonical).
bool inside(const fs::path& p, const fs::path& root) {
    auto rel = p.lexically_relative(root);
    return !rel.empty() && *rel.begin() != "..";
}

class Walker {
public:
    Walker(fs::path root, bool include_deleted, spdlog::logger* log)
        : root_(std::move(root)), include_deleted_(include_deleted), log_(log) {
        std::error_code ec;
        canonical_root_ = fs::canonical(root_, ec);
        if (ec) {
            canonical_root_ = root_;
        }
    }

    /// Sub-directories of `dir` in v0.6 order (lower-cased name), skipping dot entries and
    /// symlinks that leave the root.
    std::vector<fs::path> subdirs(const fs::path& dir) {
        std::vector<fs::path> out;
        std::error_code ec;
        fs::directory_iterator it(dir, ec);
        for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
            const auto name = it->path().filename().string();
            if (name.empty() || name[0] == '.') {
                continue;
            }
            std::error_code type_ec;
            if (!it->is_directory(type_ec)) {
                continue;
            }
            if (it->is_symlink(type_ec)) {
                auto target = fs::canonical(it->path(), type_ec);
                if (type_ec || !inside(target, canonical_root_)) {
                    warn("skipping '{}': a symbolic link that leaves the storage root",
                         it->path().string());
                    continue;
                }
            }
            out.push_back(it->path());
        }
        if (ec) {
            warn("cannot read '{}': {}", dir.string(), ec.message());
        }
        std::sort(out.begin(), out.end(), [](const fs::path& a, const fs::path& b) {
            return lower(a.filename().string()) < lower(b.filename().string());
        });
        return out;
    }

    void add(const fs::path& dir, std::optional<std::string> path, bool legacy) {
        const bool deleted = exists_file(dir / ".deleted");
        if (deleted && !include_deleted_) {
            return;
        }
        runs_.push_back(
            RunLocation{dir.filename().string(), std::move(path), dir, legacy, deleted});
    }

    void walk_new(const fs::path& dir, const std::string& prefix, int depth) {
        if (depth > kMaxDepth) {
            warn("not descending into '{}': deeper than {} directories", dir.string(), kMaxDepth);
            return;
        }
        for (const auto& sub : subdirs(dir)) {
            const auto name = sub.filename().string();
            if (exists_file(sub / "meta.json") || exists_file(sub / "status.json")) {
                add(sub, prefix.empty() ? std::nullopt : std::optional<std::string>(prefix), false);
            } else {
                walk_new(sub, prefix.empty() ? name : prefix + "/" + name, depth + 1);
            }
        }
    }

    void walk_legacy() {
        for (const auto& project : subdirs(root_)) {
            const auto pname = project.filename().string();
            if (std::find(kReservedTopLevel.begin(), kReservedTopLevel.end(), pname) !=
                kReservedTopLevel.end()) {
                continue;
            }
            for (const auto& name_dir : subdirs(project)) {
                const auto runs_dir = name_dir / "runs";
                std::error_code ec;
                if (!fs::is_directory(runs_dir, ec)) {
                    continue;
                }
                auto runs = subdirs(runs_dir);
                std::vector<std::pair<fs::file_time_type, fs::path>> by_time;
                for (auto& r : runs) {
                    by_time.emplace_back(fs::last_write_time(r, ec), r);
                }
                std::stable_sort(by_time.begin(), by_time.end(),
                                 [](const auto& a, const auto& b) { return a.first > b.first; });
                for (auto& [t, r] : by_time) {
                    add(r, pname + "/" + name_dir.filename().string(), true);
                }
            }
        }
    }

    std::vector<RunLocation> take() { return std::move(runs_); }

private:
    template <class... A>
    void warn(spdlog::format_string_t<A...> fmt, A&&... args) {
        if (log_ != nullptr) {
            log_->warn(fmt, std::forward<A>(args)...);
        }
    }

    fs::path root_;
    fs::path canonical_root_;
    bool include_deleted_;
    spdlog::logger* log_;
    std::vector<RunLocation> runs_;
};

}  // namespace

Result<std::vector<RunLocation>> discover_runs(const fs::path& root, bool include_deleted,
                                               spdlog::logger* log) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return Status::not_found("storage root '" + root.string() + "' does not exist");
    }
    Walker walker(root, include_deleted, log);
    if (fs::is_directory(root / "runs", ec)) {
        walker.walk_new(root / "runs", "", 1);
    }
    walker.walk_legacy();
    return walker.take();
}

}  // namespace runicorn::storage
