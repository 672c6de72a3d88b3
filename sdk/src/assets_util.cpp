#include "assets_util.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <system_error>

#include <boost/json/value.hpp>
#include <openssl/evp.h>

#include <runicorn/runicorn.hpp>

#include "fs_util.hpp"
#include "json_convert.hpp"
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::sdk {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kChunk = std::size_t{1} << 20;

struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

/// An open file descriptor, closed when destroyed.
class Fd {
public:
    explicit Fd(int fd) noexcept : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&&) = delete;
    Fd& operator=(Fd&&) = delete;
    int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }

private:
    int fd_;
};

std::string hex(const unsigned char* d, unsigned n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(std::size_t{n} * 2);
    for (unsigned i = 0; i < n; ++i) {
        out.push_back(kHex[d[i] >> 4]);
        out.push_back(kHex[d[i] & 0xF]);
    }
    return out;
}

MdCtx new_ctx(const EVP_MD* md) {
    MdCtx ctx(EVP_MD_CTX_new());
    if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
        return nullptr;
    }
    return ctx;
}

std::string final_hex(EVP_MD_CTX* ctx) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> d{};
    unsigned n = 0;
    EVP_DigestFinal_ex(ctx, d.data(), &n);
    return hex(d.data(), n);
}

Status io_error(std::string_view what, const fs::path& p, int err) {
    std::string msg = std::string(what) + " '" + p.string() + "': " + kernel::errno_message(err);
    if (err == ENOENT) {
        return Status::not_found(std::move(msg));
    }
    if (err == EACCES || err == EPERM) {
        return Status::permission_denied(std::move(msg));
    }
    if (err == ENOSPC || err == EDQUOT) {
        return Status::resource_exhausted(std::move(msg));
    }
    return Status::unavailable(std::move(msg));
}

bool glob_match(const std::string& glob, const std::string& text) {
    return ::fnmatch(glob.c_str(), text.c_str(), FNM_NOESCAPE) == 0;
}

}  // namespace

Result<std::string> sha256_file(const fs::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        return io_error("cannot open", path, errno);
    }
    MdCtx ctx = new_ctx(EVP_sha256());
    if (ctx == nullptr) {
        return Status::internal("SHA-256 is not available");
    }
    std::vector<char> buf(kChunk);
    for (;;) {
        const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error("cannot read", path, errno);
        }
        if (n == 0) {
            break;
        }
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
    }
    return final_hex(ctx.get());
}

std::string sha1_hex(std::string_view text) {
    MdCtx ctx = new_ctx(EVP_sha1());
    if (ctx == nullptr) {
        return std::string(40, '0');
    }
    EVP_DigestUpdate(ctx.get(), text.data(), text.size());
    return final_hex(ctx.get());
}

std::string manifest_fingerprint(const std::vector<plugin::ManifestFile>& files) {
    std::vector<const plugin::ManifestFile*> sorted;
    sorted.reserve(files.size());
    for (const auto& f : files) {
        sorted.push_back(&f);
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->rel < b->rel; });
    MdCtx ctx = new_ctx(EVP_sha256());
    if (ctx == nullptr) {
        return {};
    }
    const char zero = '\0';
    for (const auto* f : sorted) {
        EVP_DigestUpdate(ctx.get(), f->rel.data(), f->rel.size());
        EVP_DigestUpdate(ctx.get(), &zero, 1);
        EVP_DigestUpdate(ctx.get(), f->sha256.data(), f->sha256.size());
        EVP_DigestUpdate(ctx.get(), &zero, 1);
    }
    return final_hex(ctx.get());
}

void finish_manifest(plugin::DirManifest& m) {
    // std::string compares as unsigned bytes through char_traits<char>::compare (memcmp).
    std::sort(m.files.begin(), m.files.end(),
              [](const auto& a, const auto& b) { return a.rel < b.rel; });
    m.file_count = m.files.size();
    m.total_size_bytes = 0;
    for (const auto& f : m.files) {
        m.total_size_bytes += f.size_bytes;
    }
    m.fingerprint = manifest_fingerprint(m.files);
}

std::string safe_name(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (out.size() >= 80) {
            break;
        }
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        out.push_back(ok ? c : '_');
    }
    return out;
}

Result<std::string> copy_file_hashed(const fs::path& src, const fs::path& dest) {
    Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.get() < 0) {
        return io_error("cannot open", src, errno);
    }
    std::error_code ec;
    fs::create_directories(dest.parent_path(), ec);
    std::random_device rd;
    const fs::path tmp = dest.parent_path() / ("." + dest.filename().string() + ".tmp-" +
                                               std::to_string(rd()) + std::to_string(::getpid()));
    Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (out.get() < 0) {
        return io_error("cannot create", tmp, errno);
    }
    auto fail = [&](Status s) -> Result<std::string> {
        ::unlink(tmp.c_str());
        return s;
    };
    MdCtx ctx = new_ctx(EVP_sha256());
    if (ctx == nullptr) {
        return fail(Status::internal("SHA-256 is not available"));
    }
    std::vector<char> buf(kChunk);
    for (;;) {
        const ssize_t n = ::read(in.get(), buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return fail(io_error("cannot read", src, errno));
        }
        if (n == 0) {
            break;
        }
        EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(n));
        ssize_t off = 0;
        while (off < n) {
            const ssize_t w =
                ::write(out.get(), buf.data() + off, static_cast<std::size_t>(n - off));
            if (w < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return fail(io_error("cannot write", tmp, errno));
            }
            off += w;
        }
    }
    if (::fsync(out.get()) != 0) {
        return fail(io_error("cannot sync", tmp, errno));
    }
    if (::close(out.release()) != 0) {
        return fail(io_error("cannot close", tmp, errno));
    }
    if (::rename(tmp.c_str(), dest.c_str()) != 0) {
        return fail(io_error("cannot rename onto", dest, errno));
    }
    return final_hex(ctx.get());
}

// ---- IgnoreRules ------------------------------------------------------------------------------

IgnoreRules IgnoreRules::for_workspace(const fs::path& root, std::string_view ignore_file,
                                       const std::vector<std::string>& extra) {
    IgnoreRules r;
    auto read = [](const fs::path& p) -> std::optional<std::string> {
        std::ifstream in(p, std::ios::binary);
        if (!in) {
            return std::nullopt;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        return ss.str();
    };
    if (auto g = read(root / ".gitignore")) {
        r.add_lines(*g);
    }
    std::optional<std::string> rn;
    if (!ignore_file.empty()) {
        rn = read(root / fs::path(std::string(ignore_file)));
    }
    if (rn) {
        r.add_lines(*rn);
    } else {
        // FORMAT.md §4.9 COMPAT (fix): the defaults apply in memory; the workspace is not written.
        for (const char* d :
             {".git/", ".venv/", "__pycache__/", "*.pyc", ".idea/", "node_modules/"}) {
            r.add_rule(d);
        }
    }
    for (const auto& e : extra) {
        r.add_rule(e);
    }
    return r;
}

void IgnoreRules::add_lines(std::string_view text) {
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) {
            nl = text.size();
        }
        add_rule(text.substr(pos, nl - pos));
        pos = nl + 1;
    }
}

void IgnoreRules::add_rule(std::string_view line) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
        line.remove_suffix(1);
    }
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
        line.remove_prefix(1);
    }
    if (line.empty() || line.front() == '#') {
        return;
    }
    Rule r;
    if (line.front() == '!') {
        r.negate = true;
        line.remove_prefix(1);
    }
    if (!line.empty() && line.front() == '/') {
        r.anchored = true;
        line.remove_prefix(1);
    }
    if (!line.empty() && line.back() == '/') {
        r.dir_only = true;
        while (!line.empty() && line.back() == '/') {
            line.remove_suffix(1);
        }
    }
    if (line.empty()) {
        return;
    }
    r.glob = std::string(line);
    rules_.push_back(std::move(r));
}

bool IgnoreRules::ignored(std::string_view rel, bool is_dir) const {
    const std::string whole(rel);
    bool result = false;
    for (const auto& r : rules_) {
        if (r.dir_only && !is_dir) {
            continue;
        }
        bool match = glob_match(r.glob, whole);
        if (!match && !r.anchored) {
            // Every tail of the path components: "a/b/c" → "b/c", "c".
            for (std::size_t i = whole.find('/'); i != std::string::npos && !match;
                 i = whole.find('/', i + 1)) {
                match = glob_match(r.glob, whole.substr(i + 1));
            }
        }
        if (match) {
            result = !r.negate;
        }
    }
    return result;
}

// ---- walks ------------------------------------------------------------------------------------

namespace {

bool inside(const fs::path& canon_root, const fs::path& canon) {
    auto r = canon_root.begin();
    auto c = canon.begin();
    for (; r != canon_root.end(); ++r, ++c) {
        if (c == canon.end() || *r != *c) {
            return false;
        }
    }
    return true;
}

struct Walker {
    fs::path root;
    fs::path canon_root;
    const IgnoreRules* ignore = nullptr;
    std::uint64_t max_files = 0;
    std::uint64_t max_bytes = 0;
    std::vector<std::string>* warnings = nullptr;
    std::vector<WalkedFile> out;
    WalkStats stats;
    bool over = false;

    void walk(const fs::path& dir, const std::string& prefix, int depth) {
        if (depth > 64 || over) {
            return;
        }
        std::error_code ec;
        std::vector<fs::directory_entry> entries;
        for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
             !ec && it != end; it.increment(ec)) {
            entries.push_back(*it);
        }
        if (ec) {
            warnings->push_back("skipped unreadable directory '" + dir.string() + "'");
            return;
        }
        std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            return a.path().filename().string() < b.path().filename().string();
        });
        for (const auto& e : entries) {
            if (over) {
                return;
            }
            const std::string name = e.path().filename().string();
            const std::string rel = prefix.empty() ? name : prefix + "/" + name;
            std::error_code lec;
            const auto lst = e.symlink_status(lec);
            if (lec) {
                warnings->push_back("skipped unreadable '" + e.path().string() + "'");
                continue;
            }
            if (fs::is_symlink(lst)) {
                std::error_code sec;
                const auto st = fs::status(e.path(), sec);
                if (sec || !fs::is_regular_file(st)) {
                    if (!sec && !fs::is_directory(st)) {
                        warnings->push_back("skipped '" + e.path().string() +
                                            "' (a symlink to a special file)");
                    }
                    continue;  // symlinked directories are not entered; dangling links skipped
                }
                const fs::path target = fs::canonical(e.path(), sec);
                if (sec || !inside(canon_root, target)) {
                    warnings->push_back("skipped '" + e.path().string() +
                                        "' (a symlink leading out of '" + root.string() + "')");
                    continue;
                }
                if (ignore != nullptr && ignore->ignored(rel, false)) {
                    continue;
                }
                add_file(e.path(), rel);
                continue;
            }
            if (fs::is_directory(lst)) {
                if (ignore != nullptr && ignore->ignored(rel, true)) {
                    continue;
                }
                walk(e.path(), rel, depth + 1);
                continue;
            }
            if (!fs::is_regular_file(lst)) {
                warnings->push_back("skipped '" + e.path().string() + "' (not a regular file)");
                continue;
            }
            if (ignore != nullptr && ignore->ignored(rel, false)) {
                continue;
            }
            add_file(e.path(), rel);
        }
    }

    void add_file(const fs::path& p, const std::string& rel) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0) {
            warnings->push_back("skipped unreadable '" + p.string() + "'");
            return;
        }
        WalkedFile f;
        f.path = p;
        f.rel = rel;
        f.size = static_cast<std::uint64_t>(st.st_size);
        f.executable = (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
        stats.files += 1;
        stats.bytes += f.size;
        out.push_back(std::move(f));
        if ((max_files > 0 && stats.files > max_files) ||
            (max_bytes > 0 && stats.bytes > max_bytes)) {
            over = true;
        }
    }
};

}  // namespace

Result<std::vector<WalkedFile>> walk_files(const fs::path& root, const IgnoreRules* ignore,
                                           std::uint64_t max_files, std::uint64_t max_bytes,
                                           std::vector<std::string>& warnings) {
    std::error_code ec;
    Walker w;
    w.root = root;
    w.canon_root = fs::canonical(root, ec);
    if (ec) {
        return Status::not_found("cannot read directory '" + root.string() + "': " + ec.message());
    }
    w.ignore = ignore;
    w.max_files = max_files;
    w.max_bytes = max_bytes;
    w.warnings = &warnings;
    w.walk(root, "", 0);
    if (w.over) {
        return Status::invalid_argument(
            "more than " + std::to_string(max_files) + " files or " + std::to_string(max_bytes) +
            " bytes under '" + root.string() + "' (" + std::to_string(w.stats.files) + " files, " +
            std::to_string(w.stats.bytes) + " bytes seen so far)");
    }
    return std::move(w.out);
}

WalkStats count_tree(const fs::path& root, std::uint64_t max_files, std::uint64_t max_bytes) {
    WalkStats s;
    std::error_code ec;
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
    for (fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
        std::error_code sec;
        const auto st = it->status(sec);  // follows symlinks
        if (sec || !fs::is_regular_file(st)) {
            continue;  // directories are entered (symlinked ones are not: no follow option)
        }
        const auto size = it->file_size(sec);
        if (sec) {
            continue;
        }
        s.files += 1;
        s.bytes += size;
        if ((max_files > 0 && s.files > max_files) || (max_bytes > 0 && s.bytes > max_bytes)) {
            break;
        }
    }
    return s;
}

std::optional<boost::json::object> read_json_object(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (text.size() >= 3 && text.compare(0, 3, "\xEF\xBB\xBF") == 0) {
        text.erase(0, 3);
    }
    auto parsed = Json::parse(text);
    if (!parsed.has_value() || !parsed.value().is_object()) {
        return std::nullopt;
    }
    boost::json::value v = to_boost(parsed.value());
    return std::move(v.as_object());
}

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace runicorn::sdk
