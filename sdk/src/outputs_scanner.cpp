#include "outputs_scanner.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>
#include <system_error>

#include <boost/json/value.hpp>

#include "assets.hpp"
#include "assets_util.hpp"
#include "fs_util.hpp"
#include "json_convert.hpp"
#include "json_text.hpp"
#include <fnmatch.h>
#include <sys/stat.h>

namespace runicorn::sdk {

namespace fs = std::filesystem;
namespace json = boost::json;

const std::vector<std::string>& default_output_patterns() {
    static const auto* p = new std::vector<std::string>{
        "*.pth",  "**/*.pth",  "*.pt",  "**/*.pt",  "*.ckpt", "**/*.ckpt",
        "*.onnx", "**/*.onnx", "*.log", "**/*.log", "*.json", "**/*.json",
        "*.txt",  "**/*.txt",  "*.csv", "**/*.csv", "*.png",  "**/*.png"};
    return *p;
}

bool output_pattern_matches(std::string_view pattern, std::string_view rel, bool is_dir) {
    std::string pat(pattern);
    const bool dir_pattern = !pat.empty() && pat.back() == '/';
    if (dir_pattern != is_dir) {
        return false;
    }
    while (!pat.empty() && pat.back() == '/') {
        pat.pop_back();
    }
    const std::string text(rel);
    if (::fnmatch(pat.c_str(), text.c_str(), FNM_NOESCAPE) == 0) {
        return true;
    }
    if (pat.rfind("**/", 0) == 0) {
        const std::string tail = pat.substr(3);
        return ::fnmatch(tail.c_str(), text.c_str(), FNM_NOESCAPE) == 0;
    }
    return false;
}

bool is_log_like(std::string_view name) {
    auto ends = [&](std::string_view suf) {
        return name.size() >= suf.size() && name.substr(name.size() - suf.size()) == suf;
    };
    return ends(".log") || ends(".txt") || ends(".jsonl") || ends(".csv") ||
           name.find("tfevents") != std::string_view::npos;
}

std::string stat_fingerprint_text(double mtime, std::uint64_t size) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, mtime);
    std::string m(buf, r.ptr);
    if (m.find_first_of(".eEn") == std::string::npos) {
        m += ".0";  // Python spells integral floats with ".0"
    }
    return "{\"mtime\": " + m + ", \"size_bytes\": " + std::to_string(size) + "}";
}

namespace {

struct Found {
    fs::path path;
    std::string rel;  // below the output directory
    bool is_dir = false;
};

bool inside(const fs::path& root, const fs::path& p) {
    auto r = root.begin();
    auto c = p.begin();
    for (; r != root.end(); ++r, ++c) {
        if (c == p.end() || *r != *c) {
            return false;
        }
    }
    return true;
}

/// Matching entries under `dir`: symlinked directories are not entered, symlinks leading out of
/// `dir` are skipped, matching directories are not descended into.
void find_outputs(const fs::path& dir, const fs::path& canon_root, const std::string& prefix,
                  const std::vector<std::string>& patterns, int depth, std::vector<Found>& out) {
    if (depth > 64) {
        return;
    }
    std::error_code ec;
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
        entries.push_back(*it);
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
        return a.path().filename() < b.path().filename();
    });
    for (const auto& e : entries) {
        const std::string name = e.path().filename().string();
        const std::string rel = prefix.empty() ? name : prefix + "/" + name;
        std::error_code lec;
        const auto lst = e.symlink_status(lec);
        if (lec) {
            continue;
        }
        bool is_dir = fs::is_directory(lst);
        if (fs::is_symlink(lst)) {
            const fs::path target = fs::canonical(e.path(), lec);
            if (lec || !inside(canon_root, target) || !fs::is_regular_file(target, lec)) {
                continue;  // out of the root, dangling, or a symlinked directory
            }
            is_dir = false;
        } else if (!is_dir && !fs::is_regular_file(lst)) {
            continue;
        }
        const bool match = std::any_of(patterns.begin(), patterns.end(), [&](const auto& p) {
            return output_pattern_matches(p, rel, is_dir);
        });
        if (match) {
            out.push_back(Found{e.path(), rel, is_dir});
        } else if (is_dir) {
            find_outputs(e.path(), canon_root, rel, patterns, depth + 1, out);
        }
    }
}

std::string posix(const fs::path& p) { return p.generic_string(); }

double num(const json::object& o, std::string_view k, double def = -1) {
    const auto* v = o.if_contains(k);
    if (v == nullptr) {
        return def;
    }
    if (v->is_double()) {
        return v->as_double();
    }
    if (v->is_int64()) {
        return static_cast<double>(v->as_int64());
    }
    if (v->is_uint64()) {
        return static_cast<double>(v->as_uint64());
    }
    return def;
}

std::int64_t int_of(const json::object& o, std::string_view k, std::int64_t def = -1) {
    const auto* v = o.if_contains(k);
    if (v == nullptr) {
        return def;
    }
    if (v->is_int64()) {
        return v->as_int64();
    }
    if (v->is_uint64()) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    if (v->is_double()) {
        return static_cast<std::int64_t>(v->as_double());
    }
    return def;
}

std::string str_of(const json::object& o, std::string_view k) {
    const auto* v = o.if_contains(k);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::string rand_suffix() {
    std::random_device rd;
    return std::to_string(rd()) + std::to_string(rd());
}

/// The manifest fingerprint of a directory's files, hashed in place.
Result<std::string> dir_fingerprint(const fs::path& dir, std::vector<WalkedFile>& files) {
    std::vector<std::string> warnings;
    RUNICORN_ASSIGN_OR_RETURN(files, walk_files(dir, nullptr, 0, 0, warnings));
    std::vector<plugin::ManifestFile> mf;
    for (const auto& f : files) {
        RUNICORN_ASSIGN_OR_RETURN(std::string sha, sha256_file(f.path));
        mf.push_back(plugin::ManifestFile{f.rel, std::move(sha), f.size, f.executable});
    }
    return manifest_fingerprint(mf);
}

/// A rolling directory copy (FORMAT.md §5.3): a temp sibling with a final ".complete", swapped in.
Status copy_dir_rolling(const std::vector<WalkedFile>& files, const fs::path& dest) {
    const fs::path tmp =
        dest.parent_path() / ("." + dest.filename().string() + ".tmp-" + rand_suffix());
    std::error_code ec;
    fs::create_directories(tmp, ec);
    if (ec) {
        return Status::unavailable("cannot create '" + tmp.string() + "': " + ec.message());
    }
    for (const auto& f : files) {
        auto r = copy_file_hashed(f.path, tmp / fs::path(f.rel));
        if (!r.has_value()) {
            fs::remove_all(tmp, ec);
            return r.error();
        }
    }
    Status s = kernel::write_file_atomic(tmp / ".complete", "ok\n");
    if (!s.is_ok()) {
        fs::remove_all(tmp, ec);
        return s;
    }
    const fs::path old =
        dest.parent_path() / ("." + dest.filename().string() + ".old-" + rand_suffix());
    if (fs::exists(dest, ec)) {
        fs::rename(dest, old, ec);
    }
    fs::rename(tmp, dest, ec);
    if (ec) {
        fs::remove_all(tmp, ec);
        return Status::unavailable("cannot rename onto '" + dest.string() + "'");
    }
    fs::remove_all(old, ec);
    return Status::ok();
}

Status check_options(const OutputsOptions& o) {
    if (o.output_dirs.empty()) {
        return Status::invalid_argument("scan_outputs: output_dirs must not be empty");
    }
    if (o.stable_required < 1) {
        return Status::invalid_argument("scan_outputs: stable_required must be at least 1");
    }
    if (!(o.min_age_sec >= 0) || !(o.log_snapshot_interval_sec >= 0) ||
        !(o.state_gc_after_sec >= 0)) {
        return Status::invalid_argument(
            "scan_outputs: min_age_sec, log_snapshot_interval_sec and state_gc_after_sec must "
            "be non-negative numbers");
    }
    if (o.mode.empty()) {
        return Status::invalid_argument("scan_outputs: mode must not be empty");
    }
    for (const auto& p : o.patterns) {
        if (p.empty()) {
            return Status::invalid_argument("scan_outputs: empty pattern");
        }
    }
    return Status::ok();
}

}  // namespace

Result<ScanResult> RunAssets::scan_outputs(const OutputsOptions& o, const std::atomic<bool>* stop) {
    RUNICORN_RETURN_IF_ERROR(check_options(o));
    std::lock_guard scan_lock(scan_mu_);
    const auto& patterns = o.patterns.empty() ? default_output_patterns() : o.patterns;
    std::error_code ec;
    const fs::path ws = fs::absolute(identity_.workspace_root, ec).lexically_normal();
    std::string mode = o.mode;
    const bool cas_wanted = mode != "rolling";
    if (cas_wanted && blobs_ == nullptr) {
        warn_no_store("scan_outputs(mode='" + mode + "')");
    }
    const bool cas = cas_wanted && blobs_ != nullptr;
    std::shared_ptr<plugin::BlobWriteLease> lease;
    if (cas) {
        RUNICORN_ASSIGN_OR_RETURN(lease, blobs_->begin_write());
    }
    const fs::path rolling_dir =
        identity_.storage_root / "archive" / "outputs" / "rolling" / safe_name(identity_.id);

    const fs::path state_path = identity_.run_dir / ".outputs_state.json";
    kernel::FileLock state_lock(identity_.run_dir / ".outputs_state.json.lock");
    RUNICORN_RETURN_IF_ERROR(state_lock.status());
    json::object state = read_json_object(state_path).value_or(json::object());
    if (auto* v = state.if_contains("items"); v == nullptr || !v->is_object()) {
        state["items"] = json::object();
    }
    json::object& items = state["items"].as_object();

    ScanResult res;
    res.run_id = identity_.id;
    struct NewEntry {
        json::object entry;
        bool append = false;
    };
    std::vector<NewEntry> entries;
    const double now = unix_now();

    for (const auto& raw_dir : o.output_dirs) {
        if (stop != nullptr && stop->load()) {
            break;
        }
        const fs::path dir = fs::absolute(raw_dir, ec).lexically_normal();
        if (!fs::is_directory(dir, ec)) {
            continue;
        }
        const fs::path canon = fs::canonical(dir, ec);
        if (ec) {
            continue;
        }
        std::vector<Found> found;
        find_outputs(dir, canon, "", patterns, 0, found);
        for (const auto& f : found) {
            if (stop != nullptr && stop->load()) {
                break;
            }
            const std::string name = f.path.filename().string();
            const fs::path abs = f.path.lexically_normal();
            const bool in_ws = !ws.empty() && inside(ws, abs);
            const std::string key = in_ws ? posix(abs.lexically_relative(ws)) : posix(abs);
            const std::string display = in_ws ? "./" + key : key;
            struct stat st {};
            if (::stat(f.path.c_str(), &st) != 0) {
                continue;
            }
            const std::int64_t mtime_ns =
                static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
            const double mtime = static_cast<double>(st.st_mtim.tv_sec) +
                                 static_cast<double>(st.st_mtim.tv_nsec) * 1e-9;
            const auto size = static_cast<std::uint64_t>(f.is_dir ? 0 : st.st_size);
            res.scanned += 1;

            json::value& iv = items[key];
            if (!iv.is_object()) {
                iv = json::object();
            }
            json::object& item = iv.as_object();
            const bool seen = item.contains("last_seen_at");
            const bool same =
                int_of(item, "last_mtime_ns") == mtime_ns &&
                (f.is_dir || int_of(item, "last_size") == static_cast<std::int64_t>(size));
            item["last_seen_at"] = now;

            json::object entry;
            entry["key"] = key;
            entry["name"] = name;
            entry["kind"] = f.is_dir ? "dir" : "file";
            entry["path"] = display;
            entry["saved"] = true;
            const fs::path rolling_path = rolling_dir / (sha1_hex(key) + "_" + safe_name(name));

            if (!f.is_dir && is_log_like(name)) {
                const std::string fp = stat_fingerprint_text(mtime, size);
                if (!seen || str_of(item, "last_archived_fingerprint") != fp) {
                    res.changed += 1;
                }
                const double last_snap = num(item, "last_log_snapshot_at");
                const bool due = last_snap < 0 || now - last_snap >= o.log_snapshot_interval_sec;
                if (!due || str_of(item, "last_archived_fingerprint") == fp) {
                    continue;
                }
                auto copied = copy_file_hashed(f.path, rolling_path);
                if (!copied.has_value()) {
                    item["last_error"] = copied.error().to_string();
                    warn(copied.error().code(), "outputs",
                         "could not copy '" + f.path.string() + "': " + copied.error().to_string());
                    continue;
                }
                entry["archive_path"] = fs::absolute(rolling_path, ec).lexically_normal().string();
                entry["fingerprint_kind"] = "stat";
                entry["fingerprint"] = fp;
                entry["mode"] = "rolling";
                entry["archived_at"] = static_cast<std::int64_t>(now);
                item["last_archived_fingerprint"] = fp;
                item["last_archived_at"] = now;
                item["last_log_snapshot_at"] = now;
                item.erase("last_error");
                entries.push_back({std::move(entry), false});
                res.archived += 1;
                continue;
            }

            if (!seen || !same) {
                res.changed += 1;
            }
            std::int64_t stable = same ? int_of(item, "stable_count", 0) + 1 : 1;
            item["stable_count"] = stable;
            if (!f.is_dir) {
                item["last_size"] = static_cast<std::int64_t>(size);
            }
            item["last_mtime_ns"] = mtime_ns;
            if (stable < o.stable_required || now - mtime < o.min_age_sec) {
                continue;
            }
            // NEW key (ignored by v0.6): the stat this item was last archived (or checked) at,
            // so a stable, unchanged file is not hashed on every scan.
            const std::string token = std::to_string(size) + ":" + std::to_string(mtime_ns);
            if (str_of(item, "last_archived_stat") == token) {
                continue;
            }
            const std::string last_fp = str_of(item, "last_archived_fingerprint");
            std::string fp;
            std::string kind;
            fs::path archive;
            Status s;
            if (!f.is_dir) {
                kind = "sha256";
                if (cas) {
                    auto put = blobs_->put_file(f.path, {});
                    if (put.has_value()) {
                        fp = put.value().sha256;
                        auto bp = blobs_->blob_path(fp);
                        archive = bp.has_value() ? bp.value() : fs::path();
                    } else {
                        s = put.error();
                    }
                } else {
                    auto h = sha256_file(f.path);
                    if (!h.has_value()) {
                        s = h.error();
                    } else if (h.value() != last_fp) {
                        auto c = copy_file_hashed(f.path, rolling_path);
                        if (c.has_value()) {
                            fp = c.value();
                        } else {
                            s = c.error();
                        }
                    } else {
                        fp = h.value();
                    }
                    archive = rolling_path;
                }
            } else {
                kind = "sha256_manifest";
                if (cas) {
                    auto b = blobs_->store_directory(f.path);
                    if (b.has_value()) {
                        b.value().manifest.source_path = abs.string();
                        fp = b.value().manifest.fingerprint;
                        auto mp = blobs_->write_manifest("outputs", b.value().manifest);
                        if (mp.has_value()) {
                            archive = mp.value();
                        } else {
                            s = mp.error();
                        }
                    } else {
                        s = b.error();
                    }
                } else {
                    std::vector<WalkedFile> files;
                    auto dfp = dir_fingerprint(f.path, files);
                    if (!dfp.has_value()) {
                        s = dfp.error();
                    } else {
                        fp = dfp.value();
                        // COMPAT (fix): re-copied only when the fingerprint changed.
                        if (fp != last_fp) {
                            s = copy_dir_rolling(files, rolling_path);
                        }
                    }
                    archive = rolling_path;
                }
            }
            if (!s.is_ok()) {
                item["last_error"] = s.to_string();
                warn(s.code(), "outputs",
                     "could not archive '" + f.path.string() + "': " + s.to_string());
                continue;
            }
            item["last_archived_stat"] = token;
            item.erase("last_error");
            if (fp == last_fp) {
                continue;  // an unchanged fingerprint records nothing
            }
            entry["archive_path"] = fs::absolute(archive, ec).lexically_normal().string();
            entry["fingerprint_kind"] = kind;
            entry["fingerprint"] = fp;
            entry["mode"] = cas ? mode : std::string("rolling");
            entry["archived_at"] = static_cast<std::int64_t>(now);
            item["last_archived_fingerprint"] = fp;
            item["last_archived_at"] = now;
            entries.push_back({std::move(entry), cas && mode == "overwrite_versions"});
            res.archived += 1;
        }
    }

    // State items not seen for state_gc_after_sec are dropped (FORMAT.md §4.7).
    for (auto it = items.begin(); it != items.end();) {
        const double seen_at =
            it->value().is_object() ? num(it->value().as_object(), "last_seen_at") : -1;
        if (seen_at >= 0 && now - seen_at > o.state_gc_after_sec) {
            it = items.erase(it);
        } else {
            ++it;
        }
    }
    Status ws_status = kernel::write_file_atomic(state_path, kernel::pretty_json(state));
    if (!ws_status.is_ok()) {
        warn(ws_status.code(), "outputs",
             "could not write .outputs_state.json: " + ws_status.to_string());
    }

    if (!entries.empty()) {
        Status s = update_section("outputs", [&](json::value& v) {
            if (!v.is_array()) {
                v = json::array();
            }
            json::array& arr = v.as_array();
            for (auto& ne : entries) {
                bool replaced = false;
                if (!ne.append) {
                    const std::string k = str_of(ne.entry, "key");
                    for (auto& cur : arr) {
                        if (cur.is_object() && str_of(cur.as_object(), "key") == k) {
                            cur = ne.entry;
                            replaced = true;
                            break;
                        }
                    }
                }
                if (!replaced) {
                    arr.emplace_back(ne.entry);
                }
            }
            return true;
        });
        if (!s.is_ok()) {
            return s;
        }
    }
    for (auto& ne : entries) {
        res.archived_entries.push_back(from_boost(json::value(std::move(ne.entry))));
    }
    return res;
}

}  // namespace runicorn::sdk
