#include "run_writer.hpp"

#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>

#include "json_io.hpp"
#include "json_values.hpp"
#include "run_paths.hpp"
#include "store_marker.hpp"
#include "sys_info.hpp"
#include "v06_index.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::storage {
namespace fs = std::filesystem;
namespace json = boost::json;
using plugin::RunCreateOptions;
using plugin::RunJsonFile;

namespace {

constexpr std::size_t kMaxEventLine = std::size_t{16} << 20;
constexpr std::size_t kScanChunk = std::size_t{64} << 10;

/// Directories created by one open() call, removed again (deepest first, only when empty) unless
/// the call succeeds. Thread safety: externally synchronized.
class CreatedDirs {
public:
    CreatedDirs() = default;
    ~CreatedDirs() {
        if (committed_) {
            return;
        }
        for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
            ::rmdir(it->c_str());
        }
    }
    CreatedDirs(const CreatedDirs&) = delete;
    CreatedDirs& operator=(const CreatedDirs&) = delete;
    CreatedDirs(CreatedDirs&&) = delete;
    CreatedDirs& operator=(CreatedDirs&&) = delete;

    /// Creates `dir` and its missing ancestors, remembering the ones it made.
    Status create_all(const fs::path& dir) {
        std::vector<fs::path> missing;
        std::error_code ec;
        for (fs::path p = dir; !p.empty() && !fs::exists(p, ec); p = p.parent_path()) {
            missing.push_back(p);
            if (p == p.parent_path()) {
                break;
            }
        }
        for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
            if (::mkdir(it->c_str(), 0755) == 0) {
                dirs_.push_back(*it);
            } else if (errno != EEXIST) {
                return io_error(errno, "creating directory", *it);
            }
        }
        return Status::ok();
    }
    /// fsyncs the parent of every directory this object created (FORMAT.md C6).
    Status sync_parents() const {
        for (const auto& d : dirs_) {
            RUNICORN_RETURN_IF_ERROR(fsync_directory(d.parent_path()));
        }
        return Status::ok();
    }
    void commit() { committed_ = true; }

private:
    std::vector<fs::path> dirs_;
    bool committed_ = false;
};

/// Removes a new run's folder when open() fails after creating it ("nothing is left behind").
/// Thread safety: externally synchronized.
class RemoveOnFailure {
public:
    explicit RemoveOnFailure(fs::path dir) : dir_(std::move(dir)) {}
    ~RemoveOnFailure() {
        if (armed_) {
            std::error_code ignored;
            fs::remove_all(dir_, ignored);
        }
    }
    RemoveOnFailure(const RemoveOnFailure&) = delete;
    RemoveOnFailure& operator=(const RemoveOnFailure&) = delete;
    RemoveOnFailure(RemoveOnFailure&&) = delete;
    RemoveOnFailure& operator=(RemoveOnFailure&&) = delete;

    void disarm() { armed_ = false; }

private:
    fs::path dir_;
    bool armed_ = true;
};

const char* json_file_name(RunJsonFile file) {
    switch (file) {
        case RunJsonFile::kMeta:
            return "meta.json";
        case RunJsonFile::kStatus:
            return "status.json";
        case RunJsonFile::kSummary:
            return "summary.json";
        case RunJsonFile::kAssets:
            return "assets.json";
    }
    return "meta.json";
}

/// "runicorn-cpp/0.1.0" from a writer string "runicorn-cpp/0.1.0 cpp".
std::string product_of(std::string_view writer) {
    const auto space = writer.find(' ');
    std::string product(writer.substr(0, space));
    return product.empty() ? std::string("runicorn-cpp") : product;
}

/// The step of one events.jsonl line when it is a metrics record that has one.
std::optional<std::int64_t> metrics_step(std::string_view line) {
    if (!line.empty() && line.back() == '\r') {
        line.remove_suffix(1);
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) {
        return std::nullopt;
    }
    auto value = parse_json(line);
    if (!value || !value->is_object()) {
        return std::nullopt;
    }
    const auto& record = value->get_object();
    const auto type = json_string(record, "type");
    const auto* data = record.if_contains("data");
    if (!type || *type != "metrics" || data == nullptr || !data->is_object()) {
        return std::nullopt;
    }
    if (auto step = json_int(data->get_object(), "global_step")) {
        return step;
    }
    return json_int(data->get_object(), "step");
}

json::object new_meta(const std::string& id, const std::string& path,
                      const RunCreateOptions& options, double created_at, const fs::path& root,
                      const fs::path& workspace_root) {
    json::object meta;
    meta["id"] = id;
    meta["path"] = path;
    meta["alias"] = options.alias ? json::value(*options.alias) : json::value(nullptr);
    meta["created_at"] = created_at;
    meta["python"] =
        options.python_version ? json::value(*options.python_version) : json::value(nullptr);
    meta["platform"] = platform_string();
    meta["hostname"] = local_hostname();
    meta["pid"] = static_cast<std::int64_t>(::getpid());
    meta["storage_dir"] = root.string();
    meta["workspace_root"] = workspace_root.string();
    json::array tags;
    for (const auto& t : options.tags) {
        tags.emplace_back(t);
    }
    meta["tags"] = std::move(tags);
    meta["format_version"] = 1;
    meta["writer"] = options.writer;
    meta["boot_id"] = local_boot_id();
    meta["process_start"] = process_start_time(::getpid()).value_or(0.0);
    return meta;
}

json::object empty_assets() {
    json::object assets;
    assets["code"] = json::object();
    assets["config"] = json::object();
    assets["datasets"] = json::array();
    assets["pretrained"] = json::array();
    assets["outputs"] = json::array();
    return assets;
}

/// Writes the files of a brand-new run folder (SDK.md §1.1) and makes them durable (C1, C6).
Status populate_new_run(const fs::path& dir, const json::object& meta, double created_at) {
    RUNICORN_RETURN_IF_ERROR(write_json_file(dir / "meta.json", meta));
    json::object status;
    status["status"] = "running";
    status["started_at"] = created_at;
    RUNICORN_RETURN_IF_ERROR(write_json_file(dir / "status.json", status));
    RUNICORN_RETURN_IF_ERROR(write_json_file(dir / "assets.json", empty_assets()));
    if (::mkdir((dir / "media").c_str(), 0755) != 0) {
        return io_error(errno, "creating directory", dir / "media");
    }
    RUNICORN_RETURN_IF_ERROR(fsync_directory(dir));
    return fsync_directory(dir.parent_path());
}

Result<FileLock> take_writer_lock(const fs::path& dir, const std::string& id) {
    auto lock = FileLock::acquire(dir / ".writer.lock", kWriterLockWait);
    if (!lock && lock.error().code() == StatusCode::kUnavailable) {
        return Status::unavailable("run '" + id + "' is in use by another writer");
    }
    return lock;
}

Status check_media_name(std::string_view name) {
    std::string_view reason;
    if (name.empty()) {
        reason = "empty";
    } else if (name.front() == '.') {
        reason = "a leading '.' is not allowed";
    } else if (name.find_first_of(std::string_view("/\\\0", 3)) != std::string_view::npos) {
        reason = "a separator or NUL is not allowed";
    } else {
        return Status::ok();
    }
    return Status::invalid_argument("invalid media file name '" + std::string(name) +
                                    "': " + std::string(reason));
}

}  // namespace

struct FolderRunWriter::Identity {
    std::string hostname = local_hostname();
    std::string boot_id = local_boot_id();
    std::int64_t pid = ::getpid();
    double process_start = process_start_time(::getpid()).value_or(0.0);
};

FolderRunWriter::FolderRunWriter(std::string run_id, std::optional<std::string> path,
                                 fs::path run_dir, fs::path workspace_root, std::string writer,
                                 FileLock writer_lock, std::shared_ptr<spdlog::logger> log)
    : run_id_(std::move(run_id)),
      path_(std::move(path)),
      run_dir_(std::move(run_dir)),
      workspace_root_(std::move(workspace_root)),
      writer_(std::move(writer)),
      writer_lock_(std::move(writer_lock)),
      log_(std::move(log)),
      events_(run_dir_ / "events.jsonl"),
      logs_(run_dir_ / "logs.txt"),
      session_(random_hex(16)) {}

FolderRunWriter::~FolderRunWriter() {
    if (closed_) {
        return;
    }
    const Status s = close();
    if (!s.is_ok() && log_) {
        log_->warn("closing run '{}': {}", run_id_, s.message());
    }
}

Result<std::shared_ptr<FolderRunWriter>> FolderRunWriter::open(
    const fs::path& root_in, const RunCreateOptions& options,
    const std::shared_ptr<spdlog::logger>& log, bool write_v06_index) {
    using Resume = RunCreateOptions::Resume;
    RUNICORN_ASSIGN_OR_RETURN(const std::string norm, normalize_path(options.path));
    if (!options.run_id.empty()) {
        RUNICORN_RETURN_IF_ERROR(validate_run_id(options.run_id));
    } else if (options.resume == Resume::kMust) {
        return Status::invalid_argument("resume 'must' needs a run id");
    }
    std::error_code ec;
    fs::path root = fs::absolute(root_in, ec).lexically_normal();
    if (!root.has_filename() && root.has_parent_path() && root != root.root_path()) {
        root = root.parent_path();  // "/data/store/" → "/data/store"
    }
    const fs::path parent = norm.empty() ? root / "runs" : root / "runs" / norm;
    const fs::path workspace =
        options.workspace_root.empty() ? detect_workspace_root() : fs::path(options.workspace_root);
    const std::optional<std::string> api_path =
        norm.empty() ? std::nullopt : std::optional<std::string>(norm);
    const std::string shown_path = norm.empty() ? std::string("(root)") : norm;

    CreatedDirs created;
    std::string id = options.run_id;
    fs::path dir;
    bool reopen = false;
    if (options.resume == Resume::kMust) {
        dir = parent / id;
        if (!fs::is_directory(dir, ec)) {
            return Status::not_found("run '" + id + "' does not exist under path '" + shown_path +
                                     "'");
        }
        reopen = true;
    } else {
        RUNICORN_RETURN_IF_ERROR(created.create_all(parent));
        for (int attempt = 0;; ++attempt) {
            if (options.run_id.empty()) {
                if (attempt == kRunIdAttempts) {
                    return Status::already_exists("no free run id under '" + parent.string() +
                                                  "' after " + std::to_string(kRunIdAttempts) +
                                                  " tries");
                }
                id = generate_run_id(std::chrono::system_clock::now());
            }
            dir = parent / id;
            if (::mkdir(dir.c_str(), 0755) == 0) {
                break;
            }
            const int err = errno;
            if (err != EEXIST) {
                return io_error(err, "creating directory", dir);
            }
            if (options.run_id.empty()) {
                continue;
            }
            if (options.resume == Resume::kNever) {
                return Status::already_exists("run '" + id + "' already exists at '" +
                                              dir.string() + "'");
            }
            reopen = true;
            break;
        }
    }

    if (reopen) {
        if (!fs::exists(dir / "meta.json", ec) && !fs::exists(dir / "status.json", ec)) {
            return Status::failed_precondition("'" + dir.string() +
                                               "' is not a run folder (no meta.json or "
                                               "status.json)");
        }
        RUNICORN_ASSIGN_OR_RETURN(FileLock lock, take_writer_lock(dir, id));
        std::shared_ptr<FolderRunWriter> w(new FolderRunWriter(
            id, api_path, dir, workspace, options.writer, std::move(lock), log));
        w->resumed_ = true;
        w->root_ = root;
        w->write_v06_index_ = write_v06_index;
        RUNICORN_RETURN_IF_ERROR(w->events_.open_existing());
        RUNICORN_RETURN_IF_ERROR(w->logs_.open_existing());
        w->last_step_ = find_last_step(dir / "events.jsonl");
        if (const auto summary = load_json_object(dir / "summary.json", log.get())) {
            if (summary->contains("best_metric_name")) {
                json::object best;
                for (const char* key : {"best_metric_name", "best_metric_value", "best_metric_step",
                                        "best_metric_mode"}) {
                    if (const auto* v = summary->if_contains(key)) {
                        best[key] = *v;
                    }
                }
                w->resumed_summary_ = std::move(best);
            }
        }
        if (::mkdir((dir / "media").c_str(), 0755) != 0 && errno != EEXIST) {
            return io_error(errno, "creating directory", dir / "media");
        }
        const double now = wall_now();
        RUNICORN_RETURN_IF_ERROR(update_json_file(
            dir / "status.json",
            [now](json::object& status) {
                status["status"] = "running";
                for (const char* key : {"ended_at", "exit_reason", "error", "signal"}) {
                    status.erase(key);
                }
                status["resume_count"] = json_int(status, "resume_count").value_or(0) + 1;
                status["resumed_at"] = now;
                return true;
            },
            log.get()));
        const Identity me;
        RUNICORN_RETURN_IF_ERROR(update_json_file(
            dir / "meta.json",
            [&me](json::object& meta) {
                meta["pid"] = me.pid;
                meta["hostname"] = me.hostname;
                meta["boot_id"] = me.boot_id;
                meta["process_start"] = me.process_start;
                return true;
            },
            log.get()));
        RUNICORN_RETURN_IF_ERROR(ensure_store_marker(root, product_of(options.writer), log.get()));
        std::optional<std::string> alias = options.alias;
        double created_at = now;
        if (const auto meta = load_json_object(dir / "meta.json", log.get())) {
            created_at = json_number(*meta, "created_at").value_or(now);
            if (!alias) {
                alias = json_string(*meta, "alias");
            }
        }
        w->index_v06_run(alias, created_at);
        created.commit();
        return w;
    }

    // A new run: from here on, a failure removes the run folder again.
    RemoveOnFailure remove_on_failure(dir);
    RUNICORN_ASSIGN_OR_RETURN(FileLock lock, take_writer_lock(dir, id));
    const double created_at = wall_now();
    RUNICORN_RETURN_IF_ERROR(populate_new_run(
        dir, new_meta(id, norm, options, created_at, root, workspace), created_at));
    RUNICORN_RETURN_IF_ERROR(created.sync_parents());
    RUNICORN_RETURN_IF_ERROR(ensure_store_marker(root, product_of(options.writer), log.get()));
    std::shared_ptr<FolderRunWriter> w(
        new FolderRunWriter(id, api_path, dir, workspace, options.writer, std::move(lock), log));
    w->root_ = root;
    w->write_v06_index_ = write_v06_index;
    w->index_v06_run(options.alias, created_at);
    remove_on_failure.disarm();
    created.commit();
    return w;
}

Status FolderRunWriter::check_open(std::string_view what) const {
    if (closed_) {
        return Status::failed_precondition(std::string(what) + " on run '" + run_id_ +
                                           "': the writer is closed");
    }
    return Status::ok();
}

Status FolderRunWriter::append_events(std::string_view lines) {
    RUNICORN_RETURN_IF_ERROR(check_open("appending events"));
    return events_.append(lines);
}

Status FolderRunWriter::append_logs(std::string_view lines) {
    RUNICORN_RETURN_IF_ERROR(check_open("appending logs"));
    return logs_.append(lines);
}

void FolderRunWriter::note_v06_failure(const Status& status) {
    if (status.is_ok() || v06_failure_logged_) {
        return;
    }
    v06_failure_logged_ = true;
    if (log_) {
        log_->warn("run '{}': skipping Runicorn v0.6's index from now on: {}", run_id_,
                   status.message());
    }
}

void FolderRunWriter::index_v06_run(const std::optional<std::string>& alias, double created_at) {
    if (!write_v06_index_ || v06_failure_logged_) {
        return;
    }
    V06RunRow row;
    row.run_id = run_id_;
    row.path = path_.value_or("");
    row.alias = alias;
    row.created_at = created_at;
    row.run_dir = run_dir_.string();
    row.workspace_root = workspace_root_.string();
    note_v06_failure(V06Index::upsert_run(root_, row));
}

void FolderRunWriter::index_v06_status(const json::object& patch) {
    if (!write_v06_index_ || v06_failure_logged_) {
        return;
    }
    const auto status = json_string(patch, "status");
    if (!status) {
        return;
    }
    note_v06_failure(V06Index::set_status(root_, run_id_, *status, json_number(patch, "ended_at")));
}

Status FolderRunWriter::merge_json(RunJsonFile file, const json::object& patch) {
    RUNICORN_RETURN_IF_ERROR(check_open("merging JSON"));
    const bool null_removes = file == RunJsonFile::kStatus;
    if (file == RunJsonFile::kStatus) {
        RUNICORN_RETURN_IF_ERROR(merge_json_file(file, patch, null_removes));
        index_v06_status(patch);
        return Status::ok();
    }
    return merge_json_file(file, patch, null_removes);
}

Status FolderRunWriter::merge_json_file(RunJsonFile file, const json::object& patch,
                                        bool null_removes) {
    return update_json_file(
        run_dir_ / json_file_name(file),
        [&](json::object& obj) {
            for (const auto& kv : patch) {
                if (null_removes && kv.value().is_null()) {
                    obj.erase(kv.key());
                } else {
                    obj[kv.key()] = kv.value();
                }
            }
            return true;
        },
        log_.get());
}

Status FolderRunWriter::write_media(std::string_view file_name, std::span<const std::byte> bytes) {
    RUNICORN_RETURN_IF_ERROR(check_open("writing media"));
    RUNICORN_RETURN_IF_ERROR(check_media_name(file_name));
    const fs::path media = run_dir_ / "media";
    if (::mkdir(media.c_str(), 0755) != 0 && errno != EEXIST) {
        return io_error(errno, "creating directory", media);
    }
    return write_file_atomic(
        media / file_name,
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

Status FolderRunWriter::heartbeat(std::chrono::seconds interval) {
    RUNICORN_RETURN_IF_ERROR(check_open("writing the heartbeat"));
    const Identity me;
    json::object hb;
    hb["ts"] = wall_now();
    hb["seq"] = ++heartbeat_seq_;
    hb["interval_s"] = static_cast<std::int64_t>(interval.count());
    hb["hostname"] = me.hostname;
    hb["boot_id"] = me.boot_id;
    hb["pid"] = me.pid;
    hb["process_start"] = me.process_start;
    hb["session"] = session_;
    hb["writer"] = writer_;
    // Liveness needs no durability: temp + rename, no fsync (FORMAT.md C1 exception).
    return write_json_file(run_dir_ / ".heartbeat.json", hb, /*durable=*/false);
}

Status FolderRunWriter::sync() {
    RUNICORN_RETURN_IF_ERROR(check_open("syncing"));
    Status events = events_.sync();
    Status logs = logs_.sync();
    return events.is_ok() ? logs : events;
}

Status FolderRunWriter::close() {
    if (closed_) {
        return Status::ok();
    }
    Status s = sync();
    events_.close();
    logs_.close();
    writer_lock_.release();
    closed_ = true;
    return s;
}

std::int64_t find_last_step(const fs::path& events) {
    UniqueFd fd(::open(events.c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st {};
    if (!fd.valid() || ::fstat(fd.get(), &st) != 0) {
        return 0;
    }
    // Walk backwards. `buf` holds the bytes [pos, end) where end is just past a '\n' (or is
    // empty); `skipping` drops bytes up to the previous '\n' (the torn tail at first, later a
    // line longer than the limit).
    auto pos = static_cast<std::size_t>(st.st_size);
    std::string buf;
    bool skipping = true;
    std::size_t chunk = kScanChunk;
    while (true) {
        if (!skipping && !buf.empty()) {
            const std::size_t prev =
                buf.size() >= 2 ? buf.rfind('\n', buf.size() - 2) : std::string::npos;
            if (prev != std::string::npos || pos == 0) {
                const std::size_t start = prev == std::string::npos ? 0 : prev + 1;
                const std::string_view line(buf.data() + start, buf.size() - start - 1);
                if (line.size() <= kMaxEventLine) {
                    if (const auto step = metrics_step(line)) {
                        return *step;
                    }
                }
                buf.resize(start);
                continue;
            }
            if (buf.size() > kMaxEventLine + 1) {
                buf.clear();
                skipping = true;
            }
        }
        if (pos == 0) {
            return 0;
        }
        const std::size_t n = std::min(pos, std::max(chunk, buf.size()));
        chunk = std::min(chunk * 2, std::size_t{4} << 20);
        std::string block(n, '\0');
        std::size_t got = 0;
        while (got < n) {
            const ssize_t r =
                ::pread(fd.get(), block.data() + got, n - got, static_cast<off_t>(pos - n + got));
            if (r <= 0) {
                if (r < 0 && errno == EINTR) {
                    continue;
                }
                return 0;
            }
            got += static_cast<std::size_t>(r);
        }
        pos -= n;
        if (skipping) {
            const auto nl = block.rfind('\n');
            if (nl == std::string::npos) {
                continue;
            }
            block.resize(nl + 1);
            skipping = false;
            buf = std::move(block);
        } else {
            buf.insert(0, block);
        }
    }
}

}  // namespace runicorn::storage
