#include "series_service.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <system_error>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include "catalog.hpp"
#include "queries.hpp"
#include "record.hpp"
#include "run_series.hpp"
#include "tolerant_json.hpp"
#include "unique_fd.hpp"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::storage {
namespace {

namespace json = boost::json;
using series::FieldValue;
using series::PointKind;

constexpr std::size_t kMaxKeysPerQuery = 100;
constexpr std::size_t kMaxRunsPerQuery = 50;
constexpr std::size_t kMaxLineBytes = std::size_t{16} << 20;
constexpr std::int64_t kMaxMediaLimit = 1000;

/// A double as the NEW endpoints send it: finite as a number, NaN/±Inf as strings.
json::value new_number(double d) {
    if (std::isnan(d)) {
        return json::value("NaN");
    }
    if (std::isinf(d)) {
        return json::value(d > 0 ? "Infinity" : "-Infinity");
    }
    return json::value(d);
}

/// x values: integral steps as integers so that step axes read as ints.
json::value x_number(double d, bool integral) {
    if (integral && std::isfinite(d) && d >= -9.0e15 && d <= 9.0e15) {
        return json::value(static_cast<std::int64_t>(d));
    }
    return new_number(d);
}

json::value compat_cell(const series::CompatValue& v) {
    switch (v.kind) {
        case series::CompatValue::Kind::kNull:
            return nullptr;
        case series::CompatValue::Kind::kBool:
            return json::value(v.b);
        case series::CompatValue::Kind::kInt:
            return json::value(v.i);
        case series::CompatValue::Kind::kDouble:
            return std::isfinite(v.d) ? json::value(v.d) : json::value(nullptr);
        case series::CompatValue::Kind::kString:
            return json::value(v.s);
    }
    return nullptr;
}

Status run_not_found() { return Status::not_found("Run not found"); }

std::string to_hex(std::uint64_t v) {
    char buf[17];
    const auto res = std::to_chars(buf, buf + sizeof(buf), v, 16);
    return std::string(buf, res.ptr);
}

bool from_hex(std::string_view s, std::uint64_t& out) {
    if (s.empty() || s.size() > 16) {
        return false;
    }
    const auto res = std::from_chars(s.data(), s.data() + s.size(), out, 16);
    return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

std::optional<std::int64_t> field_step(const FieldValue& v) {
    if (v.type != FieldValue::Type::kNumber || v.kind == PointKind::kBool) {
        return std::nullopt;
    }
    if (v.kind == PointKind::kInt) {
        return v.i;
    }
    if (std::isfinite(v.d) && std::floor(v.d) == v.d && std::fabs(v.d) < 9.2e18) {
        return static_cast<std::int64_t>(v.d);
    }
    return std::nullopt;
}

/// Builds the MetricRecord of a parsed metrics line.
plugin::MetricRecord to_metric_record(const series::Record& rec) {
    plugin::MetricRecord out;
    std::optional<std::int64_t> global_step;
    std::optional<std::int64_t> step;
    for (const series::Field& f : rec.fields) {
        const FieldValue& v = f.v;
        if (f.key == "global_step") {
            global_step = field_step(v);
            continue;
        }
        if (f.key == "step") {
            step = field_step(v);
            continue;
        }
        if (f.key == "time") {
            if (v.type == FieldValue::Type::kNumber && v.kind != PointKind::kBool) {
                out.time = v.kind == PointKind::kInt ? static_cast<double>(v.i) : v.d;
            } else {
                out.time.reset();
            }
            continue;
        }
        if (f.key == "stage") {
            if (v.type == FieldValue::Type::kString) {
                out.stage = std::string(v.s);
            } else {
                out.stage.reset();
            }
            continue;
        }
        json::value value;
        switch (v.type) {
            case FieldValue::Type::kNumber:
                if (v.kind == PointKind::kBool) {
                    value = v.d != 0.0;
                } else if (v.kind == PointKind::kInt) {
                    value = v.i;
                } else {
                    value = new_number(v.d);
                }
                break;
            case FieldValue::Type::kNull:
                value = nullptr;
                break;
            case FieldValue::Type::kString:
                value = json::string(v.s);
                break;
            case FieldValue::Type::kOther:
                out.values.erase(f.key);
                continue;
        }
        out.values[f.key] = std::move(value);
    }
    out.global_step = global_step ? global_step : step;
    if (!out.time && std::isfinite(rec.ts)) {
        out.time = rec.ts;
    }
    return out;
}

Status io_error(const std::filesystem::path& path, std::string_view what, int err) {
    return Status::unavailable(std::string(what) + " '" + path.string() +
                               "': " + std::error_code(err, std::generic_category()).message());
}

std::string percent_encode(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        }
    }
    return out;
}

std::optional<std::int64_t> json_int(const json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->as_int64();
    }
    if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(v->as_uint64());
    }
    if (v->is_double() && std::floor(v->as_double()) == v->as_double() &&
        std::fabs(v->as_double()) < 9.2e18) {
        return static_cast<std::int64_t>(v->as_double());
    }
    return std::nullopt;
}

}  // namespace

std::string encode_series_cursor(std::uint64_t dev, std::uint64_t ino, std::uint64_t offset) {
    return "c1." + to_hex(dev) + "." + to_hex(ino) + "." + to_hex(offset);
}

std::optional<SeriesCursor> decode_series_cursor(std::string_view cursor) {
    if (!cursor.starts_with("c1.")) {
        return std::nullopt;
    }
    cursor.remove_prefix(3);
    SeriesCursor out;
    std::uint64_t* parts[3] = {&out.dev, &out.ino, &out.offset};
    for (int i = 0; i < 3; ++i) {
        const std::size_t dot = i < 2 ? cursor.find('.') : cursor.size();
        if (dot == std::string_view::npos || !from_hex(cursor.substr(0, dot), *parts[i])) {
            return std::nullopt;
        }
        cursor.remove_prefix(i < 2 ? dot + 1 : dot);
    }
    return out;
}

SeriesService::SeriesService(std::shared_ptr<const plugin::RunStore> store,
                             std::shared_ptr<spdlog::logger> log, Options options)
    : store_(std::move(store)), log_(std::move(log)), options_(options) {}

SeriesService::~SeriesService() = default;

Result<plugin::RunInfo> SeriesService::find(std::string_view run_id) const {
    auto run = store_->find_run(run_id, false);
    if (!run) {
        if (run.error().code() == StatusCode::kNotFound) {
            return run_not_found();
        }
        return run.error();
    }
    return std::move(*run);
}

Result<std::shared_ptr<series::RunSeries>> SeriesService::fresh_series(const plugin::RunInfo& run) {
    const std::string key = run.location.dir.string();
    std::shared_ptr<series::RunSeries> rs;
    bool created = false;
    {
        const std::lock_guard lock(mu_);
        auto it = runs_.find(key);
        if (it != runs_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            rs = it->second.series;
        } else {
            std::filesystem::path cache_dir;
            if (options_.persist) {
                std::error_code ec;
                const auto rel = std::filesystem::relative(run.location.dir, store_->root(), ec);
                if (!ec && !rel.empty()) {
                    cache_dir = series::series_cache_dir(store_->root(),
                                                         catalog::run_key(rel.generic_string()));
                }
            }
            rs = std::make_shared<series::RunSeries>(run.location.dir / "events.jsonl",
                                                     std::move(cache_dir), log_);
            lru_.push_front(key);
            runs_.emplace(key, Entry{rs, lru_.begin()});
            created = true;
            while (runs_.size() > std::max<std::size_t>(options_.max_runs, 1)) {
                runs_.erase(lru_.back());
                lru_.pop_back();
            }
        }
    }
    auto info = rs->refresh();
    if (!info) {
        return info.error();
    }
    const bool changed = info->bytes_parsed > 0 || info->rebuilt;
    {
        const std::lock_guard lock(mu_);
        if (created || info->rebuilt) {
            ++misses_;
        } else if (changed) {
            ++incremental_;
        } else {
            ++hits_;
        }
    }
    if (changed && options_.persist) {
        if (Status s = rs->save(); !s.is_ok() && log_ != nullptr) {
            log_->debug("not saving the series cache of '{}': {}", key, s.message());
        }
    }
    return rs;
}

Result<plugin::MetricRowsView> SeriesService::compat_rows(std::string_view run_id,
                                                          std::optional<std::int64_t> downsample) {
    if (downsample &&
        (*downsample < series::kMinDownsample || *downsample > series::kMaxDownsample)) {
        // Checked before the lookup so that a bad parameter answers 422 for any run (FastAPI).
        return Status::invalid_argument(
            *downsample < series::kMinDownsample
                ? "downsample: Input should be greater than or equal to 100"
                : "downsample: Input should be less than or equal to 50000");
    }
    RUNICORN_ASSIGN_OR_RETURN(const plugin::RunInfo run, find(run_id));
    RUNICORN_ASSIGN_OR_RETURN(const auto rs, fresh_series(run));
    RUNICORN_ASSIGN_OR_RETURN(const series::CompatTable table, rs->compat_rows(downsample));
    plugin::MetricRowsView out;
    json::array columns;
    columns.reserve(table.columns.size());
    for (const std::string& c : table.columns) {
        columns.emplace_back(c);
    }
    json::array rows;
    rows.reserve(table.rows.size());
    for (const auto& row : table.rows) {
        json::object o;
        o.reserve(row.size());
        for (std::size_t c = 0; c < row.size() && c < table.columns.size(); ++c) {
            o.emplace(table.columns[c], compat_cell(row[c]));
        }
        rows.emplace_back(std::move(o));
    }
    out.row_count = table.rows.size();
    out.total = table.total;
    out.last_step = table.last_step;
    out.body["columns"] = std::move(columns);
    out.body["rows"] = std::move(rows);
    out.body["total"] = table.total;
    out.body["sampled"] = table.sampled;
    return out;
}

Result<boost::json::object> SeriesService::metric_keys(std::string_view run_id) {
    RUNICORN_ASSIGN_OR_RETURN(const plugin::RunInfo run, find(run_id));
    RUNICORN_ASSIGN_OR_RETURN(const auto rs, fresh_series(run));
    json::array keys;
    std::optional<std::int64_t> last_step;
    for (const series::KeySummary& k : rs->key_summaries()) {
        json::object o;
        o["key"] = k.key;
        o["count"] = k.count;
        o["numeric"] = k.numeric_count > 0;
        o["nonfinite"] = k.nonfinite_count;
        o["first_step"] = k.first_step ? json::value(*k.first_step) : json::value(nullptr);
        o["last_step"] = k.last_step ? json::value(*k.last_step) : json::value(nullptr);
        o["last"] = k.last ? new_number(*k.last) : json::value(nullptr);
        o["min"] = k.min ? json::value(*k.min) : json::value(nullptr);
        o["max"] = k.max ? json::value(*k.max) : json::value(nullptr);
        if (k.last_step && (!last_step || *k.last_step > *last_step)) {
            last_step = k.last_step;
        }
        keys.emplace_back(std::move(o));
    }
    json::array stages;
    for (const std::string& s : rs->stages()) {
        stages.emplace_back(s);
    }
    const series::ReadStats stats = rs->read_stats();
    json::object out;
    out["run_id"] = run.location.run_id;
    out["keys"] = std::move(keys);
    out["stages"] = std::move(stages);
    out["last_step"] = last_step ? json::value(*last_step) : json::value(nullptr);
    out["cursor"] = encode_series_cursor(stats.dev, stats.ino, stats.offset);
    return out;
}

namespace {

Result<series::SeriesQuery> to_query(const plugin::SeriesRequest& r) {
    series::SeriesQuery q;
    if (r.keys.size() > kMaxKeysPerQuery) {
        return Status::invalid_argument("keys: at most 100 keys per request");
    }
    q.keys = r.keys;
    if (r.x == "step") {
        q.x = series::XAxis::kStep;
    } else if (r.x == "time") {
        q.x = series::XAxis::kTime;
    } else if (r.x == "relative_time") {
        q.x = series::XAxis::kRelativeTime;
    } else {
        return Status::invalid_argument("x: Input should be 'step', 'time' or 'relative_time'");
    }
    if (r.method == "lttb") {
        q.method = series::Method::kLttb;
    } else if (r.method == "minmax") {
        q.method = series::Method::kMinMax;
    } else if (r.method == "none") {
        q.method = series::Method::kNone;
    } else {
        return Status::invalid_argument("method: Input should be 'lttb', 'minmax' or 'none'");
    }
    if (r.points < series::kMinPoints) {
        return Status::invalid_argument("points: Input should be greater than or equal to 10");
    }
    if (r.points > series::kMaxPoints) {
        return Status::invalid_argument("points: Input should be less than or equal to 50000");
    }
    q.points = static_cast<std::uint32_t>(r.points);
    if (r.x_min && r.x_max && *r.x_min > *r.x_max) {
        return Status::invalid_argument("x_min: must not be greater than x_max");
    }
    q.stage = r.stage;
    q.x_min = r.x_min;
    q.x_max = r.x_max;
    return q;
}

}  // namespace

Result<boost::json::object> SeriesService::series_for(const plugin::RunInfo& run,
                                                      const plugin::SeriesRequest& request) {
    RUNICORN_ASSIGN_OR_RETURN(series::SeriesQuery q, to_query(request));
    if (q.x == series::XAxis::kRelativeTime && run.started_at) {
        q.time_origin = run.started_at;
    }
    RUNICORN_ASSIGN_OR_RETURN(const auto rs, fresh_series(run));
    RUNICORN_ASSIGN_OR_RETURN(const series::SeriesResult res, rs->series(q));
    const bool int_x = q.x == series::XAxis::kStep;
    json::array stages;
    for (const series::StageChange& s : res.stages) {
        json::array pair;
        pair.emplace_back(x_number(s.x, int_x));
        pair.emplace_back(s.stage.empty() ? json::value(nullptr) : json::value(s.stage));
        stages.emplace_back(std::move(pair));
    }
    json::array list;
    for (const series::Series& s : res.series) {
        json::object o;
        o["key"] = s.key;
        o["total"] = s.total;
        o["returned"] = s.returned;
        o["nonfinite_total"] = s.nonfinite_total;
        json::array xs;
        xs.reserve(s.x.size());
        for (const double x : s.x) {
            xs.emplace_back(x_number(x, int_x));
        }
        json::array ys;
        ys.reserve(s.y.size());
        for (const double y : s.y) {
            ys.emplace_back(new_number(y));
        }
        o["x"] = std::move(xs);
        o["y"] = std::move(ys);
        o["stages"] = stages;
        o["found"] = s.found;
        if (s.truncated) {
            o["truncated"] = true;
        }
        list.emplace_back(std::move(o));
    }
    const series::ReadStats stats = rs->read_stats();
    json::object out;
    out["run_id"] = run.location.run_id;
    out["x"] = request.x;
    out["method"] = request.method;
    out["points"] = request.points;
    out["series"] = std::move(list);
    if (res.stages_truncated) {
        out["stages_truncated"] = true;
    }
    out["last_step"] = res.last_step ? json::value(*res.last_step) : json::value(nullptr);
    out["last_time"] = res.last_time ? new_number(*res.last_time) : json::value(nullptr);
    out["cursor"] = encode_series_cursor(stats.dev, stats.ino, stats.offset);
    return out;
}

Result<boost::json::object> SeriesService::series(std::string_view run_id,
                                                  const plugin::SeriesRequest& request) {
    if (auto q = to_query(request); !q) {
        return q.error();  // a bad parameter is 422 whether or not the run exists
    }
    RUNICORN_ASSIGN_OR_RETURN(const plugin::RunInfo run, find(run_id));
    return series_for(run, request);
}

Result<boost::json::object> SeriesService::series_many(const std::vector<std::string>& run_ids,
                                                       const plugin::SeriesRequest& request) {
    if (run_ids.size() > kMaxRunsPerQuery) {
        return Status::invalid_argument("runs: at most 50 runs per query");
    }
    if (auto q = to_query(request); !q) {
        return q.error();
    }
    json::array results;
    json::object errors;
    for (const std::string& id : run_ids) {
        auto run = find(id);
        if (!run) {
            errors[id] = run.error().message();
            continue;
        }
        auto one = series_for(*run, request);
        if (!one) {
            errors[id] = one.error().message();
            continue;
        }
        results.emplace_back(std::move(*one));
    }
    json::object out;
    out["results"] = std::move(results);
    out["errors"] = std::move(errors);
    return out;
}

Result<boost::json::object> SeriesService::media(std::string_view run_id,
                                                 const plugin::MediaQuery& query) {
    if (query.limit < 1) {
        return Status::invalid_argument("limit: Input should be greater than or equal to 1");
    }
    if (query.limit > kMaxMediaLimit) {
        return Status::invalid_argument("limit: Input should be less than or equal to 1000");
    }
    std::uint64_t start = 0;
    if (!query.cursor.empty()) {
        const auto res =
            std::from_chars(query.cursor.data(), query.cursor.data() + query.cursor.size(), start);
        if (res.ec != std::errc() || res.ptr != query.cursor.data() + query.cursor.size()) {
            return Status::invalid_argument("cursor: Invalid cursor");
        }
    }
    RUNICORN_ASSIGN_OR_RETURN(const plugin::RunInfo run, find(run_id));
    const std::filesystem::path path = run.location.dir / "events.jsonl";
    std::ifstream in(path, std::ios::binary);
    std::vector<std::pair<std::string, std::uint64_t>> key_counts;
    json::array items;
    std::uint64_t matched = 0;
    bool more = false;
    std::string line;
    while (in && std::getline(in, line)) {
        if (in.eof()) {
            break;  // an unterminated last line is not a record yet (FORMAT.md §4.4)
        }
        if (line.size() > kMaxLineBytes || line.find("\"image\"") == std::string::npos) {
            continue;
        }
        boost::system::error_code ec;
        json::value v = json::parse(line, ec);
        if (ec || !v.is_object()) {
            continue;
        }
        const json::object& rec = v.as_object();
        const json::value* type = rec.if_contains("type");
        const json::value* data_v = rec.if_contains("data");
        if (type == nullptr || !type->is_string() || type->as_string() != "image" ||
            data_v == nullptr || !data_v->is_object()) {
            continue;
        }
        const json::object& data = data_v->as_object();
        const json::value* key_v = data.if_contains("key");
        const std::string key =
            key_v != nullptr && key_v->is_string() ? std::string(key_v->as_string()) : "";
        auto kc = std::find_if(key_counts.begin(), key_counts.end(),
                               [&](const auto& p) { return p.first == key; });
        if (kc == key_counts.end()) {
            key_counts.emplace_back(key, 1);
        } else {
            ++kc->second;
        }
        if (query.key && key != *query.key) {
            continue;
        }
        const std::optional<std::int64_t> step = json_int(data.if_contains("step"));
        if ((query.step_min && (!step || *step < *query.step_min)) ||
            (query.step_max && (!step || *step > *query.step_max))) {
            continue;
        }
        const std::uint64_t index = matched++;
        if (index < start) {
            continue;
        }
        if (items.size() >= static_cast<std::size_t>(query.limit)) {
            more = true;
            continue;
        }
        json::object item;
        item["key"] = key;
        const json::value* path_v = data.if_contains("path");
        const std::string rel =
            path_v != nullptr && path_v->is_string() ? std::string(path_v->as_string()) : "";
        item["path"] = rel;
        item["step"] = step ? json::value(*step) : json::value(nullptr);
        const auto gs = json_int(data.if_contains("global_step"));
        item["global_step"] = gs ? json::value(*gs) : json::value(nullptr);
        const json::value* caption = data.if_contains("caption");
        item["caption"] =
            caption != nullptr && caption->is_string() ? *caption : json::value(nullptr);
        const json::value* ts = rec.if_contains("ts");
        item["ts"] = ts != nullptr && ts->is_number() ? *ts : json::value(nullptr);
        std::string file = rel.starts_with("media/") ? rel.substr(6) : rel;
        const json::value* format = data.if_contains("format");
        if (format != nullptr && format->is_string()) {
            item["format"] = *format;
        } else if (const auto dot = file.rfind('.'); dot != std::string::npos) {
            std::string ext = file.substr(dot + 1);
            std::transform(ext.begin(), ext.end(), ext.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            item["format"] = ext == "jpg" ? "jpeg" : ext;
        } else {
            item["format"] = nullptr;
        }
        for (const char* name : {"size_bytes", "width", "height"}) {
            const auto n = json_int(data.if_contains(name));
            item[name] = n ? json::value(*n) : json::value(nullptr);
        }
        item["url"] =
            "/api/runs/" + percent_encode(run.location.run_id) + "/media/" + percent_encode(file);
        items.emplace_back(std::move(item));
    }
    json::array keys;
    for (const auto& [k, n] : key_counts) {
        json::object o;
        o["key"] = k;
        o["count"] = n;
        keys.emplace_back(std::move(o));
    }
    json::object out;
    out["run_id"] = run.location.run_id;
    out["keys"] = std::move(keys);
    out["items"] = std::move(items);
    out["next_cursor"] =
        more ? json::value(std::to_string(start + static_cast<std::uint64_t>(query.limit)))
             : json::value(nullptr);
    return out;
}

plugin::SeriesCacheStats SeriesService::cache_stats() const {
    const std::lock_guard lock(mu_);
    plugin::SeriesCacheStats s;
    s.size = runs_.size();
    s.max_size = options_.max_runs;
    s.hits = hits_;
    s.misses = misses_;
    s.incremental_updates = incremental_;
    return s;
}

Result<plugin::RecordBatch> SeriesService::read_records(const std::filesystem::path& run_dir,
                                                        std::string_view cursor,
                                                        std::size_t max_bytes,
                                                        bool with_raw) const {
    std::optional<SeriesCursor> from;
    if (!cursor.empty()) {
        from = decode_series_cursor(cursor);
        if (!from) {
            return Status::invalid_argument("cursor: Invalid cursor");
        }
    }
    const std::filesystem::path path = run_dir / "events.jsonl";
    plugin::RecordBatch out;
    const series::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        if (errno == ENOENT) {
            out.reset = from.has_value() && from->offset > 0;
            out.cursor = encode_series_cursor(0, 0, 0);
            return out;
        }
        return io_error(path, "cannot open", errno);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return io_error(path, "cannot stat", errno);
    }
    const auto dev = static_cast<std::uint64_t>(st.st_dev);
    const auto ino = static_cast<std::uint64_t>(st.st_ino);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    std::uint64_t offset = 0;
    if (from) {
        const bool same_file = (from->dev == dev && from->ino == ino) || from->offset == 0;
        if (same_file && from->offset <= size) {
            offset = from->offset;
        } else {
            out.reset = true;
        }
    }
    max_bytes = std::max<std::size_t>(max_bytes, 4096);
    std::string buf;
    std::uint64_t consumed = offset;
    series::TolerantLineParser parser;
    series::Record rec;
    while (consumed < size) {
        // Read a window; grow it until it holds at least one whole line.
        const std::uint64_t want = std::min<std::uint64_t>(size - consumed, max_bytes);
        buf.resize(static_cast<std::size_t>(want));
        std::size_t got = 0;
        while (got < buf.size()) {
            const ssize_t n = ::pread(fd.get(), buf.data() + got, buf.size() - got,
                                      static_cast<off_t>(consumed + got));
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                return io_error(path, "cannot read", errno);
            }
            if (n == 0) {
                break;
            }
            got += static_cast<std::size_t>(n);
        }
        buf.resize(got);
        std::size_t last_nl = buf.rfind('\n');
        if (last_nl == std::string::npos) {
            if (consumed + got >= size) {
                break;  // only an unterminated tail is left
            }
            // One line longer than the window: find its end and skip or read it whole.
            std::uint64_t scan = consumed + got;
            std::string chunk(65536, '\0');
            std::optional<std::uint64_t> end;
            while (scan < size && !end) {
                const ssize_t n =
                    ::pread(fd.get(), chunk.data(), chunk.size(), static_cast<off_t>(scan));
                if (n <= 0) {
                    break;
                }
                const void* nl = std::memchr(chunk.data(), '\n', static_cast<std::size_t>(n));
                if (nl != nullptr) {
                    end = scan +
                          static_cast<std::uint64_t>(static_cast<const char*>(nl) - chunk.data());
                } else {
                    scan += static_cast<std::uint64_t>(n);
                }
            }
            if (!end) {
                break;  // unterminated
            }
            if (*end - consumed > kMaxLineBytes) {
                consumed = *end + 1;  // skipped, as the engine does (FORMAT.md §4.4)
                continue;
            }
            max_bytes = static_cast<std::size_t>(*end - consumed + 1);
            continue;
        }
        std::string_view window(buf.data(), last_nl + 1);
        while (!window.empty()) {
            const std::size_t nl = window.find('\n');
            std::string_view line = window.substr(0, nl);
            window.remove_prefix(nl + 1);
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            if (line.find_first_not_of(" \t") == std::string_view::npos) {
                continue;
            }
            rec.clear();
            if (!parser.parse(line, rec) || !rec.is_metrics || !rec.data_is_object) {
                continue;
            }
            plugin::MetricRecord mr = to_metric_record(rec);
            if (with_raw) {
                mr.raw = std::string(line);
            }
            out.records.push_back(std::move(mr));
        }
        consumed += last_nl + 1;
        break;  // one window per call: the caller asks again while !at_end
    }
    // at_end: no complete line is left after `consumed`.
    out.at_end = true;
    if (consumed < size) {
        // Cheap check: is there a '\n' anywhere after `consumed`? Scan in chunks.
        std::string chunk(65536, '\0');
        std::uint64_t scan = consumed;
        while (scan < size) {
            const ssize_t n =
                ::pread(fd.get(), chunk.data(), chunk.size(), static_cast<off_t>(scan));
            if (n <= 0) {
                break;
            }
            if (std::memchr(chunk.data(), '\n', static_cast<std::size_t>(n)) != nullptr) {
                out.at_end = false;
                break;
            }
            scan += static_cast<std::uint64_t>(n);
        }
    }
    out.cursor = encode_series_cursor(dev, ino, consumed);
    return out;
}

}  // namespace runicorn::storage
