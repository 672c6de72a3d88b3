#include "series_routes.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "../http_router.hpp"
#include "../responses.hpp"

namespace runicorn::http_plugin::live {
namespace {

namespace json = boost::json;

using Fn = std::function<plugin::HttpResponse(const plugin::HttpRequest&)>;

/// Records read per service call while exporting (bounded memory per call).
constexpr std::size_t kExportChunkBytes = std::size_t{4} << 20;

Status add(plugin::HttpRoutes& routes, plugin::RouteSpec spec, Fn fn) {
    return routes.add_route(std::move(spec), make_handler(std::move(fn)));
}

plugin::HttpResponse metrics_step(const LiveServices& s, const plugin::HttpRequest& req) {
    if (s.series == nullptr) {
        return storage_missing();
    }
    std::optional<std::int64_t> downsample;
    if (auto bad = query_int(req, "downsample", downsample)) {
        return std::move(*bad);
    }
    const std::string run_id = req.param("run_id").value_or("");
    auto view = s.series->compat_rows(run_id, downsample);
    if (!view) {
        return failure_response(view.error(), "query", *s.logger, "metrics_step of " + run_id);
    }
    plugin::HttpResponse res = json_response(200, view->body);
    res.headers.emplace_back("X-Row-Count", std::to_string(view->row_count));
    res.headers.emplace_back("X-Total-Count", std::to_string(view->total));
    if (view->last_step) {
        res.headers.emplace_back("X-Last-Step", std::to_string(*view->last_step));
    }
    return with_etag(req, std::move(res));
}

/// hits / (hits + misses) in percent, rounded to 2 decimals (v0.6's shape).
double rate(std::uint64_t part, std::uint64_t whole) {
    if (whole == 0) {
        return 0.0;
    }
    return std::round(static_cast<double>(part) * 10000.0 / static_cast<double>(whole)) / 100.0;
}

plugin::HttpResponse cache_stats(const LiveServices& s) {
    if (s.series == nullptr) {
        return storage_missing();
    }
    const plugin::SeriesCacheStats st = s.series->cache_stats();
    json::object o;
    o["size"] = st.size;
    o["max_size"] = st.max_size;
    o["hits"] = st.hits;
    o["misses"] = st.misses;
    o["incremental_updates"] = st.incremental_updates;
    o["hit_rate"] = rate(st.hits, st.hits + st.misses);
    o["incremental_rate"] = rate(st.incremental_updates, st.hits + st.misses);
    return json_response(200, o);
}

/// Reads the series query parameters of GET /series into `out`; a 422 on bad input.
std::optional<plugin::HttpResponse> series_params(const plugin::HttpRequest& req,
                                                  plugin::SeriesRequest& out) {
    if (auto keys = req.query_value("keys")) {
        out.keys = split_list(*keys);
    }
    out.x = req.query_value("x").value_or("step");
    out.method = req.query_value("method").value_or("lttb");
    std::optional<std::int64_t> points;
    if (auto bad = query_int(req, "points", points)) {
        return bad;
    }
    out.points = points.value_or(1000);
    out.stage = req.query_value("stage");
    if (auto bad = query_double(req, "x_min", out.x_min)) {
        return bad;
    }
    if (auto bad = query_double(req, "x_max", out.x_max)) {
        return bad;
    }
    return std::nullopt;
}

plugin::HttpResponse series_get(const LiveServices& s, const plugin::HttpRequest& req) {
    if (s.series == nullptr) {
        return storage_missing();
    }
    plugin::SeriesRequest q;
    if (auto bad = series_params(req, q)) {
        return std::move(*bad);
    }
    const std::string run_id = req.param("run_id").value_or("");
    auto out = s.series->series(run_id, q);
    if (!out) {
        return failure_response(out.error(), "query", *s.logger, "series of " + run_id);
    }
    return with_etag(req, json_response(200, *out));
}

plugin::HttpResponse body_issue(std::string field, std::string msg, std::string type) {
    return validation_error({"body", std::move(field)}, std::move(msg), std::move(type));
}

/// Reads a list of strings from body field `name` (absent: empty); a 422 on the wrong type.
std::optional<plugin::HttpResponse> string_list(const json::object& body, const char* name,
                                                bool required, std::vector<std::string>& out) {
    const json::value* v = body.if_contains(name);
    if (v == nullptr || v->is_null()) {
        if (required) {
            return body_issue(name, "Field required", "missing");
        }
        return std::nullopt;
    }
    if (!v->is_array()) {
        return body_issue(name, "Input should be a valid list", "list_type");
    }
    for (const json::value& item : v->as_array()) {
        if (!item.is_string()) {
            return body_issue(name, "Input should be a valid string", "string_type");
        }
        out.emplace_back(item.as_string());
    }
    return std::nullopt;
}

std::optional<plugin::HttpResponse> opt_string(const json::object& body, const char* name,
                                               std::optional<std::string>& out) {
    const json::value* v = body.if_contains(name);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        return body_issue(name, "Input should be a valid string", "string_type");
    }
    out = std::string(v->as_string());
    return std::nullopt;
}

std::optional<plugin::HttpResponse> opt_number(const json::object& body, const char* name,
                                               std::optional<double>& out) {
    const json::value* v = body.if_contains(name);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_number() || v->is_bool()) {
        return body_issue(name, "Input should be a valid number", "float_type");
    }
    out = v->to_number<double>();
    return std::nullopt;
}

plugin::HttpResponse series_query(const LiveServices& s, const plugin::HttpRequest& req) {
    if (s.series == nullptr) {
        return storage_missing();
    }
    json::value parsed;
    if (auto bad = parse_json_body(req, parsed)) {
        return std::move(*bad);
    }
    if (!parsed.is_object()) {
        return validation_error({"body"}, "Input should be a valid dictionary", "dict_type");
    }
    const json::object& body = parsed.as_object();
    std::vector<std::string> runs;
    plugin::SeriesRequest q;
    if (auto bad = string_list(body, "runs", true, runs)) {
        return std::move(*bad);
    }
    if (auto bad = string_list(body, "keys", false, q.keys)) {
        return std::move(*bad);
    }
    std::optional<std::string> x;
    std::optional<std::string> method;
    if (auto bad = opt_string(body, "x", x)) {
        return std::move(*bad);
    }
    if (auto bad = opt_string(body, "method", method)) {
        return std::move(*bad);
    }
    if (auto bad = opt_string(body, "stage", q.stage)) {
        return std::move(*bad);
    }
    q.x = x.value_or("step");
    q.method = method.value_or("lttb");
    if (const json::value* p = body.if_contains("points"); p != nullptr && !p->is_null()) {
        if (p->is_int64()) {
            q.points = p->as_int64();
        } else if (p->is_uint64()) {
            q.points = std::numeric_limits<std::int64_t>::max();
        } else {
            return body_issue("points", "Input should be a valid integer", "int_type");
        }
    }
    if (auto bad = opt_number(body, "x_min", q.x_min)) {
        return std::move(*bad);
    }
    if (auto bad = opt_number(body, "x_max", q.x_max)) {
        return std::move(*bad);
    }
    auto out = s.series->series_many(runs, q);
    if (!out) {
        return failure_response(out.error(), "body", *s.logger, "series query");
    }
    return json_response(200, *out);
}

plugin::HttpResponse metric_keys(const LiveServices& s, const plugin::HttpRequest& req) {
    if (s.series == nullptr) {
        return storage_missing();
    }
    const std::string run_id = req.param("run_id").value_or("");
    auto out = s.series->metric_keys(run_id);
    if (!out) {
        return failure_response(out.error(), "query", *s.logger, "metric keys of " + run_id);
    }
    return with_etag(req, json_response(200, *out));
}

// ---- export (API.md §4.3) -------------------------------------------------------------------

std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
        return std::string(text);
    }
    std::string out = "\"";
    for (const char c : text) {
        if (c == '"') {
            out += "\"\"";
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
    return out;
}

/// A value in a CSV cell: strings as text (NaN/Infinity strings are what the service sends for
/// non-finite numbers), null as empty, others as JSON.
std::string csv_value(const json::value& v) {
    if (v.is_null()) {
        return "";
    }
    if (v.is_string()) {
        return csv_field(v.as_string());
    }
    if (v.is_bool()) {
        return v.as_bool() ? "true" : "false";
    }
    return csv_field(json::serialize(v));
}

json::value time_value(const std::optional<double>& t) {
    if (!t) {
        return nullptr;
    }
    if (!std::isfinite(*t)) {
        return json::value(std::isnan(*t) ? "NaN" : (*t > 0 ? "Infinity" : "-Infinity"));
    }
    return json::value(*t);
}

struct MergedRow {
    std::optional<double> time;
    std::optional<std::string> stage;
    json::object values;
};

plugin::HttpResponse metrics_export(const LiveServices& s, const plugin::HttpRequest& req) {
    if (s.series == nullptr || s.runs == nullptr) {
        return storage_missing();
    }
    const std::string format = req.query_value("format").value_or("csv");
    if (format != "csv" && format != "json" && format != "jsonl") {
        return error_response(400, "UNSUPPORTED_FORMAT", "Unsupported format: " + format);
    }
    const std::string layout = req.query_value("layout").value_or("wide");
    if (layout != "wide" && layout != "long") {
        return validation_error({"query", "layout"}, "Input should be 'wide' or 'long'",
                                "literal_error");
    }
    bool bom = false;
    if (auto b = req.query_value("bom")) {
        const auto v = parse_bool_text(*b);
        if (!v) {
            return validation_error({"query", "bom"}, "Input should be a valid boolean",
                                    "bool_parsing");
        }
        bom = *v;
    }
    std::vector<std::string> only_keys;
    if (auto k = req.query_value("keys")) {
        only_keys = split_list(*k);
    }
    const std::set<std::string> key_filter(only_keys.begin(), only_keys.end());
    const std::string run_id = req.param("run_id").value_or("");
    auto run = s.runs->find_run(run_id, false);
    if (!run) {
        return failure_response(run.error(), "query", *s.logger, "export of " + run_id);
    }

    // Everything is built in memory for now (the route API has no streaming body yet).
    std::vector<plugin::MetricRecord> records;
    std::string cursor;
    while (true) {
        auto batch =
            s.series->read_records(run->location.dir, cursor, kExportChunkBytes, format == "jsonl");
        if (!batch) {
            return failure_response(batch.error(), "query", *s.logger, "export of " + run_id);
        }
        for (auto& r : batch->records) {
            records.push_back(std::move(r));
        }
        cursor = batch->cursor;
        if (batch->at_end) {
            break;
        }
    }
    const auto wanted = [&](std::string_view key) {
        return key_filter.empty() || key_filter.count(std::string(key)) != 0;
    };

    plugin::HttpResponse res;
    res.status = 200;
    std::string body;
    std::string ext = format;
    if (format == "jsonl") {
        res.content_type = "application/x-ndjson";
        for (const auto& r : records) {
            body += r.raw;
            body.push_back('\n');
        }
    } else if (format == "csv" && layout == "long") {
        res.content_type = "text/csv; charset=utf-8";
        body = "global_step,time,stage,key,value\r\n";
        for (const auto& r : records) {
            const std::string prefix = (r.global_step ? std::to_string(*r.global_step) : "") + "," +
                                       csv_value(time_value(r.time)) + "," +
                                       (r.stage ? csv_field(*r.stage) : "") + ",";
            for (const auto& kv : r.values) {
                if (!wanted(kv.key())) {
                    continue;
                }
                body += prefix + csv_field(kv.key()) + "," + csv_value(kv.value()) + "\r\n";
            }
        }
    } else {
        // The COMPAT merge (API.md §2.3): per step, the value written last wins.
        std::map<std::int64_t, MergedRow> rows;
        std::set<std::string> keys;
        for (auto& r : records) {
            if (!r.global_step) {
                continue;
            }
            MergedRow& row = rows[*r.global_step];
            if (r.time) {
                row.time = r.time;
            }
            if (r.stage) {
                row.stage = r.stage;
            }
            for (auto& kv : r.values) {
                if (wanted(kv.key())) {
                    keys.emplace(kv.key());
                    row.values[kv.key()] = std::move(kv.value());
                }
            }
        }
        if (format == "csv") {
            res.content_type = "text/csv; charset=utf-8";
            body = "global_step,time,stage";
            for (const std::string& k : keys) {
                body += "," + csv_field(k);
            }
            body += "\r\n";
            for (const auto& [step, row] : rows) {
                body += std::to_string(step) + "," + csv_value(time_value(row.time)) + "," +
                        (row.stage ? csv_field(*row.stage) : "");
                for (const std::string& k : keys) {
                    const json::value* v = row.values.if_contains(k);
                    body += "," + (v != nullptr ? csv_value(*v) : std::string());
                }
                body += "\r\n";
            }
        } else {
            std::set<std::string> all = keys;
            all.emplace("time");
            all.emplace("stage");
            json::array columns;
            if (!rows.empty()) {
                columns.emplace_back("global_step");
                for (const std::string& k : all) {
                    columns.emplace_back(k);
                }
            }
            json::array out_rows;
            for (const auto& [step, row] : rows) {
                json::object o;
                o["global_step"] = step;
                for (const std::string& k : all) {
                    if (k == "time") {
                        o["time"] = time_value(row.time);
                    } else if (k == "stage") {
                        o["stage"] = row.stage ? json::value(*row.stage) : json::value(nullptr);
                    } else {
                        const json::value* v = row.values.if_contains(k);
                        o[k] = v != nullptr ? *v : json::value(nullptr);
                    }
                }
                out_rows.emplace_back(std::move(o));
            }
            json::object doc;
            doc["run_id"] = run->location.run_id;
            doc["columns"] = std::move(columns);
            doc["rows"] = std::move(out_rows);
            res.content_type = "application/json";
            body = json::serialize(doc);
        }
    }
    if (bom && format == "csv") {
        body.insert(0, "\xEF\xBB\xBF");
    }
    res.body = std::move(body);
    res.headers.emplace_back(
        "Content-Disposition",
        "attachment; filename=\"" + run->location.run_id + "_metrics." + ext + "\"");
    return res;
}

}  // namespace

Status add_series_routes(plugin::HttpRoutes& routes, const LiveServices& services) {
    const auto s = std::make_shared<const LiveServices>(services);
    plugin::RouteSpec steps{"GET", "/api/runs/:run_id/metrics_step",
                            "Metric rows merged per step (COMPAT)", true};
    steps.parameters = {{"downsample", "query", false, "integer", "100..50000"}};
    steps.tags = {"metrics"};
    RUNICORN_RETURN_IF_ERROR(
        add(routes, steps, [s](const plugin::HttpRequest& r) { return metrics_step(*s, r); }));
    plugin::RouteSpec metrics = steps;
    metrics.pattern = "/api/runs/:run_id/metrics";
    metrics.summary = "Same as metrics_step (COMPAT)";
    RUNICORN_RETURN_IF_ERROR(
        add(routes, metrics, [s](const plugin::HttpRequest& r) { return metrics_step(*s, r); }));
    plugin::RouteSpec stats{"GET", "/api/metrics/cache/stats", "Series cache counters", true};
    stats.tags = {"metrics"};
    RUNICORN_RETURN_IF_ERROR(
        add(routes, stats, [s](const plugin::HttpRequest&) { return cache_stats(*s); }));
    plugin::RouteSpec keys{"GET", "/api/runs/:run_id/metric-keys",
                           "Metric keys with per-key summaries", false};
    keys.tags = {"metrics"};
    RUNICORN_RETURN_IF_ERROR(
        add(routes, keys, [s](const plugin::HttpRequest& r) { return metric_keys(*s, r); }));
    plugin::RouteSpec series{"GET", "/api/runs/:run_id/series",
                             "Downsampled metric series of one run", false};
    series.tags = {"metrics"};
    series.parameters = {{"keys", "query", false, "string", "comma list"},
                         {"x", "query", false, "string", "step, time or relative_time"},
                         {"method", "query", false, "string", "lttb, minmax or none"},
                         {"points", "query", false, "integer", "10..50000"},
                         {"stage", "query", false, "string", ""},
                         {"x_min", "query", false, "number", ""},
                         {"x_max", "query", false, "number", ""}};
    RUNICORN_RETURN_IF_ERROR(
        add(routes, series, [s](const plugin::HttpRequest& r) { return series_get(*s, r); }));
    plugin::RouteSpec query{"POST", "/api/series/query", "Series of several runs", false};
    query.tags = {"metrics"};
    RUNICORN_RETURN_IF_ERROR(
        add(routes, query, [s](const plugin::HttpRequest& r) { return series_query(*s, r); }));
    plugin::RouteSpec exp{"GET", "/api/runs/:run_id/metrics/export",
                          "Metrics as CSV, JSON or JSONL", false};
    exp.tags = {"metrics"};
    exp.parameters = {{"format", "query", false, "string", "csv, json or jsonl"},
                      {"layout", "query", false, "string", "wide or long"},
                      {"keys", "query", false, "string", "comma list"},
                      {"bom", "query", false, "boolean", "CSV only"}};
    return add(routes, exp, [s](const plugin::HttpRequest& r) { return metrics_export(*s, r); });
}

}  // namespace runicorn::http_plugin::live
