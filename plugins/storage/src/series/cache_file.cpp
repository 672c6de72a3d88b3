#include "cache_file.hpp"

#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <system_error>

#include <boost/json.hpp>

#include "unique_fd.hpp"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::storage::series {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// Bump on any change of the layout described in cache_file.hpp.
constexpr std::int64_t kCacheVersion = 1;

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

Status io_error(const fs::path& p, std::string_view what, int err) {
    return Status::internal(std::string(what) + " '" + p.string() + "': " + errno_text(err));
}

Status write_all_at(int fd, const char* data, std::size_t len, std::uint64_t off,
                    const fs::path& p) {
    while (len > 0) {
        const ssize_t n = ::pwrite(fd, data, len, static_cast<off_t>(off));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return io_error(p, "writing", errno);
        }
        data += n;
        len -= static_cast<std::size_t>(n);
        off += static_cast<std::uint64_t>(n);
    }
    return ok_status();
}

// Writes bytes [from, total) of `all` at the same offsets of file `p`, cuts the file at `total`
// and syncs it.
Status write_tail(const fs::path& p, const void* all, std::uint64_t total, std::uint64_t from) {
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!fd.valid()) {
        return io_error(p, "opening", errno);
    }
    if (from > total) {
        from = 0;
    }
    RUNICORN_RETURN_IF_ERROR(
        write_all_at(fd.get(), static_cast<const char*>(all) + from, total - from, from, p));
    if (::ftruncate(fd.get(), static_cast<off_t>(total)) != 0) {
        return io_error(p, "truncating", errno);
    }
    if (::fdatasync(fd.get()) != 0) {
        return io_error(p, "syncing", errno);
    }
    return ok_status();
}

template <class T>
Status write_column(const fs::path& p, const std::vector<T>& v, std::uint64_t saved_count) {
    return write_tail(p, v.data(), v.size() * sizeof(T), saved_count * sizeof(T));
}

Status fsync_dir(const fs::path& dir) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) {
        return io_error(dir, "opening directory", errno);
    }
    if (::fsync(fd.get()) != 0) {
        return io_error(dir, "syncing directory", errno);
    }
    return ok_status();
}

Status read_exact(const fs::path& p, void* out, std::uint64_t len) {
    if (len == 0) {
        return ok_status();
    }
    UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return Status::data_loss("opening '" + p.string() + "': " + errno_text(errno));
    }
    auto* dst = static_cast<char*>(out);
    std::uint64_t off = 0;
    while (off < len) {
        const ssize_t n = ::pread(fd.get(), dst + off, len - off, static_cast<off_t>(off));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return Status::data_loss("reading '" + p.string() + "': shorter than header.json says");
        }
        off += static_cast<std::uint64_t>(n);
    }
    return ok_status();
}

template <class T>
Status read_column(const fs::path& p, std::vector<T>& v, std::uint64_t count) {
    v.resize(count);
    return read_exact(p, v.data(), count * sizeof(T));
}

fs::path key_file(const fs::path& dir, std::size_t id, std::string_view ext) {
    std::string name = "k" + std::to_string(id);
    name.append(ext);
    return dir / name;
}

std::uint64_t get_u64(const json::object& o, std::string_view k) {
    const json::value* v = o.if_contains(k);
    if (v == nullptr) {
        return 0;
    }
    if (v->is_uint64()) {
        return v->get_uint64();
    }
    if (v->is_int64() && v->get_int64() >= 0) {
        return static_cast<std::uint64_t>(v->get_int64());
    }
    return 0;
}

}  // namespace

std::uint64_t checksum(std::string_view bytes) {
    std::uint64_t h = 14695981039346656037ULL;
    for (const char c : bytes) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    return h;
}

Status save_cache(const fs::path& dir, const SeriesData& d, const SourceMark& mark,
                  SavedCounts& saved) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return Status::internal("creating '" + dir.string() + "': " + ec.message());
    }
    const fs::path lock_path = dir / "lock";
    UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!lock.valid()) {
        return io_error(lock_path, "opening", errno);
    }
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK) {
            return Status::unavailable("metric cache '" + dir.string() +
                                       "' is being written by another process");
        }
        return io_error(lock_path, "locking", errno);
    }
    const fs::path header = dir / "header.json";
    if (!saved.on_disk) {
        // Files are about to be rewritten from byte 0: drop the old commit point first so a
        // crash in between can never pair an old header with new bytes.
        if (::unlink(header.c_str()) != 0 && errno != ENOENT) {
            return io_error(header, "removing", errno);
        }
        RUNICORN_RETURN_IF_ERROR(fsync_dir(dir));
        saved = SavedCounts{};
    }

    RUNICORN_RETURN_IF_ERROR(write_column(dir / "rec_time.bin", d.record_time, saved.records));
    RUNICORN_RETURN_IF_ERROR(write_column(dir / "rec_step.bin", d.record_step, saved.records));
    RUNICORN_RETURN_IF_ERROR(write_column(dir / "rec_stage.bin", d.record_stage, saved.records));
    {
        std::string buf;
        std::uint64_t total = saved.strings_bytes;
        for (std::size_t i = saved.strings; i < d.strings.size(); ++i) {
            const auto len = static_cast<std::uint32_t>(d.strings[i].size());
            buf.append(reinterpret_cast<const char*>(&len), sizeof(len));
            buf.append(d.strings[i]);
        }
        total += buf.size();
        // write_tail wants the whole content; only the tail is in memory, so offset the pointer.
        const fs::path p = dir / "strings.bin";
        UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        if (!fd.valid()) {
            return io_error(p, "opening", errno);
        }
        RUNICORN_RETURN_IF_ERROR(
            write_all_at(fd.get(), buf.data(), buf.size(), saved.strings_bytes, p));
        if (::ftruncate(fd.get(), static_cast<off_t>(total)) != 0) {
            return io_error(p, "truncating", errno);
        }
        if (::fdatasync(fd.get()) != 0) {
            return io_error(p, "syncing", errno);
        }
        saved.strings_bytes = total;
    }
    saved.keys.resize(d.keys.size());
    json::array keys;
    for (std::size_t id = 0; id < d.keys.size(); ++id) {
        const KeyData& k = d.keys[id];
        SavedCounts::Key& sk = saved.keys[id];
        RUNICORN_RETURN_IF_ERROR(write_column(key_file(dir, id, ".step"), k.step, sk.points));
        RUNICORN_RETURN_IF_ERROR(write_column(key_file(dir, id, ".value"), k.value, sk.points));
        RUNICORN_RETURN_IF_ERROR(write_column(key_file(dir, id, ".ord"), k.ordinal, sk.points));
        if (!k.kind.empty()) {
            RUNICORN_RETURN_IF_ERROR(write_column(key_file(dir, id, ".kind"), k.kind, sk.kinds));
        }
        RUNICORN_RETURN_IF_ERROR(write_column(key_file(dir, id, ".side"), k.side, sk.sides));
        sk.points = k.value.size();
        sk.kinds = k.kind.size();
        sk.sides = k.side.size();
        keys.push_back(json::object{
            {"name", k.name}, {"points", sk.points}, {"kinds", sk.kinds}, {"sides", sk.sides}});
    }
    saved.records = d.record_time.size();
    saved.strings = d.strings.size();

    const json::object doc{
        {"version", kCacheVersion},
        {"source", json::object{{"dev", mark.dev},
                                {"ino", mark.ino},
                                {"offset", d.stats.offset},
                                {"head_len", mark.head_len},
                                {"head_sum", mark.head_sum},
                                {"tail_len", mark.tail_len},
                                {"tail_sum", mark.tail_sum}}},
        {"stats", json::object{{"lines", d.stats.lines},
                               {"records", d.stats.records},
                               {"bad_lines", d.stats.bad_lines},
                               {"first_bad_line", d.stats.first_bad_line}}},
        {"records", saved.records},
        {"strings", saved.strings},
        {"strings_bytes", saved.strings_bytes},
        {"keys", std::move(keys)},
    };
    const std::string text = json::serialize(doc);
    std::random_device rd;
    const fs::path tmp = dir / (".header.json." + std::to_string(rd()) + ".tmp");
    {
        UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd.valid()) {
            return io_error(tmp, "creating", errno);
        }
        Status st = write_all_at(fd.get(), text.data(), text.size(), 0, tmp);
        if (st.is_ok() && ::fsync(fd.get()) != 0) {
            st = io_error(tmp, "syncing", errno);
        }
        if (!st.is_ok()) {
            ::unlink(tmp.c_str());
            saved.on_disk = false;
            return st;
        }
    }
    if (::rename(tmp.c_str(), header.c_str()) != 0) {
        const int err = errno;
        ::unlink(tmp.c_str());
        saved.on_disk = false;
        return io_error(header, "replacing", err);
    }
    saved.on_disk = true;
    return fsync_dir(dir);
}

Result<SourceMark> load_cache(const fs::path& dir, SeriesData& d, SavedCounts& saved) {
    const fs::path header = dir / "header.json";
    std::string text;
    {
        UniqueFd fd(::open(header.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd.valid()) {
            if (errno == ENOENT) {
                return Status::not_found("no metric cache in '" + dir.string() + "'");
            }
            return Status::data_loss("opening '" + header.string() + "': " + errno_text(errno));
        }
        struct stat st {};
        if (::fstat(fd.get(), &st) != 0) {
            return Status::data_loss("reading '" + header.string() + "': " + errno_text(errno));
        }
        text.resize(static_cast<std::size_t>(st.st_size));
        RUNICORN_RETURN_IF_ERROR(read_exact(header, text.data(), text.size()));
    }
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return Status::data_loss("'" + header.string() + "' is not a JSON object");
    }
    const json::object& o = v.get_object();
    const json::value* ver = o.if_contains("version");
    if (ver == nullptr || !ver->is_int64() || ver->get_int64() != kCacheVersion) {
        return Status::data_loss("'" + header.string() + "' has another cache version");
    }
    const json::value* src = o.if_contains("source");
    const json::value* stats = o.if_contains("stats");
    const json::value* keys = o.if_contains("keys");
    if (src == nullptr || !src->is_object() || stats == nullptr || !stats->is_object() ||
        keys == nullptr || !keys->is_array()) {
        return Status::data_loss("'" + header.string() + "' lacks source, stats or keys");
    }
    SourceMark mark;
    mark.valid = true;
    mark.dev = get_u64(src->get_object(), "dev");
    mark.ino = get_u64(src->get_object(), "ino");
    mark.head_len = get_u64(src->get_object(), "head_len");
    mark.head_sum = get_u64(src->get_object(), "head_sum");
    mark.tail_len = get_u64(src->get_object(), "tail_len");
    mark.tail_sum = get_u64(src->get_object(), "tail_sum");

    SeriesData out;
    out.stats.offset = get_u64(src->get_object(), "offset");
    out.stats.dev = mark.dev;
    out.stats.ino = mark.ino;
    out.stats.lines = get_u64(stats->get_object(), "lines");
    out.stats.records = get_u64(stats->get_object(), "records");
    out.stats.bad_lines = get_u64(stats->get_object(), "bad_lines");
    out.stats.first_bad_line = get_u64(stats->get_object(), "first_bad_line");

    SavedCounts sc;
    sc.records = get_u64(o, "records");
    sc.strings = get_u64(o, "strings");
    sc.strings_bytes = get_u64(o, "strings_bytes");
    RUNICORN_RETURN_IF_ERROR(read_column(dir / "rec_time.bin", out.record_time, sc.records));
    RUNICORN_RETURN_IF_ERROR(read_column(dir / "rec_step.bin", out.record_step, sc.records));
    RUNICORN_RETURN_IF_ERROR(read_column(dir / "rec_stage.bin", out.record_stage, sc.records));
    {
        std::string buf(sc.strings_bytes, '\0');
        RUNICORN_RETURN_IF_ERROR(read_exact(dir / "strings.bin", buf.data(), buf.size()));
        std::size_t pos = 0;
        for (std::uint64_t i = 0; i < sc.strings; ++i) {
            std::uint32_t len = 0;
            if (pos + sizeof(len) > buf.size()) {
                return Status::data_loss("'" + (dir / "strings.bin").string() + "' is truncated");
            }
            std::memcpy(&len, buf.data() + pos, sizeof(len));
            pos += sizeof(len);
            if (pos + len > buf.size()) {
                return Status::data_loss("'" + (dir / "strings.bin").string() + "' is truncated");
            }
            out.strings.emplace_back(buf.data() + pos, len);
            pos += len;
        }
    }
    for (const json::value& kv : keys->get_array()) {
        if (!kv.is_object() || kv.get_object().if_contains("name") == nullptr ||
            !kv.get_object().at("name").is_string()) {
            return Status::data_loss("'" + header.string() + "' has a malformed key entry");
        }
        const json::object& ko = kv.get_object();
        const std::size_t id = out.keys.size();
        out.keys.emplace_back();
        KeyData& k = out.keys.back();
        k.name = std::string(ko.at("name").get_string());
        SavedCounts::Key sk{get_u64(ko, "points"), get_u64(ko, "sides"), get_u64(ko, "kinds")};
        if (sk.kinds != 0 && sk.kinds != sk.points) {
            return Status::data_loss("'" + header.string() + "' has inconsistent kind counts");
        }
        RUNICORN_RETURN_IF_ERROR(read_column(key_file(dir, id, ".step"), k.step, sk.points));
        RUNICORN_RETURN_IF_ERROR(read_column(key_file(dir, id, ".value"), k.value, sk.points));
        RUNICORN_RETURN_IF_ERROR(read_column(key_file(dir, id, ".ord"), k.ordinal, sk.points));
        RUNICORN_RETURN_IF_ERROR(read_column(key_file(dir, id, ".kind"), k.kind, sk.kinds));
        RUNICORN_RETURN_IF_ERROR(read_column(key_file(dir, id, ".side"), k.side, sk.sides));
        for (std::uint32_t ord : k.ordinal) {
            if (ord >= sc.records) {
                return Status::data_loss("'" + header.string() + "': key '" + k.name +
                                         "' refers to a record beyond the cache");
            }
        }
        sc.keys.push_back(sk);
    }
    for (std::uint32_t st : out.record_stage) {
        if (st != kNoString && st >= out.strings.size()) {
            return Status::data_loss("'" + header.string() + "': stage id out of range");
        }
    }
    for (const KeyData& k : out.keys) {
        for (const SideEntry& e : k.side) {
            if ((e.str != kNoString && e.str >= out.strings.size()) || e.ordinal >= sc.records) {
                return Status::data_loss("'" + header.string() + "': side entry out of range");
            }
        }
    }
    out.rebuild_lookup();
    out.derive(DeriveMark{});
    sc.on_disk = true;
    d = std::move(out);
    saved = std::move(sc);
    return mark;
}

}  // namespace runicorn::storage::series
