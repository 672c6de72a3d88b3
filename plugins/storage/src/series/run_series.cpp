#include "run_series.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "cache_file.hpp"
#include "events_parser.hpp"
#include "queries.hpp"
#include "series_data.hpp"
#include "unique_fd.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::storage::series {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kReadChunk = std::size_t{8} << 20;

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

Status read_error(const fs::path& p, int err) {
    return Status::unavailable("reading '" + p.string() + "': " + errno_text(err));
}

// Reads exactly len bytes at off (fewer only at end of file).
Result<std::string> pread_string(int fd, std::uint64_t off, std::size_t len, const fs::path& p) {
    std::string out(len, '\0');
    std::size_t got = 0;
    while (got < len) {
        const ssize_t n = ::pread(fd, out.data() + got, len - got, static_cast<off_t>(off + got));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return read_error(p, errno);
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
}

Result<SourceMark> compute_mark(int fd, const struct stat& st, std::uint64_t offset,
                                const fs::path& p) {
    SourceMark m;
    m.valid = true;
    m.dev = static_cast<std::uint64_t>(st.st_dev);
    m.ino = static_cast<std::uint64_t>(st.st_ino);
    m.head_len = std::min<std::uint64_t>(kChecksumSpan, offset);
    m.tail_len = m.head_len;
    RUNICORN_ASSIGN_OR_RETURN(std::string head, pread_string(fd, 0, m.head_len, p));
    RUNICORN_ASSIGN_OR_RETURN(std::string tail,
                              pread_string(fd, offset - m.tail_len, m.tail_len, p));
    if (head.size() != m.head_len || tail.size() != m.tail_len) {
        m.valid = false;
        return m;
    }
    m.head_sum = checksum(head);
    m.tail_sum = checksum(tail);
    return m;
}

// True when the consumed prefix [0, offset) of the open file is still the one `m` describes.
Result<bool> still_valid(int fd, const struct stat& st, std::uint64_t offset, const SourceMark& m,
                         const fs::path& p) {
    if (!m.valid || m.dev != static_cast<std::uint64_t>(st.st_dev) ||
        m.ino != static_cast<std::uint64_t>(st.st_ino) ||
        static_cast<std::uint64_t>(st.st_size) < offset) {
        return false;
    }
    RUNICORN_ASSIGN_OR_RETURN(SourceMark now, compute_mark(fd, st, offset, p));
    return now.valid && now.head_len == m.head_len && now.head_sum == m.head_sum &&
           now.tail_sum == m.tail_sum;
}

// Parses [d.stats.offset, size) of fd, complete lines only, and advances d.stats.offset past
// each whole line consumed (never past an unterminated one, C3).
Status read_new_bytes(int fd, std::uint64_t size, SeriesData& d, EventsParser& parser,
                      const fs::path& p) {
    const std::size_t pad = parser_padding();
    std::uint64_t buf_off = d.stats.offset;  // file offset of buf[0]
    if (buf_off >= size) {
        return ok_status();
    }
    std::size_t cap = static_cast<std::size_t>(std::min<std::uint64_t>(kReadChunk, size - buf_off));
    std::unique_ptr<char[]> buf(new char[cap + pad]);
    std::size_t have = 0;
    bool skipping = false;  // inside a line longer than kMaxLineBytes
    while (buf_off + have < size) {
        if (have == cap) {
            // No '\n' in a full buffer: grow towards the line limit (the line may be legal).
            const std::size_t new_cap = std::min(cap * 2, kMaxLineBytes + kReadChunk);
            std::unique_ptr<char[]> bigger(new char[new_cap + pad]);
            std::memcpy(bigger.get(), buf.get(), have);
            buf.swap(bigger);
            cap = new_cap;
        }
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(cap - have, size - buf_off - have));
        const ssize_t n = ::pread(fd, buf.get() + have, want, static_cast<off_t>(buf_off + have));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return read_error(p, errno);
        }
        if (n == 0) {
            break;  // the file shrank under us; the next refresh notices
        }
        have += static_cast<std::size_t>(n);
        std::memset(buf.get() + have, 0, pad);

        if (skipping) {
            const auto* nl = static_cast<const char*>(std::memchr(buf.get(), '\n', have));
            if (nl == nullptr) {
                buf_off += have;
                have = 0;
                continue;
            }
            const auto used = static_cast<std::size_t>(nl - buf.get()) + 1;
            parser.skip_oversized_line();
            buf_off += used;
            d.stats.offset = buf_off;
            std::memmove(buf.get(), buf.get() + used, have - used);
            have -= used;
            skipping = false;
        }
        const void* last = ::memrchr(buf.get(), '\n', have);
        if (last != nullptr) {
            const auto used =
                static_cast<std::size_t>(static_cast<const char*>(last) - buf.get()) + 1;
            parser.parse_lines(buf.get(), used, buf_off == 0);
            buf_off += used;
            d.stats.offset = buf_off;
            std::memmove(buf.get(), buf.get() + used, have - used);
            have -= used;
        } else if (have > kMaxLineBytes) {
            // An unterminated line already longer than the limit: drop bytes until its '\n'.
            skipping = true;
            buf_off += have;
            have = 0;
        }
    }
    return ok_status();
}

}  // namespace

fs::path series_cache_dir(const fs::path& root, std::string_view run_key) {
    return root / "index" / "series" / std::string(run_key.substr(0, 2)) / std::string(run_key);
}

struct RunSeries::State {
    SeriesData data;
    SourceMark mark;
    SavedCounts saved;
};

RunSeries::RunSeries(fs::path events_path, fs::path cache_dir, std::shared_ptr<spdlog::logger> log)
    : events_path_(std::move(events_path)),
      cache_dir_(std::move(cache_dir)),
      log_(std::move(log)),
      state_(std::make_unique<State>()) {}

RunSeries::~RunSeries() = default;

Result<RefreshInfo> RunSeries::refresh() {
    std::lock_guard builder(builder_mu_);
    return refresh_locked();
}

Result<RefreshInfo> RunSeries::refresh_locked() {
    RefreshInfo info;
    UniqueFd fd(::open(events_path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno != ENOENT) {
            return read_error(events_path_, errno);
        }
        // No events.jsonl: an empty run (FORMAT.md G6), even if one existed before.
        if (state_->mark.valid || state_->data.stats.offset > 0) {
            auto fresh = std::make_unique<State>();
            std::unique_lock lk(mu_);
            state_.swap(fresh);
            info.rebuilt = true;
        }
        return info;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return read_error(events_path_, errno);
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);

    if (!tried_disk_ && !cache_dir_.empty() && !state_->mark.valid) {
        tried_disk_ = true;
        auto loaded = std::make_unique<State>();
        auto mark = load_cache(cache_dir_, loaded->data, loaded->saved);
        if (mark.has_value()) {
            RUNICORN_ASSIGN_OR_RETURN(
                bool ok, still_valid(fd.get(), st, loaded->data.stats.offset, *mark, events_path_));
            if (ok) {
                loaded->mark = *mark;
                std::unique_lock lk(mu_);
                state_.swap(loaded);
                info.loaded_from_disk = true;
            } else if (log_) {
                log_->info("metric cache '{}' no longer matches '{}'; rebuilding",
                           cache_dir_.string(), events_path_.string());
            }
        } else if (mark.error().code() != StatusCode::kNotFound && log_) {
            log_->warn("metric cache ignored, rebuilding: {}", mark.error().message());
        }
    }

    bool incremental = false;
    if (state_->mark.valid) {
        RUNICORN_ASSIGN_OR_RETURN(incremental, still_valid(fd.get(), st, state_->data.stats.offset,
                                                           state_->mark, events_path_));
    }
    if (incremental) {
        if (size == state_->data.stats.offset) {
            return info;
        }
        std::unique_lock lk(mu_);
        SeriesData& d = state_->data;
        const std::uint64_t before_offset = d.stats.offset;
        const std::uint64_t before_records = d.record_time.size();
        const DeriveMark from = d.mark();
        EventsParser parser(d, log_.get(), events_path_.string());
        Status read = read_new_bytes(fd.get(), size, d, parser, events_path_);
        d.derive(from);
        info.bytes_parsed = d.stats.offset - before_offset;
        info.records_added = d.record_time.size() - before_records;
        auto mark = compute_mark(fd.get(), st, d.stats.offset, events_path_);
        if (mark.has_value()) {
            state_->mark = *mark;
        } else {
            state_->mark.valid = false;  // forces a rebuild next time
        }
        RUNICORN_RETURN_IF_ERROR(read);
        return info;
    }

    // Full rebuild, parsed without blocking readers; published at the end.
    info.rebuilt = state_->mark.valid || state_->data.stats.offset > 0;
    auto fresh = std::make_unique<State>();
    fresh->data.stats.dev = static_cast<std::uint64_t>(st.st_dev);
    fresh->data.stats.ino = static_cast<std::uint64_t>(st.st_ino);
    {
        EventsParser parser(fresh->data, log_.get(), events_path_.string());
        parser.expect_bytes(size);
        const DeriveMark from = fresh->data.mark();
        RUNICORN_RETURN_IF_ERROR(read_new_bytes(fd.get(), size, fresh->data, parser, events_path_));
        fresh->data.derive(from);
    }
    RUNICORN_ASSIGN_OR_RETURN(fresh->mark,
                              compute_mark(fd.get(), st, fresh->data.stats.offset, events_path_));
    info.bytes_parsed = fresh->data.stats.offset;
    info.records_added = fresh->data.record_time.size();
    std::unique_lock lk(mu_);
    state_.swap(fresh);
    return info;
}

Status RunSeries::save() {
    std::lock_guard builder(builder_mu_);
    if (cache_dir_.empty()) {
        return ok_status();
    }
    // Only the builder changes state_, and it is excluded here: a shared lock is enough.
    std::shared_lock lk(mu_);
    if (!state_->mark.valid) {
        return ok_status();  // nothing consistent to persist yet
    }
    return save_cache(cache_dir_, state_->data, state_->mark, state_->saved)
        .with_context("saving the metric cache of '" + events_path_.string() + "'");
}

ReadStats RunSeries::read_stats() const {
    std::shared_lock lk(mu_);
    return state_->data.stats;
}

std::vector<KeySummary> RunSeries::key_summaries() const {
    std::shared_lock lk(mu_);
    return summarize_keys(state_->data);
}

std::vector<std::string> RunSeries::stages() const {
    std::shared_lock lk(mu_);
    std::vector<std::string> out;
    for (std::uint32_t id : state_->data.stage_order) {
        out.push_back(state_->data.strings[id]);
    }
    return out;
}

Result<CompatTable> RunSeries::compat_rows(std::optional<std::int64_t> downsample) const {
    std::shared_lock lk(mu_);
    return build_compat_table(state_->data, downsample);
}

Result<SeriesResult> RunSeries::series(const SeriesQuery& query) const {
    std::shared_lock lk(mu_);
    return run_series_query(state_->data, query);
}

}  // namespace runicorn::storage::series
