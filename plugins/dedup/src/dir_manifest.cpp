#include "dir_manifest.hpp"

#include <algorithm>
#include <charconv>
#include <system_error>

#include <boost/json.hpp>

#include "blob_layout.hpp"
#include "sha256.hpp"
#include <sys/stat.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

bool rel_less(const plugin::ManifestFile& a, const plugin::ManifestFile& b) {
    // std::string compares through char_traits<char>, i.e. as unsigned bytes (like memcmp):
    // the UTF-8 byte order, which is the code-point order Python sorts by.
    return a.rel < b.rel;
}

// Python's repr() of a float, for the values a manifest holds (finite, no exponent needed in
// practice): the shortest round-trip digits, with ".0" added to integral values.
std::string format_double(double v) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof(buf), v);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".eEn") == std::string::npos) {
        s += ".0";
    }
    return s;
}

std::string quote(std::string_view s) { return json::serialize(json::string(s)); }

Result<std::uint64_t> read_uint(const json::value& v, std::string_view what) {
    if (const auto* i = v.if_int64(); i != nullptr && *i >= 0) {
        return static_cast<std::uint64_t>(*i);
    }
    if (const auto* u = v.if_uint64(); u != nullptr) {
        return *u;
    }
    if (const auto* d = v.if_double();
        d != nullptr && *d >= 0 && *d == static_cast<double>(static_cast<std::uint64_t>(*d))) {
        return static_cast<std::uint64_t>(*d);
    }
    return Status::invalid_argument(std::string(what) + " is not a non-negative integer");
}

}  // namespace

std::string manifest_fingerprint(std::span<const plugin::ManifestFile> files) {
    std::vector<const plugin::ManifestFile*> sorted;
    sorted.reserve(files.size());
    for (const auto& f : files) {
        sorted.push_back(&f);
    }
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return rel_less(*a, *b); });
    auto h = Sha256::create();
    if (!h) {
        return {};
    }
    static constexpr char kZero = '\0';
    for (const auto* f : sorted) {
        h->update(f->rel.data(), f->rel.size());
        h->update(&kZero, 1);
        h->update(f->sha256.data(), f->sha256.size());
        h->update(&kZero, 1);
    }
    return h->hex_digest();
}

void finalize_manifest(plugin::DirManifest& m) {
    std::sort(m.files.begin(), m.files.end(), rel_less);
    m.file_count = m.files.size();
    m.total_size_bytes = 0;
    for (const auto& f : m.files) {
        m.total_size_bytes += f.size_bytes;
    }
    m.fingerprint = manifest_fingerprint(m.files);
}

std::string manifest_to_json(const plugin::DirManifest& m) {
    std::string out = "{\n";
    out += "  \"created_at\": " + format_double(m.created_at) + ",\n";
    out += "  \"source_path\": " + (m.source_path.empty() ? "null" : quote(m.source_path)) + ",\n";
    out += "  \"fingerprint\": " + quote(m.fingerprint) + ",\n";
    out += "  \"total_size_bytes\": " + std::to_string(m.total_size_bytes) + ",\n";
    out += "  \"file_count\": " + std::to_string(m.file_count) + ",\n";
    if (m.files.empty()) {
        out += "  \"files\": {}\n}\n";
        return out;
    }
    out += "  \"files\": {\n";
    for (std::size_t i = 0; i < m.files.size(); ++i) {
        const auto& f = m.files[i];
        out += "    " + quote(f.rel) + ": {\n";
        out += "      \"sha256\": " + quote(f.sha256) + ",\n";
        out += "      \"size_bytes\": " + std::to_string(f.size_bytes);
        if (f.executable) {
            out += ",\n      \"executable\": true";
        }
        out += "\n    }";
        out += i + 1 < m.files.size() ? ",\n" : "\n";
    }
    out += "  }\n}\n";
    return out;
}

Status validate_rel_path(std::string_view rel) {
    const auto bad = [&](std::string_view why) {
        return Status::invalid_argument("unsafe manifest path '" + std::string(rel) +
                                        "': " + std::string(why));
    };
    if (rel.empty()) {
        return bad("empty");
    }
    if (rel.front() == '/') {
        return bad("absolute");
    }
    if (rel.find('\0') != std::string_view::npos) {
        return bad("contains a NUL byte");
    }
    std::size_t start = 0;
    while (start <= rel.size()) {
        auto end = rel.find('/', start);
        if (end == std::string_view::npos) {
            end = rel.size();
        }
        const auto part = rel.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") {
            return bad("has an empty, '.' or '..' component");
        }
        start = end + 1;
    }
    return Status::ok();
}

Result<plugin::DirManifest> manifest_from_json(const json::value& v) {
    const auto* obj = v.if_object();
    if (obj == nullptr) {
        return Status::invalid_argument("a manifest is a JSON object");
    }
    plugin::DirManifest m;
    if (const auto* c = obj->if_contains("created_at"); c != nullptr && c->is_number()) {
        m.created_at = c->to_number<double>();
    }
    if (const auto* s = obj->if_contains("source_path"); s != nullptr && s->is_string()) {
        m.source_path = std::string(s->get_string());
    }
    const auto* files = obj->if_contains("files");
    if (files == nullptr || !files->is_object()) {
        return Status::invalid_argument("a manifest's \"files\" is an object");
    }
    for (const auto& [key, entry] : files->get_object()) {
        plugin::ManifestFile f;
        f.rel = std::string(key);
        RUNICORN_RETURN_IF_ERROR(validate_rel_path(f.rel));
        const auto* e = entry.if_object();
        const auto* sha = e != nullptr ? e->if_contains("sha256") : nullptr;
        if (sha == nullptr || !sha->is_string() || !is_sha256_hex(sha->get_string())) {
            return Status::invalid_argument("manifest entry '" + f.rel +
                                            "' has no 64-hex \"sha256\"");
        }
        f.sha256 = std::string(sha->get_string());
        const auto* size = e->if_contains("size_bytes");
        if (size == nullptr) {
            return Status::invalid_argument("manifest entry '" + f.rel + "' has no \"size_bytes\"");
        }
        auto n = read_uint(*size, "manifest entry '" + f.rel + "' \"size_bytes\"");
        if (!n) {
            return n.error();
        }
        f.size_bytes = *n;
        if (const auto* x = e->if_contains("executable"); x != nullptr && x->is_bool()) {
            f.executable = x->get_bool();
        }
        m.files.push_back(std::move(f));
    }
    const auto recorded_fp = obj->if_contains("fingerprint");
    finalize_manifest(m);
    if (recorded_fp != nullptr && recorded_fp->is_string()) {
        m.fingerprint = std::string(recorded_fp->get_string());
    }
    return m;
}

namespace {

void walk_into(const fs::path& dir, const std::string& prefix, WalkResult& out) {
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
        out.warnings.push_back("skipped unreadable directory '" + dir.string() +
                               "': " + ec.message());
        return;
    }
    for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const auto& p = it->path();
        const std::string rel = prefix + p.filename().string();
        struct stat lst {};
        if (::lstat(p.c_str(), &lst) != 0) {
            continue;  // vanished while walking
        }
        if (S_ISDIR(lst.st_mode)) {
            walk_into(p, rel + "/", out);
            continue;
        }
        struct stat st = lst;
        if (S_ISLNK(lst.st_mode)) {
            if (::stat(p.c_str(), &st) != 0) {
                out.warnings.push_back("skipped dangling symlink '" + p.string() + "'");
                continue;
            }
            if (S_ISDIR(st.st_mode)) {
                continue;  // symlinked directories are not entered (v0.6 does the same)
            }
        }
        if (!S_ISREG(st.st_mode)) {
            out.warnings.push_back("skipped special file '" + p.string() +
                                   "' (not a regular file)");
            continue;
        }
        out.files.push_back({rel, p, (st.st_mode & 0111) != 0});
    }
    if (ec) {
        out.warnings.push_back("stopped reading directory '" + dir.string() + "': " + ec.message());
    }
}

}  // namespace

Result<WalkResult> walk_directory(const fs::path& dir) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        return Status::not_found("directory '" + dir.string() + "' does not exist");
    }
    if (!S_ISDIR(st.st_mode)) {
        return Status::invalid_argument("'" + dir.string() + "' is not a directory");
    }
    WalkResult out;
    walk_into(dir, "", out);
    std::sort(out.files.begin(), out.files.end(),
              [](const WalkedFile& a, const WalkedFile& b) { return a.rel < b.rel; });
    return out;
}

}  // namespace runicorn::dedup
