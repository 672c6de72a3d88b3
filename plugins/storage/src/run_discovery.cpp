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
    Walker(fs::path root, bool include_deleted, spdlog::logger* log, bool check_deleted = true)
        : root_(std::move(root)),
          include_deleted_(include_deleted),
          check_deleted_(check_deleted),
          log_(log) {
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
        std::vector<std::pair<std::string, fs::path>> keyed;
        keyed.reserve(out.size());
        for (auto& p : out) {
            keyed.emplace_back(lower(p.filename().string()), std::move(p));
        }
        std::sort(keyed.begin(), keyed.end(),
                  [](const auto& a, const auto& b) { return a.first < b.first; });
        out.clear();
        for (auto& [key, p] : keyed) {
            out.push_back(std::move(p));
        }
        return out;
    }

    void add(const fs::path& dir, std::optional<std::string> path, bool legacy) {
        const bool deleted = check_deleted_ && exists_file(dir / ".deleted");
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
                std::string sub_prefix = prefix;
                if (!sub_prefix.empty()) {
                    sub_prefix += '/';
                }
                sub_prefix += name;
                walk_new(sub, sub_prefix, depth + 1);
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
                walk_legacy_runs(runs_dir, pname + "/" + name_dir.filename().string());
            }
        }
    }

    /// The legacy runs of one `<project>/<name>/runs/` directory, newest first.
    void walk_legacy_runs(const fs::path& runs_dir, const std::string& path) {
        auto runs = subdirs(runs_dir);
        std::vector<std::pair<fs::file_time_type, fs::path>> by_time;
        by_time.reserve(runs.size());
        std::error_code ec;
        for (auto& r : runs) {
            by_time.emplace_back(fs::last_write_time(r, ec), r);
        }
        std::stable_sort(by_time.begin(), by_time.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        for (auto& [t, r] : by_time) {
            add(r, path, true);
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
    bool check_deleted_;
    spdlog::logger* log_;
    std::vector<RunLocation> runs_;
};

bool is_run_folder(const fs::path& dir) {
    return exists_file(dir / "meta.json") || exists_file(dir / "status.json");
}

std::vector<std::string> split(std::string_view rel) {
    std::vector<std::string> out;
    for (std::size_t pos = 0; pos <= rel.size();) {
        const auto slash = std::min(rel.find('/', pos), rel.size());
        out.emplace_back(rel.substr(pos, slash - pos));
        pos = slash + 1;
    }
    return out;
}

std::string join(const std::vector<std::string>& segs, std::size_t from, std::size_t to) {
    std::string out;
    for (std::size_t i = from; i < to; ++i) {
        out += (i == from ? "" : "/") + segs[i];
    }
    return out;
}

}  // namespace

std::optional<SubtreeRuns> discover_runs_under(const fs::path& root, const fs::path& dir,
                                               spdlog::logger* log) {
    const std::string rel =
        dir.lexically_normal().lexically_relative(root.lexically_normal()).generic_string();
    if (rel.empty() || rel == "." || rel.starts_with("..")) {
        return std::nullopt;
    }
    const auto segs = split(rel);
    for (const auto& s : segs) {
        if (s.empty() || s == "." || s == "..") {
            return std::nullopt;
        }
    }
    Walker walker(root, true, log);
    SubtreeRuns out;
    if (segs[0] == "runs") {
        if (segs.size() == 1) {
            return std::nullopt;
        }
        // The first run folder on the way down encloses everything below it (discovery does not
        // descend into runs); a hidden segment hides the whole sub-tree.
        fs::path cur = root / "runs";
        for (std::size_t i = 1; i < segs.size(); ++i) {
            if (segs[i][0] == '.' || static_cast<int>(i) > kMaxDepth) {
                out.scope = rel;
                return out;
            }
            cur /= segs[i];
            std::error_code ec;
            if (!fs::is_directory(cur, ec)) {
                out.scope = rel;  // gone: nothing below it exists any more
                return out;
            }
            if (is_run_folder(cur)) {
                out.scope = join(segs, 0, i + 1);
                walker.add(cur,
                           i == 1 ? std::nullopt : std::optional<std::string>(join(segs, 1, i)),
                           false);
                out.runs = walker.take();
                return out;
            }
        }
        out.scope = rel;
        walker.walk_new(cur, join(segs, 1, segs.size()), static_cast<int>(segs.size()));
        out.runs = walker.take();
        return out;
    }
    // Legacy: <project>/<name>/runs/<run>[/...].
    if (segs.size() < 3 || segs[2] != "runs" || segs[0][0] == '.' || segs[1][0] == '.' ||
        std::find(kReservedTopLevel.begin(), kReservedTopLevel.end(), segs[0]) !=
            kReservedTopLevel.end()) {
        return std::nullopt;
    }
    const std::string path = segs[0] + "/" + segs[1];
    std::error_code ec;
    if (segs.size() == 3) {
        out.scope = rel;
        if (fs::is_directory(dir, ec)) {
            walker.walk_legacy_runs(dir, path);
        }
        out.runs = walker.take();
        return out;
    }
    out.scope = join(segs, 0, 4);
    const fs::path run_dir = root / out.scope;
    if (segs[3][0] != '.' && fs::is_directory(run_dir, ec)) {
        walker.add(run_dir, path, true);
    }
    out.runs = walker.take();
    return out;
}

Result<std::vector<RunLocation>> discover_run_folders(const fs::path& root, spdlog::logger* log) {
    std::error_code ec;
    if (!fs::is_directory(root, ec)) {
        return Status::not_found("storage root '" + root.string() + "' does not exist");
    }
    Walker walker(root, true, log, false);
    if (fs::is_directory(root / "runs", ec)) {
        walker.walk_new(root / "runs", "", 1);
    }
    walker.walk_legacy();
    return walker.take();
}

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
