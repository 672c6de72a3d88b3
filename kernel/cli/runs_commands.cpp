#include "runs_commands.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <memory>

#include <boost/json.hpp>

#include <runicorn/filter/filter.hpp>
#include <runicorn/plugin/run_store.hpp>

#include "cli_messages.hpp"
#include "display_width.hpp"
#include <unistd.h>

namespace runicorn::cli {
namespace json = boost::json;
using plugin::RunInfo;
using plugin::RunStore;

namespace {

/// A session with the run store obtained from the loaded plugins. The store is released before
/// the host that loaded it (members are destroyed in reverse order).
/// Thread safety: externally synchronized.
struct StoreSession {
    Session session;
    std::shared_ptr<RunStore> store;
};

Result<StoreSession> open_store(const GlobalOptions& g) {
    StoreSession s;
    RUNICORN_ASSIGN_OR_RETURN(
        s.session, open_session(g, spdlog::level::warn, {}, std::vector<std::string>{"storage"}));
    auto& host = *s.session.host;
    host.load();
    host.init();  // no start(): a one-shot command needs no watcher thread
    s.store = host.find<RunStore>();
    if (s.store == nullptr) {
        for (const auto& r : host.reports()) {
            if (std::find(r.provides.begin(), r.provides.end(), RunStore::kServiceId) !=
                r.provides.end()) {
                const std::string state = r.state == "loaded"     ? tr("state.loaded")
                                          : r.state == "refused"  ? tr("state.refused")
                                          : r.state == "disabled" ? tr("state.disabled")
                                                                  : r.state;
                return Status::unavailable(
                    r.error.empty() ? tr("store.plugin_state", {{"id", r.id}, {"state", state}})
                                    : tr("store.plugin_state_why",
                                         {{"id", r.id}, {"state", state}, {"reason", r.error}}));
            }
        }
        return Status::unavailable(tr("store.none"));
    }
    return s;
}

std::string number(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, r.ptr);
}

/// JSON as Python's json.dumps(indent=2) writes it: doubles in the shortest form that reads back
/// the same (an integral one keeps ".0"), non-finite ones as null, UTF-8 unescaped.
void json_into(std::string& out, const json::value& v, int indent) {
    const auto pad = [&out](int n) { out.append(static_cast<std::size_t>(n) * 2, ' '); };
    switch (v.kind()) {
        case json::kind::object: {
            const auto& o = v.get_object();
            if (o.empty()) {
                out += "{}";
                return;
            }
            out += "{\n";
            bool first = true;
            for (const auto& kv : o) {
                out += first ? "" : ",\n";
                first = false;
                pad(indent + 1);
                out += json::serialize(json::string_view(kv.key())) + ": ";
                json_into(out, kv.value(), indent + 1);
            }
            out += "\n";
            pad(indent);
            out += "}";
            return;
        }
        case json::kind::array: {
            const auto& a = v.get_array();
            if (a.empty()) {
                out += "[]";
                return;
            }
            out += "[\n";
            bool first = true;
            for (const auto& item : a) {
                out += first ? "" : ",\n";
                first = false;
                pad(indent + 1);
                json_into(out, item, indent + 1);
            }
            out += "\n";
            pad(indent);
            out += "]";
            return;
        }
        case json::kind::double_: {
            const double d = v.get_double();
            if (!std::isfinite(d)) {
                out += "null";
                return;
            }
            std::string n = number(d);
            if (n.find_first_of(".e") == std::string::npos) {
                n += ".0";
            }
            out += n;
            return;
        }
        default:
            out += json::serialize(v);
    }
}

std::string json_text(const json::value& v) {
    std::string out;
    json_into(out, v, 0);
    return out + "\n";
}

std::string local_time(double epoch) {
    const auto t = static_cast<std::time_t>(std::floor(epoch));
    std::tm tm{};
    ::localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string liveness_name(const RunInfo& r) {
    switch (r.liveness) {
        case plugin::RunLiveness::kAlive:
            return "alive";
        case plugin::RunLiveness::kUnknown:
            return "unknown";
        case plugin::RunLiveness::kStale:
            return "stale";
        case plugin::RunLiveness::kDead:
            return "dead";
        case plugin::RunLiveness::kNotChecked:
            break;
    }
    return r.status == "running" ? "unknown" : "ended";
}

template <class T>
json::value opt(const std::optional<T>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

json::value finite(const std::optional<double>& v) {
    return v && std::isfinite(*v) ? json::value(*v) : json::value(nullptr);
}

/// A RunListItem of API.md §2.2: v0.6's fields first, then ours. `duration` stays null while
/// the run has not ended, so two listings of the same store print the same text.
json::object run_item(const RunInfo& r) {
    json::object o;
    o["id"] = r.location.run_id;
    o["run_dir"] = r.location.dir.string();
    o["created_time"] = finite(r.created_at);
    o["status"] = r.status;
    o["pid"] = opt(r.pid);
    o["best_metric_value"] = finite(r.best_metric_value);
    o["best_metric_name"] = opt(r.best_metric_name);
    o["path"] = opt(r.location.path);
    o["alias"] = opt(r.alias);
    o["tags"] = json::array(r.tags.begin(), r.tags.end());
    o["assets_count"] = r.assets_count;
    o["started_at"] = finite(r.started_at);
    o["ended_at"] = finite(r.ended_at);
    o["duration"] = r.started_at && r.ended_at ? json::value(*r.ended_at - *r.started_at)
                                               : json::value(nullptr);
    o["exit_reason"] = opt(r.exit_reason);
    o["liveness"] = liveness_name(r);
    o["hostname"] = opt(r.hostname);
    o["format_version"] = r.format_version.value_or(0);
    if (r.location.deleted) {
        o["deleted_at"] = finite(r.deleted_at);
        o["delete_reason"] = r.deleted_reason.value_or("unknown");
        o["original_status"] = r.original_status.value_or("unknown");
    }
    return o;
}

std::string best_text(const RunInfo& r) {
    if (!r.best_metric_value || !std::isfinite(*r.best_metric_value)) {
        return "-";
    }
    // Six significant digits are enough to read; --json prints the exact value.
    char value[32];
    std::snprintf(value, sizeof(value), "%.6g", *r.best_metric_value);
    return r.best_metric_name.value_or("?") + "=" + value;
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width;
    for (const auto& row : rows) {
        width.resize(std::max(width.size(), row.size()));
        for (std::size_t i = 0; i < row.size(); ++i) {
            width[i] = std::max(width[i], display_width(row[i]));
        }
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            if (i + 1 < row.size()) {
                line.append(width[i] - display_width(row[i]) + 2, ' ');
            }
        }
        std::cout << line << "\n";
    }
}

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = std::min(text.find(',', pos), text.size());
        if (comma > pos) {
            out.push_back(text.substr(pos, comma - pos));
        }
        pos = comma + 1;
    }
    return out;
}

/// Draws "reindexing [#####-----] 523/10000" on a terminal's stderr.
/// Thread safety: externally synchronized (called from the reindexing thread only).
class BarProgress final : public plugin::ReindexProgress {
public:
    void on_progress(std::size_t done, std::size_t total) override {
        const std::size_t permille = total == 0 ? 1000 : done * 1000 / total;
        if (permille == last_ && done != total) {
            return;
        }
        last_ = permille;
        constexpr std::size_t kWidth = 30;
        const std::size_t filled = permille * kWidth / 1000;
        std::cerr << "\r" << tr("reindex.progress") << " [" << std::string(filled, '#')
                  << std::string(kWidth - filled, '-') << "] " << done << "/" << total
                  << std::flush;
        drawn_ = true;
    }
    void finish() const {
        if (drawn_) {
            std::cerr << "\n";
        }
    }

private:
    std::size_t last_ = static_cast<std::size_t>(-1);
    bool drawn_ = false;
};

int fail_status(const Status& s) {
    const bool usage = s.code() == StatusCode::kInvalidArgument;
    return fail(s.message(), usage ? 2 : 1);
}

/// A bad --filter: the error, then the expression with a caret under the position (exit 2).
int fail_filter(const std::string& expression, const filter::Error& e) {
    const int code = fail(e.to_status().message(), 2);
    // One column per code point; blanks that move the cursor become spaces.
    std::string line;
    std::size_t column = 0;
    for (std::size_t i = 0; i < expression.size(); ++i) {
        const char c = expression[i];
        const bool continuation = (static_cast<unsigned char>(c) & 0xC0U) == 0x80U;
        line.push_back(c == '\t' || c == '\n' || c == '\r' ? ' ' : c);
        if (i < e.position && !continuation) {
            ++column;
        }
    }
    std::cerr << "  " << line << "\n  " << std::string(column, ' ') << "^\n";
    return code;
}

}  // namespace

Result<double> parse_time_arg(const std::string& text) {
    const auto bad = [&text] {
        return Status::invalid_argument(tr("time.invalid", {{"text", text}}));
    };
    if (text.empty()) {
        return bad();
    }
    if (text.find('-', 1) == std::string::npos) {  // epoch seconds
        double v = 0;
        const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
        if (r.ec != std::errc() || r.ptr != text.data() + text.size() || !std::isfinite(v)) {
            return bad();
        }
        return v;
    }
    std::tm tm{};
    std::size_t pos = 0;
    const auto digits = [&](std::size_t n, int& out) {
        if (pos + n > text.size()) {
            return false;
        }
        int v = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = text[pos + i];
            if (c < '0' || c > '9') {
                return false;
            }
            v = v * 10 + (c - '0');
        }
        out = v;
        pos += n;
        return true;
    };
    const auto expect = [&](char c) {
        if (pos < text.size() && text[pos] == c) {
            ++pos;
            return true;
        }
        return false;
    };
    int year = 0;
    int month = 0;
    int day = 0;
    if (!digits(4, year) || !expect('-') || !digits(2, month) || !expect('-') || !digits(2, day) ||
        month < 1 || month > 12 || day < 1 || day > 31) {
        return bad();
    }
    int hour = 0;
    int minute = 0;
    int second = 0;
    double fraction = 0;
    std::optional<int> offset_s;
    if (pos < text.size()) {
        if (!(expect('T') || expect(' ')) || !digits(2, hour) || !expect(':') ||
            !digits(2, minute) || hour > 23 || minute > 59) {
            return bad();
        }
        if (expect(':')) {
            if (!digits(2, second) || second > 60) {
                return bad();
            }
            if (pos < text.size() && text[pos] == '.') {
                const std::size_t start = pos;
                ++pos;
                while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
                    ++pos;
                }
                fraction = std::strtod(("0" + text.substr(start, pos - start)).c_str(), nullptr);
            }
        }
        if (expect('Z')) {
            offset_s = 0;
        } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
            const int sign = text[pos] == '-' ? -1 : 1;
            ++pos;
            int oh = 0;
            int om = 0;
            if (!digits(2, oh)) {
                return bad();
            }
            expect(':');
            if (!digits(2, om) || oh > 23 || om > 59) {
                return bad();
            }
            offset_s = sign * (oh * 3600 + om * 60);
        }
        if (pos != text.size()) {
            return bad();
        }
    }
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    if (offset_s) {
        return static_cast<double>(::timegm(&tm) - *offset_s) + fraction;
    }
    tm.tm_isdst = -1;
    const std::time_t t = std::mktime(&tm);
    if (t == static_cast<std::time_t>(-1)) {
        return bad();
    }
    return static_cast<double>(t) + fraction;
}

int run_ls(const GlobalOptions& g, const LsOptions& o) {
    plugin::RunQuery q;
    q.path = o.path;
    if (q.path) {
        // "/" is the root path, as in the API's `path=/`; a trailing slash is not part of a path.
        while (!q.path->empty() && q.path->back() == '/') {
            q.path->pop_back();
        }
    }
    q.exact_path = o.exact;
    q.statuses = split_commas(o.statuses);
    q.tags = o.tags;
    q.text = o.text;
    q.filter = o.filter;
    if (auto parsed = filter::parse(o.filter); !parsed) {
        return fail_filter(o.filter, parsed.error());
    }
    for (const auto& [arg, value, target] : {std::tuple{"--since", &o.since, &q.created_from},
                                             std::tuple{"--until", &o.until, &q.created_to}}) {
        if (*value) {
            auto t = parse_time_arg(**value);
            if (!t) {
                return fail(std::string(arg) + ": " + t.error().message(), 2);
            }
            *target = *t;
        }
    }
    q.deleted = o.deleted ? plugin::DeletedFilter::kOnly : plugin::DeletedFilter::kExclude;
    static const std::vector<std::pair<std::string, plugin::RunSort>> sorts = {
        {"discovery", plugin::RunSort::kDiscovery}, {"created", plugin::RunSort::kCreated},
        {"path", plugin::RunSort::kPath},           {"status", plugin::RunSort::kStatus},
        {"best", plugin::RunSort::kBestMetric},     {"id", plugin::RunSort::kId},
        {"started", plugin::RunSort::kStarted},     {"ended", plugin::RunSort::kEnded},
        {"duration", plugin::RunSort::kDuration},   {"alias", plugin::RunSort::kAlias}};
    const auto sort =
        std::find_if(sorts.begin(), sorts.end(), [&o](const auto& s) { return s.first == o.sort; });
    constexpr std::string_view kSummaryPrefix = "summary.";
    if (o.sort.size() > kSummaryPrefix.size() && o.sort.starts_with(kSummaryPrefix)) {
        q.sort = plugin::RunSort::kSummary;
        q.sort_field = o.sort.substr(kSummaryPrefix.size());
    } else if (sort == sorts.end()) {
        return fail(tr("ls.bad_sort", {{"key", o.sort}}), 2);
    } else {
        q.sort = sort->second;
    }
    if (o.asc || o.desc) {
        q.descending = o.desc;
    }
    q.limit = o.limit;
    q.cursor = o.cursor;

    auto s = open_store(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    auto page = s->store->list_runs(q);
    if (!page) {
        if (const auto e = filter::error_from_status(page.error())) {
            return fail_filter(o.filter, *e);
        }
        return fail_status(page.error());
    }
    if (o.json) {
        json::array runs;
        for (const auto& r : page->runs) {
            runs.push_back(run_item(r));
        }
        json::object out{
            {"runs", std::move(runs)},
            {"total", page->total},
            {"next_cursor",
             page->next_cursor.empty() ? json::value(nullptr) : json::value(page->next_cursor)}};
        std::cout << json_text(out);
        return 0;
    }
    if (page->runs.empty()) {
        std::cout << tr("ls.no_runs") << "\n";
        return 0;
    }
    std::vector<std::vector<std::string>> rows;
    rows.push_back({tr("ls.col_id"), tr("ls.col_path"), tr("ls.col_alias"), tr("ls.col_status"),
                    tr("ls.col_created"), tr("ls.col_best"), tr("ls.col_assets")});
    for (const auto& r : page->runs) {
        rows.push_back({r.location.run_id, r.location.path.value_or("-"), r.alias.value_or("-"),
                        r.status, r.created_at ? local_time(*r.created_at) : "-", best_text(r),
                        std::to_string(r.assets_count)});
    }
    print_table(rows);
    if (!page->next_cursor.empty()) {
        std::cout << tr_n("ls.page", static_cast<std::int64_t>(page->total),
                          {{"shown", page->runs.size()}, {"cursor", page->next_cursor}})
                  << "\n";
    }
    return 0;
}

int run_show(const GlobalOptions& g, const std::string& run_id, bool as_json) {
    auto s = open_store(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    auto run = s->store->find_run(run_id, true);
    if (!run) {
        return fail_status(run.error());
    }
    const RunInfo& r = *run;
    json::object item = run_item(r);
    item["deleted"] = r.location.deleted;
    item["summary"] = r.summary;
    item["meta"] = r.meta;
    if (as_json) {
        std::cout << json_text(item);
        return 0;
    }
    const auto seconds = [](const json::value& v) {
        char buf[48];
        std::snprintf(buf, sizeof(buf), "%.3f", v.to_number<double>());
        return tr("show.seconds", {{"seconds", buf}});
    };
    std::vector<std::vector<std::string>> rows = {
        {tr("show.id"), r.location.run_id},
        {tr("show.path"), r.location.path.value_or("-")},
        {tr("show.alias"), r.alias.value_or("-")},
        {tr("show.tags"), r.tags.empty() ? "-" : json::serialize(item.at("tags"))},
        {tr("show.status"),
         r.location.deleted ? tr("show.deleted_mark", {{"status", r.status}}) : r.status},
        {tr("show.exit_reason"), r.exit_reason.value_or("-")},
        {tr("show.liveness"), liveness_name(r)},
        {tr("show.created"), r.created_at ? local_time(*r.created_at) : "-"},
        {tr("show.started"), r.started_at ? local_time(*r.started_at) : "-"},
        {tr("show.ended"), r.ended_at ? local_time(*r.ended_at) : "-"},
        {tr("show.duration"), item.at("duration").is_null() ? "-" : seconds(item.at("duration"))},
        {tr("show.host"),
         r.pid ? tr("show.host_pid", {{"host", r.hostname.value_or("-")}, {"pid", *r.pid}})
               : r.hostname.value_or("-")},
        {tr("show.best_metric"),
         r.best_metric_step
             ? tr("show.best_at_step", {{"best", best_text(r)}, {"step", *r.best_metric_step}})
             : best_text(r)},
        {tr("show.assets"), std::to_string(r.assets_count)},
        {tr("show.written_by"), r.format_version
                                    ? tr("show.writer_cpp", {{"format", *r.format_version}})
                                    : tr("show.writer_v06")},
        {tr("show.folder"), r.location.dir.string()},
    };
    if (r.location.deleted) {
        rows.push_back({tr("show.deleted"), r.deleted_at ? local_time(*r.deleted_at) : "-"});
        rows.push_back({tr("show.delete_reason"), r.deleted_reason.value_or("unknown")});
        rows.push_back({tr("show.original_status"), r.original_status.value_or("unknown")});
    }
    print_table(rows);
    std::cout << tr("show.summary") << "\n" << json_text(r.summary);
    return 0;
}

int run_reindex(const GlobalOptions& g) {
    auto s = open_store(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    BarProgress bar;
    const auto start = std::chrono::steady_clock::now();
    auto n = s->store->reindex(tty ? &bar : nullptr);
    bar.finish();
    if (!n) {
        return fail_status(n.error());
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2f", secs);
    std::cout << tr_n("reindex.done", static_cast<std::int64_t>(*n), {{"seconds", buf}}) << "\n";
    return 0;
}

int run_fsck(const GlobalOptions& g, bool repair) {
    auto s = open_store(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    auto report = s->store->fsck(repair);
    if (!report) {
        return fail(report.error().message(), 2);
    }
    std::size_t repaired = 0;
    for (const auto& p : report->problems) {
        std::cout << (p.run_dir.empty() ? "" : p.run_dir + ": ") << p.file << ": "
                  << (!repair      ? p.problem
                      : p.repaired ? tr("fsck.repaired", {{"problem", p.problem}})
                                   : tr("fsck.not_repaired", {{"problem", p.problem}}))
                  << "\n";
        repaired += p.repaired ? 1 : 0;
    }
    const auto n = static_cast<std::int64_t>(report->problems.size());
    const auto checked = static_cast<std::int64_t>(report->runs_checked);
    if (n == 0) {
        std::cout << tr_n("fsck.clean", checked) << "\n";
        return 0;
    }
    const std::string problems = tr_n("fsck.problems", n);
    std::cout << tr_n("fsck.checked", checked,
                      {{"problems", repair ? tr("fsck.repaired_count",
                                                {{"problems", problems}, {"repaired", repaired}})
                                           : tr("fsck.hint", {{"problems", problems}})}})
              << "\n";
    return 1;
}

int run_delete(const GlobalOptions& g, const std::vector<std::string>& run_ids, bool permanent) {
    auto s = open_store(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    int rc = 0;
    for (const auto& id : run_ids) {
        Status st = s->store->soft_delete(id, "user_deleted");
        if (permanent && (st.is_ok() || st.code() == StatusCode::kFailedPrecondition)) {
            st = s->store->purge(id);
        }
        if (!st.is_ok()) {
            rc = fail(st.message());
            continue;
        }
        std::cout << tr(permanent ? "delete.purged" : "delete.deleted", {{"id", id}}) << "\n";
    }
    return rc;
}

int run_restore(const GlobalOptions& g, const std::vector<std::string>& run_ids) {
    auto s = open_store(g);
    if (!s) {
        return fail(s.error().message(), 2);
    }
    int rc = 0;
    for (const auto& id : run_ids) {
        if (Status st = s->store->restore(id); !st.is_ok()) {
            rc = fail(st.message());
            continue;
        }
        std::cout << tr("restore.restored", {{"id", id}}) << "\n";
    }
    return rc;
}

}  // namespace runicorn::cli
