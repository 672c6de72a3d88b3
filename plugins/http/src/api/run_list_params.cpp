#include "run_list_params.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <utility>

#include "../responses.hpp"
#include "api_common.hpp"

namespace runicorn::http_plugin::api {
namespace {

/// "metric.<key>.last|min|max" → (key, statistic); the key may hold dots ("metric.a.b.min").
std::optional<std::pair<std::string, plugin::MetricStat>> metric_sort(std::string_view s) {
    if (!s.starts_with("metric.")) {
        return std::nullopt;
    }
    s.remove_prefix(7);
    const auto dot = s.rfind('.');
    if (dot == std::string_view::npos || dot == 0) {
        return std::nullopt;
    }
    const std::string_view stat = s.substr(dot + 1);
    plugin::MetricStat m{};
    if (stat == "last") {
        m = plugin::MetricStat::kLast;
    } else if (stat == "min") {
        m = plugin::MetricStat::kMin;
    } else if (stat == "max") {
        m = plugin::MetricStat::kMax;
    } else {
        return std::nullopt;
    }
    return std::pair{std::string(s.substr(0, dot)), m};
}

plugin::HttpResponse bad_choice(std::string_view name, std::string_view allowed) {
    return validation_error(
        {"query", std::string(name)},
        "value is not a valid enumeration member; permitted: " + std::string(allowed),
        "type_error.enum");
}

}  // namespace

std::vector<std::string> split_comma_list(std::string_view text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t comma = text.find(',', pos);
        if (comma == std::string_view::npos) {
            comma = text.size();
        }
        std::string_view item = text.substr(pos, comma - pos);
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
            item.remove_prefix(1);
        }
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
            item.remove_suffix(1);
        }
        if (!item.empty()) {
            out.emplace_back(item);
        }
        pos = comma + 1;
    }
    return out;
}

std::string url_encode(std::string_view text) {
    std::string out;
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
            u == '-' || u == '_' || u == '.' || u == '~') {
            out.push_back(c);
        } else {
            std::array<char, 4> buf{};
            std::snprintf(buf.data(), buf.size(), "%%%02X", u);
            out += buf.data();
        }
    }
    return out;
}

std::string link_with_cursor(std::string_view path, const plugin::HeaderList& query,
                             std::string_view cursor) {
    std::string out(path);
    char sep = '?';
    for (const auto& [k, v] : query) {
        if (k == "cursor") {
            continue;
        }
        out.push_back(sep);
        sep = '&';
        out += url_encode(k) + "=" + url_encode(v);
    }
    out.push_back(sep);
    out += "cursor=" + url_encode(cursor);
    return out;
}

std::optional<plugin::HttpResponse> parse_run_list_params(const plugin::HttpRequest& request,
                                                          RunListParams& out) {
    plugin::RunQuery& q = out.query;
    if (auto limit = request.query_value("limit")) {
        std::int64_t value = 0;
        const char* end = limit->data() + limit->size();
        auto [ptr, ec] = std::from_chars(limit->data(), end, value);
        if (limit->empty() || ec != std::errc() || ptr != end) {
            return validation_error({"query", "limit"}, "value is not a valid integer",
                                    "type_error.integer");
        }
        if (value < 1) {
            return validation_error({"query", "limit"},
                                    "ensure this value is greater than or "
                                    "equal to 1",
                                    "value_error.number.not_ge");
        }
        if (value > 1000) {
            return validation_error({"query", "limit"},
                                    "ensure this value is less than or "
                                    "equal to 1000",
                                    "value_error.number.not_le");
        }
        q.limit = static_cast<std::size_t>(value);
    }
    if (auto cursor = request.query_value("cursor")) {
        q.cursor = *cursor;
    }
    if (auto sort = request.query_value("sort")) {
        const std::string& s = *sort;
        if (s == "discovery") {
            q.sort = plugin::RunSort::kDiscovery;
        } else if (s == "created") {
            q.sort = plugin::RunSort::kCreated;
        } else if (s == "path") {
            q.sort = plugin::RunSort::kPath;
        } else if (s == "status") {
            q.sort = plugin::RunSort::kStatus;
        } else if (s == "best_metric_value") {
            q.sort = plugin::RunSort::kBestMetric;
        } else if (s == "id") {
            q.sort = plugin::RunSort::kId;
        } else if (s == "started") {
            q.sort = plugin::RunSort::kStarted;
        } else if (s == "ended") {
            q.sort = plugin::RunSort::kEnded;
        } else if (s == "duration") {
            q.sort = plugin::RunSort::kDuration;
        } else if (s == "alias") {
            q.sort = plugin::RunSort::kAlias;
        } else if (s.starts_with("summary.") && s.size() > 8) {
            q.sort = plugin::RunSort::kSummary;
            q.sort_field = s.substr(8);
        } else if (s == "last_step") {
            q.sort = plugin::RunSort::kLastStep;
        } else if (auto metric = metric_sort(s)) {
            q.sort = plugin::RunSort::kMetric;
            q.sort_field = metric->first;
            q.sort_metric = metric->second;
        } else {
            return bad_choice("sort",
                              "discovery, created, started, ended, duration, status, path, "
                              "alias, id, last_step, best_metric_value, summary.<key>, "
                              "metric.<key>.last|min|max");
        }
    }
    if (auto order = request.query_value("order")) {
        if (*order == "asc") {
            q.descending = false;
        } else if (*order == "desc") {
            q.descending = true;
        } else {
            return bad_choice("order", "asc, desc");
        }
    }
    if (auto status = request.query_value("status")) {
        q.statuses = split_comma_list(*status);  // "crashed" is the store's pseudo-status
    }
    if (auto path = request.query_value("path")) {
        q.path = *path == "/" ? std::string() : *path;
    }
    if (auto err = query_bool(request, "exact", q.exact_path)) {
        return err;
    }
    if (auto tags = request.query_value("tags")) {
        q.tags = split_comma_list(*tags);
    }
    if (auto deleted = request.query_value("deleted")) {
        if (*deleted == "any") {
            q.deleted = plugin::DeletedFilter::kAny;
        } else if (auto b = parse_bool(*deleted)) {
            q.deleted = *b ? plugin::DeletedFilter::kOnly : plugin::DeletedFilter::kExclude;
        } else {
            return bad_choice("deleted", "false, true, any");
        }
    }
    if (auto include = request.query_value("include")) {
        for (const std::string& item : split_comma_list(*include)) {
            if (item == "summary") {
                out.includes.summary = true;
            } else if (item == "config") {
                out.includes.config = true;
            } else if (item == "meta") {
                out.includes.meta = true;
            } else {
                return bad_choice("include", "summary, config, meta");
            }
        }
    }
    if (auto filter = request.query_value("q")) {
        q.filter = *filter;
    }
    if (auto err = query_bool(request, "count", q.count)) {
        return err;
    }
    return std::nullopt;
}

}  // namespace runicorn::http_plugin::api
