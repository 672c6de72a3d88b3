#include "archive_import.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <system_error>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <openssl/evp.h>

#include "entry_names.hpp"
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::http_plugin::archive {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::size_t kChunk = std::size_t{256} * 1024;
constexpr int kMaxRunDepth = 64;

/// Closes a file descriptor on scope exit.
class Fd {
public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    ~Fd() { reset(); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Fd& operator=(Fd&& o) noexcept {
        if (this != &o) {
            reset();
            fd_ = o.fd_;
            o.fd_ = -1;
        }
        return *this;
    }
    int get() const { return fd_; }
    void reset() {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
    }

private:
    int fd_;
};

struct ReadArchiveDeleter {
    void operator()(struct ::archive* a) const { archive_read_free(a); }
};
using ReadArchive = std::unique_ptr<struct ::archive, ReadArchiveDeleter>;

struct EvpDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

Status errno_status(const std::string& what) {
    const int e = errno;
    const std::string msg = what + ": " + std::strerror(e);
    if (e == ENOSPC || e == EDQUOT) {
        return Status::resource_exhausted(msg);
    }
    if (e == EACCES || e == EPERM) {
        return Status::permission_denied(msg);
    }
    return Status::unavailable(msg);
}

Status corrupt() { return Status::invalid_argument(std::string(kCorruptArchive)); }

bool is_hex64(std::string_view s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::string random_hex32() {
    std::random_device rd;
    std::string out;
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; i < 32; ++i) {
        out.push_back(kHex[rd() % 16]);
    }
    return out;
}

std::optional<json::value> read_json(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::stringstream text;
    text << in.rdbuf();
    std::error_code ec;
    json::value v = json::parse(text.str(), ec);
    if (ec) {
        return std::nullopt;
    }
    return v;
}

/// SHA-256 (lower-case hex) of the regular file `path`, read without following a symlink.
Result<std::string> sha256_file(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        return errno_status("opening " + path.string());
    }
    std::unique_ptr<EVP_MD_CTX, EvpDeleter> ctx(EVP_MD_CTX_new());
    if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
        return Status::internal("SHA-256 unavailable");
    }
    std::vector<char> buf(kChunk);
    while (true) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno_status("reading " + path.string());
        }
        if (n == 0) {
            break;
        }
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx.get(), md.data(), &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out.push_back(kHex[md[i] >> 4]);
        out.push_back(kHex[md[i] & 0xf]);
    }
    return out;
}

/// Opens (creating when missing) each directory of `rel` below `dir_fd` without following a
/// symlink; returns the innermost one. ENOTDIR/ELOOP/EEXIST-as-file come back as
/// FAILED_PRECONDITION (a clash with an earlier entry).
Result<Fd> open_dirs(int dir_fd, std::string_view rel) {
    Fd current(::dup(dir_fd));
    if (current.get() < 0) {
        return errno_status("dup");
    }
    std::size_t start = 0;
    while (start < rel.size()) {
        std::size_t end = rel.find('/', start);
        if (end == std::string_view::npos) {
            end = rel.size();
        }
        const std::string seg(rel.substr(start, end - start));
        if (::mkdirat(current.get(), seg.c_str(), 0755) != 0 && errno != EEXIST) {
            return errno_status("creating directory " + seg);
        }
        Fd next(
            ::openat(current.get(), seg.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (next.get() < 0) {
            if (errno == ENOTDIR || errno == ELOOP) {
                return Status::failed_precondition("clashes with a file entry");
            }
            return errno_status("opening directory " + seg);
        }
        current = std::move(next);
        start = end + 1;
    }
    return current;
}

/// Reads the archive at `upload` in `zip` or tar.gz form into `tree` (an empty directory).
/// `first_header_failed` tells the caller that the format was not recognised at all.
Status extract(const fs::path& upload, bool zip, const fs::path& tree, const ImportLimits& limits,
               std::vector<ImportSkip>& skipped, bool& first_header_failed) {
    first_header_failed = false;
    ReadArchive a(archive_read_new());
    if (a == nullptr) {
        return Status::resource_exhausted("archive_read_new failed");
    }
    if (zip) {
        archive_read_support_format_zip_seekable(a.get());
    } else {
        archive_read_support_filter_gzip(a.get());
        archive_read_support_format_tar(a.get());
    }
    if (archive_read_open_filename(a.get(), upload.c_str(), 64 * 1024) != ARCHIVE_OK) {
        first_header_failed = true;
        return corrupt();
    }
    Fd tree_fd(::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (tree_fd.get() < 0) {
        return errno_status("opening " + tree.string());
    }
    std::uint64_t entries = 0;
    std::uint64_t total = 0;
    std::vector<char> buf(kChunk);
    while (true) {
        archive_entry* e = nullptr;
        const int r = archive_read_next_header(a.get(), &e);
        if (r == ARCHIVE_EOF) {
            break;
        }
        if (r < ARCHIVE_WARN) {
            first_header_failed = entries == 0;
            return corrupt();
        }
        if (++entries > limits.max_entries) {
            return Status::resource_exhausted("archive has more than " +
                                              std::to_string(limits.max_entries) + " entries");
        }
        const char* raw_c = archive_entry_pathname(e);
        const std::string raw = raw_c != nullptr ? raw_c : "";
        const EntryName name = normalize_entry_name(raw);
        if (!name.refusal.empty()) {
            skipped.push_back({raw, name.refusal});
            continue;
        }
        const unsigned type = archive_entry_filetype(e);
        if (archive_entry_hardlink(e) != nullptr) {
            skipped.push_back({name.name, "hardlink"});
            continue;
        }
        if (type == AE_IFLNK) {
            skipped.push_back({name.name, "symlink"});
            continue;
        }
        if (type == AE_IFDIR || (type == 0 && name.trailing_slash)) {
            Result<Fd> d = open_dirs(tree_fd.get(), name.name);
            if (!d) {
                if (d.error().code() != StatusCode::kFailedPrecondition) {
                    return d.error();
                }
                skipped.push_back({name.name, "clashes with an earlier entry"});
            }
            continue;
        }
        if (type != AE_IFREG) {
            skipped.push_back({name.name, "special file"});
            continue;
        }
        if (archive_entry_size_is_set(e) != 0 && archive_entry_size(e) > 0) {
            const auto declared = static_cast<std::uint64_t>(archive_entry_size(e));
            if (declared > limits.max_total_bytes || total + declared > limits.max_total_bytes) {
                return Status::resource_exhausted("archive expands to more than " +
                                                  std::to_string(limits.max_total_bytes) +
                                                  " bytes");
            }
        }
        const std::size_t slash = name.name.rfind('/');
        Result<Fd> parent = slash == std::string::npos
                                ? Result<Fd>(Fd(::dup(tree_fd.get())))
                                : open_dirs(tree_fd.get(), name.name.substr(0, slash));
        if (!parent) {
            if (parent.error().code() != StatusCode::kFailedPrecondition) {
                return parent.error();
            }
            skipped.push_back({name.name, "clashes with an earlier entry"});
            continue;
        }
        const std::string leaf =
            slash == std::string::npos ? name.name : name.name.substr(slash + 1);
        Fd out(::openat(parent->get(), leaf.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
        if (out.get() < 0) {
            if (errno == EEXIST || errno == ELOOP || errno == EISDIR) {
                skipped.push_back({name.name, "duplicate name (the first one wins)"});
                continue;
            }
            return errno_status("creating " + name.name);
        }
        const la_int64_t start = archive_filter_bytes(a.get(), -1);
        std::uint64_t produced = 0;
        while (true) {
            const la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
            if (n < 0) {
                return corrupt();
            }
            if (n == 0) {
                break;
            }
            produced += static_cast<std::uint64_t>(n);
            total += static_cast<std::uint64_t>(n);
            if (total > limits.max_total_bytes) {
                return Status::resource_exhausted("archive expands to more than " +
                                                  std::to_string(limits.max_total_bytes) +
                                                  " bytes");
            }
            const la_int64_t consumed = archive_filter_bytes(a.get(), -1) - start;
            const std::uint64_t in = consumed > 0 ? static_cast<std::uint64_t>(consumed) : 1;
            if (produced > limits.ratio_floor_bytes && produced / in >= limits.max_ratio) {
                return Status::resource_exhausted("entry '" + name.name +
                                                  "' exceeds the compression ratio limit of " +
                                                  std::to_string(limits.max_ratio) + ":1");
            }
            const char* p = buf.data();
            std::size_t left = static_cast<std::size_t>(n);
            while (left > 0) {
                const ssize_t w = ::write(out.get(), p, left);
                if (w < 0) {
                    if (errno == EINTR) {
                        continue;
                    }
                    return errno_status("writing " + name.name);
                }
                p += w;
                left -= static_cast<std::size_t>(w);
            }
        }
    }
    return Status::ok();
}

/// One staged object and where it goes.
struct Move {
    fs::path from;
    fs::path to;
};

/// The run folders found in a staged tree: (root-relative folder, run id, run path).
struct StagedRun {
    std::string rel;
    std::string run_id;
    std::optional<std::string> path;
};

bool is_run_dir(const fs::path& dir) {
    std::error_code ec;
    return fs::is_regular_file(fs::symlink_status(dir / "meta.json", ec)) ||
           fs::is_regular_file(fs::symlink_status(dir / "status.json", ec));
}

std::vector<fs::path> sorted_subdirs(const fs::path& dir) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        if (it->is_directory(ec) && !it->is_symlink(ec)) {
            out.push_back(it->path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

void find_new_layout_runs(const fs::path& tree, const fs::path& dir, int depth,
                          std::vector<StagedRun>& out) {
    if (depth > kMaxRunDepth) {
        return;
    }
    for (const fs::path& sub : sorted_subdirs(dir)) {
        if (is_run_dir(sub)) {
            StagedRun run;
            run.rel = sub.lexically_relative(tree).generic_string();
            run.run_id = sub.filename().string();
            const std::string p =
                sub.parent_path().lexically_relative(tree / "runs").generic_string();
            if (p != ".") {
                run.path = p;
            }
            out.push_back(std::move(run));
        } else {
            find_new_layout_runs(tree, sub, depth + 1, out);
        }
    }
}

std::uint64_t count_files(const fs::path& dir) {
    std::uint64_t n = 0;
    std::error_code ec;
    if (fs::is_regular_file(fs::symlink_status(dir, ec))) {
        return 1;
    }
    for (fs::recursive_directory_iterator it(dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec) && !it->is_symlink(ec)) {
            ++n;
        }
    }
    return n;
}

/// Moves `from` to `to` without replacing anything; EEXIST/ENOTEMPTY come back as
/// ALREADY_EXISTS. Missing parents of `to` are created.
Status move_noreplace(const fs::path& from, const fs::path& to) {
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    if (ec) {
        return Status::unavailable("creating " + to.parent_path().string() + ": " + ec.message());
    }
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST || errno == ENOTEMPTY) {
            return Status::already_exists(to.string() + " exists");
        }
        return errno_status("moving into " + to.string());
    }
    return Status::ok();
}

/// Undoes the moves made so far (newest first) when a later step fails.
class Rollback {
public:
    Rollback() = default;
    ~Rollback() {
        if (armed_) {
            for (auto it = done_.rbegin(); it != done_.rend(); ++it) {
                ::rename(it->to.c_str(), it->from.c_str());
            }
            for (auto it = rewrites_.rbegin(); it != rewrites_.rend(); ++it) {
                std::ofstream(it->first, std::ios::binary | std::ios::trunc) << it->second;
            }
        }
    }
    Rollback(const Rollback&) = delete;
    Rollback& operator=(const Rollback&) = delete;
    Rollback(Rollback&&) = delete;
    Rollback& operator=(Rollback&&) = delete;

    void moved(Move m) { done_.push_back(std::move(m)); }
    void rewrote(fs::path file, std::string old_content) {
        rewrites_.emplace_back(std::move(file), std::move(old_content));
    }
    void commit() { armed_ = false; }

private:
    bool armed_ = true;
    std::vector<Move> done_;
    std::vector<std::pair<fs::path, std::string>> rewrites_;
};

/// Writes `text` to `file` atomically (temp + rename).
Status replace_file(const fs::path& file, const std::string& text) {
    const fs::path tmp =
        file.parent_path() / ("." + file.filename().string() + ".tmp-" + random_hex32());
    RUNICORN_RETURN_IF_ERROR(write_new_file(tmp, text));
    if (::rename(tmp.c_str(), file.c_str()) != 0) {
        Status s = errno_status("replacing " + file.string());
        ::unlink(tmp.c_str());
        return s;
    }
    return Status::ok();
}

std::string read_text(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

/// Parses "v<N>" (N >= 1).
std::optional<int> version_number(const std::string& name) {
    if (name.size() < 2 || name[0] != 'v' || name.size() > 10) {
        return std::nullopt;
    }
    int n = 0;
    for (std::size_t i = 1; i < name.size(); ++i) {
        if (name[i] < '0' || name[i] > '9') {
            return std::nullopt;
        }
        n = n * 10 + (name[i] - '0');
    }
    return n > 0 ? std::optional<int>(n) : std::nullopt;
}

bool valid_artifact_name(const std::string& s) {
    if (s.empty() || s.size() > 128 || !std::isalnum(static_cast<unsigned char>(s[0]))) {
        return false;
    }
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

/// What the staged tree holds, sorted by kind.
struct Staged {
    std::vector<StagedRun> runs;
    std::vector<std::pair<std::string, fs::path>> blobs;      ///< (sha, staged file)
    std::vector<std::pair<std::string, fs::path>> manifests;  ///< (root-relative, staged file)
    std::vector<std::string> rolling;                         ///< run ids
    std::vector<std::string> artifacts;                       ///< names
};

/// Places the top-level `<run_id>/` folders of a v0.6 path-export zip at runs/<path>/<run_id>
/// as index.json says.
Status relayout_v06_zip(const fs::path& tree, const json::value& index, ImportReport& report) {
    std::map<std::string, std::optional<std::string>> paths;
    if (const json::object* o = index.if_object()) {
        if (const json::value* runs = o->if_contains("runs"); runs != nullptr && runs->is_array()) {
            for (const json::value& r : runs->get_array()) {
                const json::object* ro = r.if_object();
                const json::value* id = ro != nullptr ? ro->if_contains("run_id") : nullptr;
                if (id == nullptr || !id->is_string()) {
                    continue;
                }
                const json::value* p = ro->if_contains("path");
                std::optional<std::string> path;
                if (p != nullptr && p->is_string() && !p->get_string().empty()) {
                    path = std::string(p->get_string());
                }
                paths.emplace(std::string(id->get_string()), path);
            }
        }
    }
    for (const fs::path& sub : sorted_subdirs(tree)) {
        const std::string id = sub.filename().string();
        const auto it = paths.find(id);
        if (it == paths.end()) {
            continue;  // classified (and reported) like any other top-level folder
        }
        std::string rel = "runs/";
        if (it->second) {
            const EntryName p = normalize_entry_name(*it->second);
            if (!p.refusal.empty()) {
                report.skipped.push_back({id + "/", "bad path in index.json: " + p.refusal});
                continue;
            }
            rel += p.name + "/";
        }
        rel += id;
        RUNICORN_RETURN_IF_ERROR(move_noreplace(sub, tree / rel));
    }
    return Status::ok();
}

Status classify(const fs::path& tree, Staged& staged, ImportReport& report) {
    std::error_code ec;
    std::vector<fs::directory_entry> top;
    for (fs::directory_iterator it(tree, ec); !ec && it != fs::directory_iterator();
         it.increment(ec)) {
        top.push_back(*it);
    }
    std::sort(top.begin(), top.end());
    for (const fs::directory_entry& e : top) {
        const std::string name = e.path().filename().string();
        if (name == "RUNICORN-EXPORT.json" || name == "index.json") {
            continue;  // read, never extracted into the root
        }
        if (!e.is_directory(ec)) {
            report.skipped.push_back({name, "not part of a store layout"});
            continue;
        }
        if (name == "runs") {
            find_new_layout_runs(tree, e.path(), 0, staged.runs);
        } else if (name == "archive") {
            for (const fs::path& sub : sorted_subdirs(e.path())) {
                const std::string kind = sub.filename().string();
                if (kind == "blobs") {
                    for (const fs::path& shard : sorted_subdirs(sub)) {
                        for (fs::directory_iterator f(shard, ec);
                             !ec && f != fs::directory_iterator(); f.increment(ec)) {
                            const std::string sha = f->path().filename().string();
                            if (!f->is_regular_file(ec) || !is_hex64(sha) ||
                                shard.filename().string() != sha.substr(0, 2)) {
                                report.skipped.push_back(
                                    {f->path().lexically_relative(tree).generic_string(),
                                     "not a blob name"});
                                continue;
                            }
                            staged.blobs.emplace_back(sha, f->path());
                        }
                    }
                } else if (kind == "manifests") {
                    for (fs::recursive_directory_iterator f(sub, ec);
                         !ec && f != fs::recursive_directory_iterator(); f.increment(ec)) {
                        if (!f->is_regular_file(ec)) {
                            continue;
                        }
                        const std::string rel = f->path().lexically_relative(tree).generic_string();
                        const std::string leaf = f->path().filename().string();
                        const std::string fp =
                            leaf.size() > 5 ? leaf.substr(0, leaf.size() - 5) : "";
                        if (f.depth() != 2 || leaf.size() <= 5 ||
                            leaf.compare(leaf.size() - 5, 5, ".json") != 0 || !is_hex64(fp) ||
                            f->path().parent_path().filename().string() != fp.substr(0, 2)) {
                            report.skipped.push_back({rel, "not a manifest name"});
                            continue;
                        }
                        staged.manifests.emplace_back(rel, f->path());
                    }
                } else if (kind == "outputs" && fs::is_directory(sub / "rolling", ec)) {
                    for (const fs::path& r : sorted_subdirs(sub / "rolling")) {
                        staged.rolling.push_back(r.filename().string());
                    }
                } else {
                    report.skipped.push_back({"archive/" + kind, "not imported"});
                }
            }
        } else if (name == "artifacts") {
            for (const fs::path& sub : sorted_subdirs(e.path())) {
                const std::string a = sub.filename().string();
                if (!valid_artifact_name(a)) {
                    report.skipped.push_back({"artifacts/" + a, "bad artifact name"});
                    continue;
                }
                staged.artifacts.push_back(a);
            }
        } else if (name == "index" || name == "webui") {
            report.skipped.push_back({name, "reserved"});
        } else {
            // Legacy layout: <project>/<name>/runs/<run_id>/.
            bool any = false;
            for (const fs::path& n : sorted_subdirs(e.path())) {
                if (!fs::is_directory(n / "runs", ec)) {
                    continue;
                }
                for (const fs::path& run : sorted_subdirs(n / "runs")) {
                    StagedRun r;
                    r.rel = run.lexically_relative(tree).generic_string();
                    r.run_id = run.filename().string();
                    r.path = name + "/" + n.filename().string();
                    staged.runs.push_back(std::move(r));
                    any = true;
                }
            }
            if (!any) {
                report.skipped.push_back({name, "not part of a store layout"});
            }
        }
    }
    return Status::ok();
}

/// Checks what must be valid before anything is applied.
Status validate(const Staged& staged, const fs::path& tree) {
    for (const auto& [sha, file] : staged.blobs) {
        RUNICORN_ASSIGN_OR_RETURN(std::string actual, sha256_file(file));
        if (actual != sha) {
            return Status::data_loss("blob " + sha + " does not match its content (sha256 " +
                                     actual + ")");
        }
    }
    for (const auto& [rel, file] : staged.manifests) {
        const std::optional<json::value> m = read_json(file);
        const json::object* o = m ? m->if_object() : nullptr;
        const json::value* files = o != nullptr ? o->if_contains("files") : nullptr;
        if (files == nullptr || !files->is_object()) {
            return Status::invalid_argument("manifest " + rel + " is malformed");
        }
    }
    for (const std::string& a : staged.artifacts) {
        const fs::path dir = tree / "artifacts" / a;
        const std::optional<json::value> head = read_json(dir / "artifact.json");
        if (!head || !head->is_object()) {
            return Status::invalid_argument("artifacts/" + a +
                                            "/artifact.json is missing or malformed");
        }
        for (const fs::path& v : sorted_subdirs(dir)) {
            if (!version_number(v.filename().string())) {
                continue;
            }
            const std::optional<json::value> ver = read_json(v / "version.json");
            const std::optional<json::value> man = read_json(v / "manifest.json");
            const json::value* digest =
                ver && ver->is_object() ? ver->get_object().if_contains("digest") : nullptr;
            if (digest == nullptr || !digest->is_string() || !man || !man->is_object()) {
                return Status::invalid_argument("artifacts/" + a + "/" + v.filename().string() +
                                                " is malformed");
            }
        }
    }
    return Status::ok();
}

/// Takes artifacts/<name>/.lock (flock) for version allocation.
class ArtifactLock {
public:
    static Result<ArtifactLock> take(const fs::path& dir) {
        Fd fd(::open((dir / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
        if (fd.get() < 0) {
            return errno_status("opening " + (dir / ".lock").string());
        }
        if (::flock(fd.get(), LOCK_EX) != 0) {
            return errno_status("locking " + (dir / ".lock").string());
        }
        return ArtifactLock(std::move(fd));
    }

private:
    explicit ArtifactLock(Fd fd) : fd_(std::move(fd)) {}
    Fd fd_;
};

Status apply_artifact(const fs::path& tree, const fs::path& root, const std::string& name,
                      Rollback& rollback, ImportReport& report) {
    const fs::path src = tree / "artifacts" / name;
    const fs::path dst = root / "artifacts" / name;
    std::error_code ec;
    fs::remove(src / ".lock", ec);
    if (!fs::exists(fs::symlink_status(dst, ec))) {
        RUNICORN_RETURN_IF_ERROR(move_noreplace(src, dst));
        rollback.moved({src, dst});
        report.imported_files += count_files(dst);
        return Status::ok();
    }
    RUNICORN_ASSIGN_OR_RETURN(ArtifactLock lock, ArtifactLock::take(dst));
    (void)lock;
    const std::optional<json::value> head = read_json(dst / "artifact.json");
    if (!head || !head->is_object()) {
        return Status::failed_precondition("artifacts/" + name + "/artifact.json is unreadable");
    }
    json::object head_obj = head->get_object();
    std::int64_t last = 0;
    if (const json::value* lv = head_obj.if_contains("last_version");
        lv != nullptr && lv->is_int64()) {
        last = lv->as_int64();
    }
    std::set<std::string> digests;
    for (const fs::path& v : sorted_subdirs(dst)) {
        if (const auto n = version_number(v.filename().string())) {
            last = std::max<std::int64_t>(last, *n);
            const std::optional<json::value> ver = read_json(v / "version.json");
            if (ver && ver->is_object()) {
                if (const json::value* d = ver->get_object().if_contains("digest");
                    d != nullptr && d->is_string()) {
                    digests.emplace(d->get_string());
                }
            }
        }
    }
    std::vector<std::pair<int, fs::path>> versions;
    for (const fs::path& v : sorted_subdirs(src)) {
        if (const auto n = version_number(v.filename().string())) {
            versions.emplace_back(*n, v);
        }
    }
    std::sort(versions.begin(), versions.end());
    const std::int64_t before = last;
    for (const auto& [n, v] : versions) {
        json::object ver = read_json(v / "version.json")->as_object();
        const std::string digest(ver.at("digest").as_string());
        if (digests.count(digest) != 0) {
            report.warnings.push_back("artifact " + name + ":v" + std::to_string(n) +
                                      " already exists (same digest); skipped");
            continue;
        }
        const std::int64_t m = ++last;
        ver["version"] = m;
        const fs::path vfile = v / "version.json";
        fs::remove(vfile, ec);
        RUNICORN_RETURN_IF_ERROR(write_new_file(vfile, json::serialize(ver)));
        const fs::path target = dst / ("v" + std::to_string(m));
        RUNICORN_RETURN_IF_ERROR(move_noreplace(v, target));
        rollback.moved({v, target});
        digests.insert(digest);
        report.imported_files += count_files(target);
        report.warnings.push_back("artifact " + name + ":v" + std::to_string(n) + " imported as v" +
                                  std::to_string(m));
    }
    if (last != before) {
        rollback.rewrote(dst / "artifact.json", read_text(dst / "artifact.json"));
        head_obj["last_version"] = last;
        RUNICORN_RETURN_IF_ERROR(replace_file(dst / "artifact.json", json::serialize(head_obj)));
    }
    return Status::ok();
}

/// The writers' shared lock on archive/.gc.lock (FORMAT.md §7.7 step 1, R8).
Result<Fd> writers_lock(const fs::path& root) {
    std::error_code ec;
    fs::create_directories(root / "archive", ec);
    const fs::path lock = root / "archive" / ".gc.lock";
    Fd fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (fd.get() < 0) {
        return errno_status("opening " + lock.string());
    }
    if (::flock(fd.get(), LOCK_SH) != 0) {
        return errno_status("locking " + lock.string());
    }
    return fd;
}

Status fsync_dir(const fs::path& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        return errno_status("fsync " + dir.string());
    }
    return Status::ok();
}

/// Publishes the verified staged file `src` (named by its hash `sha`) as a blob by FORMAT.md
/// §7.7: an existing blob of the same size is a dedup hit (mtime refreshed); otherwise the file
/// becomes a 0444 temp in the shard, is fsync'd and linked to its name, never replacing an
/// existing blob (a damaged one is moved to archive/quarantine/ first). True when bytes were
/// added.
Result<bool> store_blob(const fs::path& root, const std::string& sha, const fs::path& src) {
    const fs::path shard = root / "archive" / "blobs" / sha.substr(0, 2);
    const fs::path final_path = shard / sha;
    std::error_code ec;
    fs::create_directories(shard, ec);
    if (ec) {
        return Status::unavailable("creating " + shard.string() + ": " + ec.message());
    }
    const std::uintmax_t size = fs::file_size(src, ec);
    if (ec) {
        return Status::unavailable("stat " + src.string() + ": " + ec.message());
    }
    const fs::path tmp = shard / (".tmp-" + random_hex32());
    if (::rename(src.c_str(), tmp.c_str()) != 0) {
        return errno_status("moving " + src.string());
    }
    struct TmpGuard {
        fs::path path;
        ~TmpGuard() { ::unlink(path.c_str()); }
    } guard{tmp};
    {
        Fd fd(::open(tmp.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (fd.get() < 0 || ::fchmod(fd.get(), 0444) != 0 || ::fsync(fd.get()) != 0) {
            return errno_status("preparing " + tmp.string());
        }
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
        struct stat st {};
        if (::lstat(final_path.c_str(), &st) == 0) {
            if (S_ISREG(st.st_mode) && static_cast<std::uintmax_t>(st.st_size) == size) {
                Result<std::string> existing = sha256_file(final_path);
                if (existing && *existing == sha) {
                    ::utimensat(AT_FDCWD, final_path.c_str(), nullptr, 0);  // best effort
                    return false;
                }
            }
            // A damaged object under the blob's name: moved aside, never overwritten in place.
            const fs::path quarantine = root / "archive" / "quarantine";
            fs::create_directories(quarantine, ec);
            const fs::path aside = quarantine / (sha + "-" + random_hex32());
            if (::rename(final_path.c_str(), aside.c_str()) != 0) {
                return errno_status("quarantining " + final_path.string());
            }
        }
        int rc = ::link(tmp.c_str(), final_path.c_str());
        if (rc != 0 && (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP)) {
            rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_path.c_str(), RENAME_NOREPLACE);
        }
        if (rc == 0) {
            RUNICORN_RETURN_IF_ERROR(fsync_dir(shard));
            return true;
        }
        if (errno != EEXIST) {
            return errno_status("publishing blob " + sha);
        }
    }
    return Status::aborted("blob " + sha + " kept changing while being published");
}

Result<ImportReport> import_tree(const fs::path& tree, const ImportOptions& options,
                                 ImportReport report) {
    std::error_code ec;
    const fs::path root = options.root;
    if (fs::is_regular_file(tree / "RUNICORN-EXPORT.json", ec)) {
        const std::optional<json::value> doc = read_json(tree / "RUNICORN-EXPORT.json");
        const json::object* o = doc ? doc->if_object() : nullptr;
        const json::value* format = o != nullptr ? o->if_contains("format") : nullptr;
        if (format == nullptr || !format->is_string() ||
            format->get_string() != "runicorn-export") {
            report.warnings.push_back("RUNICORN-EXPORT.json is not a runicorn-export document");
        }
    } else if (fs::is_regular_file(tree / "index.json", ec) && !fs::exists(tree / "runs", ec)) {
        const std::optional<json::value> index = read_json(tree / "index.json");
        if (!index) {
            return Status::invalid_argument("index.json is malformed");
        }
        RUNICORN_RETURN_IF_ERROR(relayout_v06_zip(tree, *index, report));
    }
    Staged staged;
    RUNICORN_RETURN_IF_ERROR(classify(tree, staged, report));
    RUNICORN_RETURN_IF_ERROR(validate(staged, tree));

    Fd gc_lock;
    if (!staged.blobs.empty()) {
        RUNICORN_ASSIGN_OR_RETURN(gc_lock, writers_lock(root));
    }
    Rollback rollback;
    for (const auto& [sha, file] : staged.blobs) {
        RUNICORN_ASSIGN_OR_RETURN(const bool added, store_blob(root, sha, file));
        if (added) {
            ++report.blobs_added;
        }
        ++report.imported_files;
    }
    for (const auto& [rel, file] : staged.manifests) {
        const fs::path dst = root / rel;
        if (fs::exists(fs::symlink_status(dst, ec))) {
            continue;  // manifests are immutable: the same fingerprint is the same manifest
        }
        Status s = move_noreplace(file, dst);
        if (s.code() == StatusCode::kAlreadyExists) {
            continue;
        }
        RUNICORN_RETURN_IF_ERROR(s);
        rollback.moved({file, dst});
        ++report.imported_files;
    }
    for (const std::string& a : staged.artifacts) {
        RUNICORN_RETURN_IF_ERROR(apply_artifact(tree, root, a, rollback, report));
    }
    std::set<std::string> conflicting_ids;
    for (const StagedRun& run : staged.runs) {
        const fs::path dst = root / run.rel;
        const bool taken = fs::exists(fs::symlink_status(dst, ec)) ||
                           (options.run_exists && options.run_exists(run.run_id));
        Status s = taken ? Status::already_exists("exists") : move_noreplace(tree / run.rel, dst);
        if (s.code() == StatusCode::kAlreadyExists) {
            report.conflicts.push_back({run.run_id, run.path, "exists"});
            conflicting_ids.insert(run.run_id);
            continue;
        }
        RUNICORN_RETURN_IF_ERROR(s);
        rollback.moved({tree / run.rel, dst});
        report.new_run_dirs.push_back(dst);
        report.new_run_ids.push_back(run.run_id);
        report.imported_files += count_files(dst);
    }
    for (const std::string& id : staged.rolling) {
        const fs::path src = tree / "archive" / "outputs" / "rolling" / id;
        const fs::path dst = root / "archive" / "outputs" / "rolling" / id;
        if (conflicting_ids.count(id) != 0 || fs::exists(fs::symlink_status(dst, ec))) {
            report.skipped.push_back({"archive/outputs/rolling/" + id, "rolling outputs exist"});
            continue;
        }
        RUNICORN_RETURN_IF_ERROR(move_noreplace(src, dst));
        rollback.moved({src, dst});
        report.imported_files += count_files(dst);
    }
    std::sort(report.new_run_ids.begin(), report.new_run_ids.end());
    rollback.commit();
    return report;
}

}  // namespace

Status write_new_file(const fs::path& path, std::string_view bytes) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
        return errno_status("creating " + path.string());
    }
    while (!bytes.empty()) {
        const ssize_t w = ::write(fd.get(), bytes.data(), bytes.size());
        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno_status("writing " + path.string());
        }
        bytes.remove_prefix(static_cast<std::size_t>(w));
    }
    if (::fsync(fd.get()) != 0) {
        return errno_status("fsync " + path.string());
    }
    return Status::ok();
}

Result<StagingDir> StagingDir::create(const fs::path& root) {
    const fs::path base = root / "index" / "staging" / "imports";
    std::error_code ec;
    fs::create_directories(base, ec);
    if (ec) {
        return Status::unavailable("creating " + base.string() + ": " + ec.message());
    }
    const fs::path dir = base / random_hex32();
    if (::mkdir(dir.c_str(), 0700) != 0) {
        return errno_status("creating " + dir.string());
    }
    return StagingDir(dir);
}

StagingDir::StagingDir(StagingDir&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
}

StagingDir::~StagingDir() {
    if (!path_.empty()) {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
}

Result<ImportReport> import_archive(const ImportOptions& options) {
    std::error_code ec;
    const std::uintmax_t size = fs::file_size(options.upload, ec);
    if (ec) {
        return Status::unavailable("reading " + options.upload.string() + ": " + ec.message());
    }
    if (size > options.limits.max_upload_bytes) {
        return Status::resource_exhausted(
            "archive is larger than " + std::to_string(options.limits.max_upload_bytes) + " bytes");
    }
    std::string lower = options.filename;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto ends_with = [&lower](std::string_view s) {
        return lower.size() >= s.size() && lower.compare(lower.size() - s.size(), s.size(), s) == 0;
    };
    std::vector<bool> tries;  // true: zip
    if (ends_with(".zip")) {
        tries = {true};
    } else if (ends_with(".tar.gz") || ends_with(".tgz")) {
        tries = {false};
    } else {
        tries = {true, false};
    }
    const fs::path tree = options.staging / "tree";
    Status last = corrupt();
    for (const bool zip : tries) {
        fs::remove_all(tree, ec);
        if (::mkdir(tree.c_str(), 0700) != 0) {
            return errno_status("creating " + tree.string());
        }
        ImportReport report;
        bool unrecognised = false;
        last = extract(options.upload, zip, tree, options.limits, report.skipped, unrecognised);
        if (last.is_ok()) {
            return import_tree(tree, options, std::move(report));
        }
        if (!unrecognised) {
            return last;
        }
    }
    return last;
}

}  // namespace runicorn::http_plugin::archive
