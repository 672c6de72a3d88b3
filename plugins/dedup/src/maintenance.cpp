// verify(), gc() and usage() of HardlinkBlobStore (FORMAT.md §7.7 "GC" and "Verify").

#include <algorithm>
#include <map>
#include <mutex>
#include <random>
#include <set>

#include "blob_layout.hpp"
#include "hardlink_blob_store.hpp"
#include "references.hpp"
#include "sha256.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;
using std::chrono::system_clock;

namespace {

/// One entry of archive/blobs.
struct BlobEntry {
    std::string name;  // the blob name (64 hex, matching its shard), or the entry's file name
    fs::path path;
    struct stat st {};
    bool blob_name = false;  // a 64-hex name in its own two-hex shard
    bool temp = false;       // a dot-named temp file
};

// Lists archive/blobs: shard contents plus the dot-temp files at its top level. Other top-level
// entries are listed as non-blob, non-temp entries (reported as unexpected by GC).
std::vector<BlobEntry> list_blobs(const fs::path& blobs) {
    std::vector<BlobEntry> out;
    std::error_code ec;
    for (fs::directory_iterator shards(blobs, ec); !ec && shards != fs::directory_iterator();
         shards.increment(ec)) {
        const auto shard = shards->path().filename().string();
        BlobEntry top;
        top.name = shard;
        top.path = shards->path();
        if (::lstat(top.path.c_str(), &top.st) != 0) {
            continue;
        }
        const bool hex2 = shard.size() == 2 && std::all_of(shard.begin(), shard.end(), [](char c) {
                              return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                          });
        if (!hex2 || !S_ISDIR(top.st.st_mode)) {
            top.temp = shard.starts_with('.') && S_ISREG(top.st.st_mode);
            out.push_back(std::move(top));
            continue;
        }
        std::error_code fec;
        for (fs::directory_iterator files(shards->path(), fec);
             !fec && files != fs::directory_iterator(); files.increment(fec)) {
            BlobEntry e;
            e.name = files->path().filename().string();
            e.path = files->path();
            if (::lstat(e.path.c_str(), &e.st) != 0) {
                continue;
            }
            e.blob_name = is_sha256_hex(e.name) && e.name.compare(0, 2, shard) == 0;
            e.temp = e.name.starts_with('.') && S_ISREG(e.st.st_mode);
            out.push_back(std::move(e));
        }
    }
    std::sort(out.begin(), out.end(),
              [](const BlobEntry& a, const BlobEntry& b) { return a.path < b.path; });
    return out;
}

system_clock::time_point mtime_of(const struct stat& st) {
    return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
}

std::vector<std::string> referrer_labels(const std::vector<BlobRef>* refs) {
    std::vector<std::string> out;
    if (refs == nullptr) {
        return out;
    }
    for (const auto& r : *refs) {
        if (std::find(out.begin(), out.end(), r.referrer) == out.end()) {
            out.push_back(r.referrer);
        }
    }
    return out;
}

/// Sums the bytes whose inodes lose their last link. Thread safety: externally synchronized.
class FreedBytes {
public:
    void add(const struct stat& st) {
        auto& e = inodes_[{st.st_dev, st.st_ino}];
        e.nlink = static_cast<std::uint64_t>(st.st_nlink);
        e.size = static_cast<std::uint64_t>(st.st_size);
        ++e.removed;
    }
    std::uint64_t total() const {
        std::uint64_t sum = 0;
        for (const auto& [key, e] : inodes_) {
            if (e.removed >= e.nlink) {
                sum += e.size;
            }
        }
        return sum;
    }

private:
    struct Inode {
        std::uint64_t nlink = 0;
        std::uint64_t size = 0;
        std::uint64_t removed = 0;
    };
    std::map<std::pair<dev_t, ino_t>, Inode> inodes_;
};

}  // namespace

Result<plugin::BlobUsage> HardlinkBlobStore::usage() const {
    plugin::BlobUsage u;
    RUNICORN_ASSIGN_OR_RETURN(u.blobs, blob_stats(root_));
    ReferenceScanOptions opts;
    opts.index_db = true;  // R5 only feeds by_referrer and the unreferenced figures
    RUNICORN_ASSIGN_OR_RETURN(auto scan, scan_references(root_, opts));
    const std::string index_label = "index runicorn.db";
    std::set<std::pair<dev_t, ino_t>> distinct;
    std::uint64_t distinct_bytes = 0;
    for (const auto& [sha, refs] : scan.blobs) {
        const auto path = *dedup::blob_path(root_, sha);
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        const auto size = static_cast<std::uint64_t>(st.st_size);
        bool counted = false;
        for (const auto& r : refs) {
            if (r.referrer == index_label) {
                u.bytes_referenced_by_index += size;
                continue;
            }
            if (!r.verify) {
                continue;
            }
            // The definition of bytes_referenced counts R1-R3 only.
            counted = true;
            ++u.references;
            u.bytes_referenced += size;
            if (r.referrer.starts_with("artifact ")) {
                u.bytes_referenced_by_artifacts += size;
            } else {
                u.bytes_referenced_by_runs += size;
            }
        }
        if (counted && distinct.emplace(st.st_dev, st.st_ino).second) {
            distinct_bytes += size;
        }
    }
    u.bytes_saved_by_dedup = u.bytes_referenced - distinct_bytes;
    for (const auto& e : list_blobs(blobs_)) {
        if (!e.blob_name || !S_ISREG(e.st.st_mode)) {
            continue;
        }
        u.hardlinked_copies += static_cast<std::uint64_t>(e.st.st_nlink) - 1;
        if (!scan.blobs.contains(e.name)) {
            ++u.unreferenced_count;
            u.unreferenced_bytes += static_cast<std::uint64_t>(e.st.st_size);
        }
    }
    return u;
}

Result<plugin::VerifyReport> HardlinkBlobStore::verify(const plugin::VerifyOptions& options) {
    plugin::VerifyReport report;
    RUNICORN_ASSIGN_OR_RETURN(auto scan, scan_references(root_, ReferenceScanOptions{}));
    report.problems = std::move(scan.problems);

    std::map<std::string, const BlobEntry*> present;
    const auto entries = list_blobs(blobs_);
    std::vector<const BlobEntry*> hashable;
    for (const auto& e : entries) {
        if (e.temp) {
            report.temp_files.push_back(e.path.lexically_relative(root_).generic_string());
            continue;
        }
        if (!e.blob_name) {
            continue;
        }
        ++report.blobs_found;
        present.emplace(e.name, &e);
        const auto it = scan.blobs.find(e.name);
        const auto* refs = it != scan.blobs.end() ? &it->second : nullptr;
        if (refs == nullptr) {
            ++report.orphans;
        }
        if (!S_ISREG(e.st.st_mode)) {
            plugin::BlobProblem p{"not_a_file", e.name,
                                  "'" + e.path.string() + "' is not a regular file",
                                  referrer_labels(refs), false};
            if (options.repair) {
                p.quarantined = quarantine(e.path, e.name).is_ok();
            }
            report.problems.push_back(std::move(p));
            continue;
        }
        hashable.push_back(&e);
    }

    // Referenced blobs must exist, with the size their referrers record.
    for (const auto& [sha, refs] : scan.blobs) {
        std::vector<BlobRef> checked;
        std::copy_if(refs.begin(), refs.end(), std::back_inserter(checked),
                     [](const BlobRef& r) { return r.verify; });
        if (checked.empty()) {
            continue;
        }
        report.references_checked += checked.size();
        const auto it = present.find(sha);
        if (it == present.end()) {
            report.problems.push_back({"missing", sha, "referenced blob does not exist",
                                       referrer_labels(&checked), false});
            continue;
        }
        const auto actual = static_cast<std::int64_t>(it->second->st.st_size);
        std::vector<BlobRef> wrong;
        std::copy_if(checked.begin(), checked.end(), std::back_inserter(wrong),
                     [&](const BlobRef& r) { return r.size >= 0 && r.size != actual; });
        if (!wrong.empty() && S_ISREG(it->second->st.st_mode)) {
            report.problems.push_back({"size_mismatch", sha,
                                       "blob has " + std::to_string(actual) + " bytes; " +
                                           std::to_string(wrong.front().size) + " recorded",
                                       referrer_labels(&wrong), false});
        }
    }

    // Re-hash every blob, or a random sample.
    if (options.sample > 0 && options.sample < hashable.size()) {
        std::mt19937_64 rng(options.seed != 0 ? options.seed : std::random_device{}());
        std::shuffle(hashable.begin(), hashable.end(), rng);
        hashable.resize(options.sample);
        std::sort(hashable.begin(), hashable.end(),
                  [](const BlobEntry* a, const BlobEntry* b) { return a->path < b->path; });
    }
    std::vector<std::optional<Result<std::string>>> hashes(hashable.size());
    parallel_for(hashable.size(), [&](std::size_t i) {
        const int fd = ::open(hashable[i]->path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            hashes[i] = errno_status("cannot open", hashable[i]->path, errno);
            return;
        }
        UniqueFd owner(fd);
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        hashes[i] = sha256_fd(fd, hashable[i]->path);
    });
    report.blobs_hashed = hashable.size();
    for (std::size_t i = 0; i < hashable.size(); ++i) {
        const auto& e = *hashable[i];
        const auto& h = *hashes[i];
        if (h && *h == e.name) {
            continue;
        }
        const auto it = scan.blobs.find(e.name);
        plugin::BlobProblem p{
            "corrupt", e.name, h ? "its bytes hash to " + *h : h.error().message(),
            referrer_labels(it != scan.blobs.end() ? &it->second : nullptr), false};
        if (options.repair && h) {
            p.quarantined = quarantine(e.path, e.name).is_ok();
        }
        report.problems.push_back(std::move(p));
    }
    return report;
}

Result<plugin::GcReport> HardlinkBlobStore::gc(const plugin::GcOptions& options) {
    plugin::GcReport report;
    report.dry_run = options.dry_run;
    const auto now = options.now == system_clock::time_point{} ? system_clock::now() : options.now;
    struct stat archive_st {};
    if (::stat((root_ / "archive").c_str(), &archive_st) != 0) {
        return report;  // no archive: nothing to collect
    }
    // R8: writers hold the lock shared from before they store a blob until the object that
    // references it is published; holding it exclusively makes the mark and sweep atomic with
    // respect to them.
    auto held = lock(LockMode::kExclusive, options.wait_for_writers);
    if (!held) {
        return Status::unavailable(
            "gc: writers are storing blobs (archive/.gc.lock is held); nothing was deleted, try "
            "again later");
    }

    ReferenceScanOptions scan_options;
    scan_options.staging = true;
    scan_options.young_manifests = true;
    scan_options.index_db = true;
    scan_options.now = now;
    scan_options.grace = options.grace;
    RUNICORN_ASSIGN_OR_RETURN(auto scan, scan_references(root_, scan_options));
    if (!scan.unreadable.empty()) {
        std::string list;
        for (const auto& u : scan.unreadable) {
            list += (list.empty() ? "" : "; ") + u;
        }
        return Status::failed_precondition("gc: cannot read " + list + "; nothing was deleted");
    }

    const auto old = [&](const struct stat& st, std::chrono::seconds age) {
        return now - mtime_of(st) >= age;
    };
    FreedBytes freed;
    const auto remove = [&](const fs::path& path, const struct stat& st,
                            std::vector<std::string>& list) {
        const auto rel = path.lexically_relative(root_).generic_string();
        if (!options.dry_run && ::unlink(path.c_str()) != 0) {
            report.unexpected.push_back(rel + " (could not remove: " + errno_text(errno) + ")");
            return;
        }
        freed.add(st);
        list.push_back(rel);
    };

    // (a) manifests nobody names, past the grace period; (c) old temp files.
    const auto manifests = root_ / "archive" / "manifests";
    std::error_code ec;
    std::vector<fs::path> manifest_files;
    for (fs::recursive_directory_iterator it(manifests, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
        std::error_code type_ec;
        if (!it->is_directory(type_ec)) {
            manifest_files.push_back(it->path());
        }
    }
    std::sort(manifest_files.begin(), manifest_files.end());
    for (const auto& path : manifest_files) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) {
            continue;
        }
        const auto name = path.filename().string();
        const auto rel = path.lexically_relative(root_).generic_string();
        if (name.starts_with('.') && S_ISREG(st.st_mode)) {
            if (old(st, options.temp_age)) {
                remove(path, st, report.temp_files_removed);
            }
            continue;
        }
        if (!S_ISREG(st.st_mode) || !name.ends_with(".json")) {
            report.unexpected.push_back(rel);
            continue;
        }
        if (scan.manifests_named.contains(rel) || !old(st, options.grace)) {
            continue;
        }
        remove(path, st, report.manifests_removed);
    }

    // (b) blobs nobody references, past the grace period (R7; writers refresh the mtime of
    // reused blobs).
    for (const auto& e : list_blobs(blobs_)) {
        if (e.temp) {
            if (old(e.st, options.temp_age)) {
                remove(e.path, e.st, report.temp_files_removed);
            }
            continue;
        }
        if (!e.blob_name || !S_ISREG(e.st.st_mode)) {
            report.unexpected.push_back(e.path.lexically_relative(root_).generic_string());
            continue;
        }
        ++report.blobs_found;
        if (scan.blobs.contains(e.name)) {
            ++report.blobs_referenced;
            continue;
        }
        if (!old(e.st, options.grace)) {
            ++report.blobs_young;
            continue;
        }
        std::vector<std::string> removed;
        remove(e.path, e.st, removed);
        if (!removed.empty()) {
            report.blobs_removed.push_back(e.name);
        }
    }
    if (!options.dry_run && !report.blobs_removed.empty()) {
        warn("gc removed " + std::to_string(report.blobs_removed.size()) + " blobs");
    }
    report.bytes_freed = freed.total();
    std::sort(report.blobs_removed.begin(), report.blobs_removed.end());
    return report;
}

}  // namespace runicorn::dedup
