#include "run_core.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <new>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "format.hpp"
#include "json_convert.hpp"
#include "media.hpp"
#include "writer.hpp"
#include <time.h>

namespace runicorn::sdk {
namespace {

using SteadyClock = std::chrono::steady_clock;
namespace json = boost::json;

std::string_view file_name(plugin::RunJsonFile f) {
    switch (f) {
        case plugin::RunJsonFile::kMeta:
            return "meta.json";
        case plugin::RunJsonFile::kStatus:
            return "status.json";
        case plugin::RunJsonFile::kSummary:
            return "summary.json";
        case plugin::RunJsonFile::kAssets:
            return "assets.json";
    }
    return "?";
}

std::string_view mode_name(Mode m) { return m == Mode::kMax ? "max" : "min"; }

/// A 24-bit random number for media file names: splitmix64 over a counter and the clock.
std::uint32_t random24() noexcept {
    static std::atomic<std::uint64_t> counter{0};
    std::uint64_t z = counter.fetch_add(0x9E3779B97F4A7C15ULL, std::memory_order_relaxed) +
                      static_cast<std::uint64_t>(SteadyClock::now().time_since_epoch().count());
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return static_cast<std::uint32_t>(z & 0xFFFFFFu);
}

std::string trim(std::string_view s) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    const auto b = s.find_first_not_of(kSpace);
    if (b == std::string_view::npos) {
        return {};
    }
    const auto e = s.find_last_not_of(kSpace);
    return std::string(s.substr(b, e - b + 1));
}

/// The end of the next chunk of `buf` from `off`: whole lines, at most kBatchBytes unless one
/// line is longer.
std::size_t chunk_end(const std::string& buf, std::size_t off) {
    if (buf.size() - off <= kBatchBytes) {
        return buf.size();
    }
    const std::size_t last = buf.rfind('\n', off + kBatchBytes - 1);
    if (last != std::string::npos && last >= off) {
        return last + 1;
    }
    const std::size_t next = buf.find('\n', off + kBatchBytes);
    return next == std::string::npos ? buf.size() : next + 1;
}

std::string json_quoted(std::string_view key) {
    std::string out;
    append_json_string(out, key);
    return out;
}

/// A per-thread formatting buffer that only grows. Thread safety: externally synchronized (one
/// per thread).
class LineBuffer {
public:
    /// Room for at least n bytes; the contents are not kept.
    char* reserve(std::size_t n) {
        if (n > cap_) {
            cap_ = std::max(n, std::max<std::size_t>(cap_ * 2, 1024));
            data_ = std::make_unique<char[]>(cap_);
        }
        return data_.get();
    }

private:
    std::unique_ptr<char[]> data_;
    std::size_t cap_ = 0;
};

std::string ms_text(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

double system_clock_seconds() noexcept {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

RunCore::RunCore(std::shared_ptr<plugin::RunWriter> writer, RunIdentity identity,
                 RunSettings settings)
    : writer_(std::move(writer)), identity_(std::move(identity)), settings_(std::move(settings)) {}

RunCore::~RunCore() = default;

void RunCore::restore(std::int64_t last_step, const std::optional<json::object>& summary) {
    step_.store(last_step);
    if (!summary) {
        return;
    }
    const auto* name = summary->if_contains("best_metric_name");
    const auto* value = summary->if_contains("best_metric_value");
    if (name == nullptr || !name->is_string()) {
        return;
    }
    Primary p;
    p.name = std::string(name->get_string());
    const auto* mode = summary->if_contains("best_metric_mode");
    p.mode = (mode != nullptr && mode->is_string() && mode->get_string() == "min") ? Mode::kMin
                                                                                   : Mode::kMax;
    if (value != nullptr && value->is_number()) {
        p.has_best = true;
        p.best = value->to_number<double>();
        const auto* step = summary->if_contains("best_metric_step");
        if (step != nullptr && step->is_int64()) {
            p.best_step = step->get_int64();
        }
    }
    std::lock_guard lock(mu_);
    primary_ = std::move(p);
    has_primary_.store(true);
}

void RunCore::set_tags(const std::vector<std::string>& tags) {
    std::lock_guard lock(mu_);
    tags_.clear();
    for (const auto& t : tags) {
        std::string v = trim(t);
        if (!v.empty() && std::find(tags_.begin(), tags_.end(), v) == tags_.end()) {
            tags_.push_back(std::move(v));
        }
    }
}

void RunCore::start_heartbeat() noexcept {
    std::lock_guard io(io_mu_);
    heartbeat_done_ = true;
    last_heartbeat_ = SteadyClock::now();
    const Status s = writer_->heartbeat(settings_.heartbeat_interval);
    if (!s.is_ok()) {
        note_error(s, ".heartbeat.json");
    }
}

// ---- the caller's side ----------------------------------------------------------------------

Enqueued RunCore::log(std::span<const Field> fields, const std::optional<std::int64_t>& step,
                      const std::optional<std::string_view>& stage) noexcept {
    if (inert()) {
        return Enqueued::kRejected;
    }
    if (finished()) {
        warn_finished("log()");
        return Enqueued::kRejected;
    }
    try {
        thread_local LineBuffer line;
        thread_local std::vector<std::string> bad_keys;
        std::int64_t s = 0;
        if (step) {
            s = *step;
            step_.store(s, std::memory_order_relaxed);
        } else {
            s = step_.fetch_add(1, std::memory_order_relaxed) + 1;
        }
        const double ts = settings_.clock();
        const std::string_view* stage_arg = stage ? &*stage : nullptr;
        const StageRef st = resolve_stage(fields, stage_arg);
        char* begin = line.reserve(metrics_line_bound(fields, st));
        char* end = write_metrics_line(begin, fields, s, st, ts, &bad_keys);
        if (!bad_keys.empty()) {
            report_bad_keys(bad_keys);
            bad_keys.clear();
        }
        return enqueue(StreamId::kEvents,
                       std::string_view(begin, static_cast<std::size_t>(end - begin)), fields, s);
    } catch (...) {
        count_oom_drop();
        return Enqueued::kDropped;
    }
}

Enqueued RunCore::log_text(std::string_view text) noexcept {
    if (inert()) {
        return Enqueued::kRejected;
    }
    if (finished()) {
        warn_finished("log_text()");
        return Enqueued::kRejected;
    }
    try {
        thread_local std::string line;
        line.clear();
        format_text_line(line, text, settings_.clock());
        return enqueue(StreamId::kLogs, line, {}, 0);
    } catch (...) {
        count_oom_drop();
        return Enqueued::kDropped;
    }
}

Enqueued RunCore::log_raw(std::string_view text) noexcept {
    if (inert()) {
        return Enqueued::kRejected;
    }
    if (finished()) {
        warn_finished("log_raw()");
        return Enqueued::kRejected;
    }
    try {
        if (!text.empty() && text.back() == '\n') {
            return enqueue(StreamId::kLogs, text, {}, 0);
        }
        thread_local std::string line;
        line.assign(text);
        line.push_back('\n');
        return enqueue(StreamId::kLogs, line, {}, 0);
    } catch (...) {
        count_oom_drop();
        return Enqueued::kDropped;
    }
}

Result<std::string> RunCore::log_image(std::string_view key, std::span<const std::byte> bytes,
                                       const ImageOptions& options) noexcept {
    try {
        if (inert()) {
            return Status::failed_precondition("run '" + identity_.id +
                                               "' belongs to the parent process (fork)");
        }
        if (finished()) {
            warn_finished("log_image()");
            return Status::failed_precondition("run '" + identity_.id + "' is already finished");
        }
        if (const KeyProblem p = check_key(key); p != KeyProblem::kNone) {
            return Status::invalid_argument("invalid image key " + json_quoted(key) + ": " +
                                            std::string(key_problem_text(p)));
        }
        const ImageInfo info = sniff_image(bytes);
        std::string ext;
        if (!info.format.empty()) {
            ext = std::string(info.format);
        } else if (auto f = normalize_format(options.format)) {
            ext = std::move(*f);
        } else {
            return Status::invalid_argument("invalid image format " + json_quoted(options.format) +
                                            ": expected 1-10 ASCII letters or digits");
        }
        const double ts = settings_.clock();
        const auto ms = static_cast<std::int64_t>(std::floor(ts * 1000.0));
        const std::string name = media_file_name(ms, random24(), key, ext);
        Status st;
        {
            std::lock_guard io(io_mu_);
            st = writer_->write_media(name, bytes);
        }
        if (!st.is_ok()) {
            note_error(st, "media/" + name);
            return st;
        }
        std::string path = "media/" + name;
        ImageEvent e;
        e.key = key;
        e.path = path;
        const std::int64_t user_step = options.step.value_or(0);
        e.step = options.step ? &user_step : nullptr;
        e.caption = options.caption ? &*options.caption : nullptr;
        e.global_step = step_.load(std::memory_order_relaxed);
        e.format = ext;
        e.size_bytes = bytes.size();
        e.width = info.width;
        e.height = info.height;
        std::string line;
        format_image_line(line, e, ts);
        switch (enqueue(StreamId::kEvents, line, {}, 0)) {
            case Enqueued::kQueued:
                return path;
            case Enqueued::kDropped:
                return Status::resource_exhausted("run '" + identity_.id + "': the event of " +
                                                  path + " was dropped: the queue is full");
            case Enqueued::kRejected:
                break;
        }
        return Status::failed_precondition("run '" + identity_.id + "' is already finished");
    } catch (const std::exception& ex) {
        return Status::internal(std::string("log_image: ") + ex.what());
    } catch (...) {
        return Status::internal("log_image: unknown exception");
    }
}

Enqueued RunCore::enqueue(StreamId which, std::string_view line, std::span<const Field> fields,
                          std::int64_t step) noexcept {
    Enqueued result = Enqueued::kQueued;
    bool wake = false;
    bool first_drop = false;
    std::string drop_why;
    {
        std::unique_lock lock(mu_);
        if (!accepting_) {
            result = Enqueued::kRejected;
        } else {
            ++logged_;
            if (has_primary_.load(std::memory_order_relaxed) && !fields.empty()) {
                update_best(fields, step);
            }
            bool queued = false;
            if (has_room(lock, line.size())) {
                Stream& s = which == StreamId::kEvents ? events_ : logs_;
                const bool was_below = s.pending.size() < kBatchBytes;
                try {
                    s.pending.append(line);
                    queued = true;
                } catch (const std::bad_alloc&) {
                    drop_reason_ = "out of memory";
                }
                if (queued) {
                    ++s.pending_records;
                    queue_bytes_ += line.size();
                    queue_high_water_ = std::max(queue_high_water_, queue_bytes_);
                    ++enqueue_gen_;
                    wake = was_below && s.pending.size() >= kBatchBytes;
                }
            } else {
                drop_reason_ = "queue full";
            }
            if (!queued) {
                result = Enqueued::kDropped;
                ++dropped_;
                if (dropped_warned_ == 0) {
                    first_drop = true;
                    dropped_warned_ = dropped_;
                    last_drop_warning_ = SteadyClock::now();
                    drop_why = last_error_.is_ok() ? "writing is slower than logging"
                                                   : "storage error: " + last_error_.to_string();
                }
            }
        }
    }
    if (result == Enqueued::kRejected) {
        warn_finished("log()");
    }
    if (wake) {
        BackgroundWriter::instance().wake();
    }
    if (first_drop) {
        warn(StatusCode::kResourceExhausted, "dropped",
             "dropped a record: the queue of " + std::to_string(settings_.queue_capacity) +
                 " bytes is full (" + drop_why +
                 "); further drops are counted in stats().records_dropped and reported every 30 s");
    }
    return result;
}

bool RunCore::has_room(std::unique_lock<std::mutex>& lock, std::size_t n) {
    const std::uint64_t cap = settings_.queue_capacity;
    if (shedding_) {
        if (queue_bytes_ > cap / 2) {
            return false;
        }
        shedding_ = false;
    }
    if (queue_bytes_ + n <= cap) {
        return true;
    }
    if (settings_.max_block.count() <= 0) {
        return false;
    }
    // Opt-in bounded wait (SDK.md §1.6): wake the writer (never while holding mu_), then wait.
    const auto deadline = SteadyClock::now() + settings_.max_block;
    lock.unlock();
    BackgroundWriter::instance().wake();
    lock.lock();
    ++space_waiters_;
    const bool room = space_cv_.wait_until(lock, deadline,
                                           [&] { return queue_bytes_ + n <= cap || !accepting_; });
    --space_waiters_;
    if (room && accepting_) {
        return true;
    }
    shedding_ = true;
    return false;
}

void RunCore::update_best(std::span<const Field> fields, std::int64_t step) {
    if (!primary_) {
        return;
    }
    Primary& p = *primary_;
    for (const Field& f : fields) {
        if (f.key != p.name) {
            continue;
        }
        double v = 0.0;
        if (f.value.kind() == MetricValue::Kind::kF64) {
            v = f.value.as_f64();
        } else if (f.value.kind() == MetricValue::Kind::kI64) {
            v = static_cast<double>(f.value.as_i64());
        } else {
            continue;  // booleans, strings and null never count (SDK.md §1.5)
        }
        if (!std::isfinite(v)) {
            continue;
        }
        const bool better = !p.has_best || (p.mode == Mode::kMax ? v > p.best : v < p.best);
        if (better) {
            p.has_best = true;
            p.best = v;
            p.best_step = step;
            p.dirty = true;
        }
    }
}

void RunCore::put_best_into_summary() {
    if (!primary_ || !primary_->has_best) {
        return;
    }
    const Primary& p = *primary_;
    summary_patch_["best_metric_value"] = p.best;
    summary_patch_["best_metric_name"] = p.name;
    summary_patch_["best_metric_step"] = p.best_step;
    summary_patch_["best_metric_mode"] = mode_name(p.mode);
    primary_->dirty = false;
}

void RunCore::report_bad_keys(const std::vector<std::string>& keys) noexcept {
    try {
        std::vector<std::string> fresh;
        {
            std::lock_guard lock(mu_);
            for (const auto& k : keys) {
                if (warned_keys_.insert(k).second) {
                    fresh.push_back(k);
                }
            }
        }
        // One warning per key (SDK.md §1.3), so these bypass the per-kind rate limit.
        for (const auto& k : fresh) {
            Warning w;
            w.code = StatusCode::kInvalidArgument;
            w.kind = "invalid_key";
            w.message = "run '" + identity_.id + "': dropped the invalid key " + json_quoted(k) +
                        " (" + std::string(key_problem_text(check_key(k))) + ")";
            deliver_warning(settings_.on_warning, w);
        }
    } catch (...) {
        // Out of memory while warning: the key is dropped all the same.
    }
}

void RunCore::count_oom_drop() noexcept {
    bool first = false;
    {
        std::lock_guard lock(mu_);
        ++logged_;
        ++dropped_;
        drop_reason_ = "out of memory";
        if (dropped_warned_ == 0) {
            first = true;
            dropped_warned_ = dropped_;
            last_drop_warning_ = SteadyClock::now();
        }
    }
    if (first) {
        warn(StatusCode::kResourceExhausted, "dropped", "dropped a record: out of memory");
    }
}

Status RunCore::set_primary_metric(std::string_view name, Mode mode) noexcept {
    try {
        if (inert()) {
            return Status::ok();
        }
        if (const KeyProblem p = check_key(name); p != KeyProblem::kNone) {
            return Status::invalid_argument("invalid primary metric name " + json_quoted(name) +
                                            ": " + std::string(key_problem_text(p)));
        }
        if (finished()) {
            warn_finished("set_primary_metric()");
            return Status::failed_precondition("run '" + identity_.id + "' is already finished");
        }
        Primary p;
        p.name = std::string(name);
        p.mode = mode;
        std::lock_guard lock(mu_);
        primary_ = std::move(p);
        has_primary_.store(true);
        return Status::ok();
    } catch (...) {
        return Status::resource_exhausted("set_primary_metric: out of memory");
    }
}

Status RunCore::summary(const Json& object) noexcept {
    try {
        if (inert()) {
            return Status::ok();
        }
        if (!object.is_object()) {
            return Status::invalid_argument("summary() needs a JSON object");
        }
        if (finished()) {
            warn_finished("summary()");
            return Status::failed_precondition("run '" + identity_.id + "' is already finished");
        }
        json::value v = to_boost(object);
        std::lock_guard lock(mu_);
        for (auto& kv : v.get_object()) {
            summary_patch_[kv.key()] = std::move(kv.value());
        }
        ++enqueue_gen_;
        return Status::ok();
    } catch (...) {
        return Status::resource_exhausted("summary: out of memory");
    }
}

Status RunCore::log_config(const ConfigOptions& options) noexcept {
    try {
        if (inert()) {
            return Status::ok();
        }
        if (options.args && !options.args->is_object()) {
            return Status::invalid_argument("log_config(): args must be a JSON object");
        }
        if (options.extra && !options.extra->is_object()) {
            return Status::invalid_argument("log_config(): extra must be a JSON object");
        }
        if (finished()) {
            warn_finished("log_config()");
            return Status::failed_precondition("run '" + identity_.id + "' is already finished");
        }
        std::optional<json::value> args;
        std::optional<json::value> extra;
        std::optional<json::array> files;
        if (options.args) {
            args = to_boost(*options.args);
        }
        if (options.extra) {
            extra = to_boost(*options.extra);
        }
        if (options.config_files) {
            files.emplace();
            for (const auto& f : *options.config_files) {
                files->emplace_back(f.string());
            }
        }
        std::lock_guard lock(mu_);
        // merge_json replaces the whole "config" key: keep the merged state here.
        if (args) {
            config_["args"] = std::move(*args);
        }
        if (extra) {
            config_["extra"] = std::move(*extra);
        }
        if (files) {
            config_["config_files"] = std::move(*files);
        }
        assets_patch_["config"] = config_;
        ++enqueue_gen_;
        return Status::ok();
    } catch (...) {
        return Status::resource_exhausted("log_config: out of memory");
    }
}

Status RunCore::add_tags(std::span<const std::string> tags) noexcept {
    try {
        if (inert()) {
            return Status::ok();
        }
        if (finished()) {
            warn_finished("add_tags()");
            return Status::failed_precondition("run '" + identity_.id + "' is already finished");
        }
        std::lock_guard lock(mu_);
        bool changed = false;
        for (const auto& t : tags) {
            std::string v = trim(t);
            if (!v.empty() && std::find(tags_.begin(), tags_.end(), v) == tags_.end()) {
                tags_.push_back(std::move(v));
                changed = true;
            }
        }
        if (changed) {
            // merge_json replaces the whole "tags" key: write the full list.
            meta_patch_["tags"] = json::array(tags_.begin(), tags_.end());
            ++enqueue_gen_;
        }
        return Status::ok();
    } catch (...) {
        return Status::resource_exhausted("add_tags: out of memory");
    }
}

std::optional<Status> RunCore::request_and_wait(std::chrono::milliseconds timeout) {
    std::uint64_t my_req = 0;
    {
        std::lock_guard lock(mu_);
        my_req = ++flush_req_;
    }
    auto& writer = BackgroundWriter::instance();
    if (writer.must_serve_inline()) {
        std::lock_guard io(io_mu_);
        do_service(SteadyClock::now(), true);
    } else {
        writer.wake();
    }
    std::unique_lock lock(mu_);
    if (!done_cv_.wait_for(lock, timeout, [&] { return attempt_req_ >= my_req; })) {
        return std::nullopt;
    }
    return attempt_status_;
}

Status RunCore::flush(std::chrono::milliseconds timeout) noexcept {
    try {
        if (inert()) {
            return Status::ok();
        }
        if (finished()) {
            warn_finished("flush()");
            return Status::failed_precondition("run '" + identity_.id + "' is already finished");
        }
        auto r = request_and_wait(timeout);
        if (!r) {
            std::uint64_t queued = 0;
            {
                std::lock_guard lock(mu_);
                queued = queue_bytes_;
            }
            return Status::deadline_exceeded("flush of run '" + identity_.id +
                                             "' timed out after " + ms_text(timeout) + " (" +
                                             std::to_string(queued) + " bytes still queued)");
        }
        return *r;
    } catch (...) {
        return Status::internal("flush: unexpected exception");
    }
}

Status RunCore::finish(std::string_view status, std::string_view exit_reason, int signal,
                       bool warn_if_finished) noexcept {
    try {
        if (inert()) {
            return Status::ok();
        }
        bool expected = false;
        if (!finished_.compare_exchange_strong(expected, true)) {
            if (warn_if_finished) {
                warn_finished("finish()");
            }
            return Status::failed_precondition("run '" + identity_.id + "' is already finished");
        }
        run_finish_hooks();  // sdk-assets: stops an outputs watcher before the final writes
        const double ts = settings_.clock();
        {
            std::lock_guard lock(mu_);
            accepting_ = false;
            put_best_into_summary();
            status_patch_["status"] = status.empty() ? std::string_view("finished") : status;
            status_patch_["ended_at"] = ts;
            if (!exit_reason.empty()) {
                status_patch_["exit_reason"] = exit_reason;
            }
            if (signal > 0) {
                status_patch_["signal"] = signal;
            }
            if (dropped_ > 0) {
                status_patch_["dropped_records"] = static_cast<std::int64_t>(dropped_);
            }
            closing_ = true;
            ++enqueue_gen_;
        }
        space_cv_.notify_all();  // blocked log calls give up at once
        auto r = request_and_wait(settings_.finish_timeout);
        if (!r) {
            Status s =
                Status::deadline_exceeded("finish of run '" + identity_.id + "' timed out after " +
                                          ms_text(settings_.finish_timeout));
            warn(StatusCode::kDeadlineExceeded, "finish", s.message());
            return s;
        }
        if (!r->is_ok()) {
            warn(r->code(), "finish",
                 "finish could not complete the final writes: " + r->to_string() +
                     "; the writer keeps retrying");
        }
        return *r;
    } catch (...) {
        return Status::internal("finish: unexpected exception");
    }
}

bool RunCore::closed() const noexcept {
    std::lock_guard lock(mu_);
    return closed_;
}

RunStats RunCore::stats() const noexcept {
    RunStats s;
    std::lock_guard lock(mu_);
    s.records_logged = logged_;
    s.records_written = written_;
    s.records_dropped = dropped_;
    s.bytes_written = bytes_written_;
    s.write_errors = write_errors_;
    s.queue_bytes = queue_bytes_;
    s.queue_high_water = queue_high_water_;
    try {
        s.last_error = last_error_;
    } catch (...) {
        s.last_error = Status();
    }
    return s;
}

void RunCore::warn(StatusCode code, std::string_view kind, const std::string& message) noexcept {
    try {
        sdk::warn(gate_, settings_.on_warning, code, kind,
                  "run '" + identity_.id + "': " + message);
    } catch (...) {
        // Out of memory: the warning is lost, the counters still say what happened.
    }
}

void RunCore::warn_finished(std::string_view what) noexcept {
    try {
        warn(StatusCode::kFailedPrecondition, "finished",
             std::string(what) + " on a finished run is ignored");
    } catch (...) {
        // See warn().
    }
}

void RunCore::note_error(const Status& s, std::string_view what) noexcept {
    try {
        {
            std::lock_guard lock(mu_);
            ++write_errors_;
            last_error_ = s;
        }
        warn(s.code(), "write_error",
             "writing " + std::string(what) + " failed: " + s.to_string() +
                 "; the data stays queued and is retried");
    } catch (...) {
        // See warn().
    }
}

// ---- the writer's side ----------------------------------------------------------------------

void RunCore::service_if_due(SteadyClock::time_point now) noexcept {
    if (inert()) {
        return;
    }
    try {
        std::lock_guard io(io_mu_);
        bool due = false;
        bool requested = false;
        std::uint64_t to_report = 0;
        std::uint64_t total_dropped = 0;
        {
            std::lock_guard lock(mu_);
            if (closed_) {
                return;
            }
            requested = flush_req_ > attempt_req_;
            const bool data = !events_.pending.empty() || !logs_.pending.empty() ||
                              !events_.inflight.empty() || !logs_.inflight.empty();
            const bool patches = !summary_patch_.empty() || !assets_patch_.empty() ||
                                 !meta_patch_.empty() || !status_patch_.empty();
            const bool best =
                primary_ && primary_->dirty && now - last_best_merge_ >= kBestMetricInterval;
            due = requested || data || patches || closing_ || best;
            if (dropped_ > dropped_warned_ && dropped_warned_ > 0 &&
                now - last_drop_warning_ >= kWarningInterval) {
                to_report = dropped_ - dropped_warned_;
                total_dropped = dropped_;
                dropped_warned_ = dropped_;
                last_drop_warning_ = now;
            }
        }
        if (to_report > 0) {
            Warning w;
            w.code = StatusCode::kResourceExhausted;
            w.kind = "dropped";
            w.message = "run '" + identity_.id + "': " + std::to_string(to_report) +
                        " more records dropped (" + std::to_string(total_dropped) + " in total)";
            w.count = to_report;
            deliver_warning(settings_.on_warning, w);
        }
        const bool heartbeat_due =
            !heartbeat_done_ || now - last_heartbeat_ >= settings_.heartbeat_interval;
        const bool sync_due = settings_.durability == Durability::kBuffered && unsynced_ &&
                              now - last_sync_ >= settings_.sync_interval;
        due = due || heartbeat_due || sync_due;
        if (!due || (!requested && now < retry_at_)) {
            return;
        }
        do_service(now, requested);
    } catch (...) {
        // do_service catches everything; a failure to lock leaves the work for the next tick.
    }
}

Status RunCore::write_stream(Stream& s, StreamId which) {
    while (s.inflight_off < s.inflight.size()) {
        const std::size_t end = chunk_end(s.inflight, s.inflight_off);
        const std::string_view chunk(s.inflight.data() + s.inflight_off, end - s.inflight_off);
        Status st = which == StreamId::kEvents ? writer_->append_events(chunk)
                                               : writer_->append_logs(chunk);
        if (!st.is_ok()) {
            note_error(st, which == StreamId::kEvents ? "events.jsonl" : "logs.txt");
            return st;
        }
        s.inflight_off = end;
        unsynced_ = true;
        bool notify = false;
        {
            std::lock_guard lock(mu_);
            queue_bytes_ -= chunk.size();
            bytes_written_ += chunk.size();
            notify = space_waiters_ > 0;
        }
        if (notify) {
            space_cv_.notify_all();
        }
    }
    {
        std::lock_guard lock(mu_);
        written_ += s.inflight_records;
    }
    s.inflight.clear();
    s.inflight_off = 0;
    s.inflight_records = 0;
    return Status::ok();
}

void RunCore::merge_back(plugin::RunJsonFile file, json::object patch) {
    std::lock_guard lock(mu_);
    json::object* target = nullptr;
    switch (file) {
        case plugin::RunJsonFile::kMeta:
            target = &meta_patch_;
            break;
        case plugin::RunJsonFile::kStatus:
            target = &status_patch_;
            break;
        case plugin::RunJsonFile::kSummary:
            target = &summary_patch_;
            break;
        case plugin::RunJsonFile::kAssets:
            target = &assets_patch_;
            break;
    }
    // Newer values queued meanwhile win; the failed ones fill the gaps.
    for (auto& kv : patch) {
        if (!target->contains(kv.key())) {
            (*target)[kv.key()] = std::move(kv.value());
        }
    }
}

void RunCore::do_service(SteadyClock::time_point now, bool requested) noexcept {
    Status first;
    auto keep = [&first](const Status& s) {
        if (first.is_ok() && !s.is_ok()) {
            first = s;
        }
    };
    std::uint64_t req = 0;
    std::uint64_t gen = 0;
    bool closing = false;
    bool closed = false;
    try {
        json::object patches[4];
        constexpr plugin::RunJsonFile kOrder[4] = {
            plugin::RunJsonFile::kSummary, plugin::RunJsonFile::kAssets, plugin::RunJsonFile::kMeta,
            plugin::RunJsonFile::kStatus};
        {
            std::lock_guard lock(mu_);
            req = flush_req_;
            gen = enqueue_gen_;
            closing = closing_;
            if (dropped_ > dropped_noted_ && !failing_) {
                // Writing works (again): note the loss in logs.txt (SDK.md §5).
                std::string line;
                format_text_line(line,
                                 "[runicorn] " + std::to_string(dropped_ - dropped_noted_) +
                                     " records dropped (" + drop_reason_ + ")",
                                 settings_.clock());
                logs_.pending += line;
                ++logs_.pending_records;
                queue_bytes_ += line.size();
                dropped_noted_ = dropped_;
            }
            for (Stream* s : {&events_, &logs_}) {
                if (s->inflight.empty()) {
                    s->inflight.swap(s->pending);
                    s->inflight_off = 0;
                    s->inflight_records = s->pending_records;
                } else {
                    s->inflight.append(s->pending);
                    s->inflight_records += s->pending_records;
                }
                s->pending.clear();
                s->pending_records = 0;
            }
            if (primary_ && primary_->dirty &&
                (closing || now - last_best_merge_ >= kBestMetricInterval)) {
                put_best_into_summary();
                last_best_merge_ = now;
            }
            patches[0].swap(summary_patch_);
            patches[1].swap(assets_patch_);
            patches[2].swap(meta_patch_);
            patches[3].swap(status_patch_);
        }
        const std::size_t before = events_.inflight.size() + logs_.inflight.size();
        keep(write_stream(events_, StreamId::kEvents));
        keep(write_stream(logs_, StreamId::kLogs));
        const bool wrote = before > 0;
        for (int i = 0; i < 4; ++i) {
            if (patches[i].empty()) {
                continue;
            }
            const Status s = writer_->merge_json(kOrder[i], patches[i]);
            if (!s.is_ok()) {
                note_error(s, file_name(kOrder[i]));
                merge_back(kOrder[i], std::move(patches[i]));
                keep(s);
            }
        }
        if (!closing &&
            (!heartbeat_done_ || now - last_heartbeat_ >= settings_.heartbeat_interval)) {
            heartbeat_done_ = true;
            last_heartbeat_ = now;
            const Status s = writer_->heartbeat(settings_.heartbeat_interval);
            if (!s.is_ok()) {
                note_error(s, ".heartbeat.json");
            }
        }
        const bool want_sync = unsynced_ && !closing &&
                               ((settings_.durability == Durability::kFlush && wrote) ||
                                (settings_.durability == Durability::kBuffered &&
                                 (requested || now - last_sync_ >= settings_.sync_interval)));
        if (want_sync) {
            const Status s = writer_->sync();
            if (s.is_ok()) {
                unsynced_ = false;
                last_sync_ = now;
            } else {
                note_error(s, "sync");
                keep(s);
            }
        }
        if (closing && first.is_ok()) {
            // close() syncs: finish costs at most one fdatasync per file.
            const Status s = writer_->close();
            if (s.is_ok()) {
                closed = true;
                unsynced_ = false;
            } else {
                note_error(s, "close");
                keep(s);
            }
        }
    } catch (const std::exception& ex) {
        keep(Status::internal(std::string("background writer: ") + ex.what()));
    } catch (...) {
        keep(Status::internal("background writer: unknown exception"));
    }
    const auto after = SteadyClock::now();
    if (first.is_ok()) {
        backoff_ = kFirstBackoff;
        retry_at_ = {};
    } else {
        retry_at_ = after + backoff_;
        backoff_ = std::min(backoff_ * 2, kMaxBackoff);
    }
    {
        std::lock_guard lock(mu_);
        attempt_req_ = std::max(attempt_req_, req);
        attempt_status_ = first;
        if (first.is_ok()) {
            completed_gen_ = gen;
        }
        closed_ = closed_ || closed;
        failing_ = !first.is_ok();
    }
    done_cv_.notify_all();
    space_cv_.notify_all();
}

// ---- Asset hooks (sdk-assets) ----------------------------------------------------------------

std::shared_ptr<void> RunCore::extension(std::string_view name,
                                         const std::function<std::shared_ptr<void>()>& make) {
    std::lock_guard lock(ext_mu_);
    auto it = extensions_.find(name);
    if (it != extensions_.end()) {
        return it->second;
    }
    auto made = make();
    extensions_.emplace(std::string(name), made);
    return made;
}

void RunCore::add_finish_hook(std::function<void()> hook) {
    std::lock_guard lock(ext_mu_);
    if (!finish_hooks_ran_) {
        finish_hooks_.push_back(std::move(hook));
    }
}

void RunCore::run_finish_hooks() noexcept {
    std::vector<std::function<void()>> hooks;
    {
        std::lock_guard lock(ext_mu_);
        finish_hooks_ran_ = true;
        hooks.swap(finish_hooks_);
    }
    for (auto& h : hooks) {
        try {
            h();
        } catch (...) {
            // A hook failing must not keep the run from finishing.
        }
    }
}

Status RunCore::publish_assets(json::object patch, std::chrono::milliseconds timeout) noexcept {
    try {
        if (inert()) {
            return Status::ok();
        }
        {
            std::lock_guard lock(mu_);
            if (closing_ || closed_) {
                return Status::failed_precondition("run '" + identity_.id +
                                                   "' is finished: assets.json was not updated");
            }
            for (auto& kv : patch) {
                assets_patch_[kv.key()] = std::move(kv.value());
            }
            ++enqueue_gen_;
        }
        auto r = request_and_wait(timeout);
        if (!r) {
            return Status::deadline_exceeded("assets.json of run '" + identity_.id +
                                             "' was not written within " + ms_text(timeout));
        }
        return *r;
    } catch (...) {
        return Status::resource_exhausted("publish_assets: out of memory");
    }
}

}  // namespace runicorn::sdk
