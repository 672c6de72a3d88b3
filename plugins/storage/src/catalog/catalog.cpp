#include "catalog.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <variant>

#include <boost/json.hpp>
#include <openssl/evp.h>

namespace runicorn::storage::catalog {
namespace json = boost::json;
using plugin::DeletedFilter;
using plugin::PathStats;
using plugin::RunInfo;
using plugin::RunPage;
using plugin::RunQuery;
using plugin::RunSort;

namespace {

constexpr std::string_view kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
  run_key TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  path TEXT,
  rel_dir TEXT NOT NULL UNIQUE,
  layout TEXT NOT NULL,
  discovery_key TEXT NOT NULL,
  alias TEXT,
  created_at REAL,
  started_at REAL,
  ended_at REAL,
  status TEXT NOT NULL,
  exit_reason TEXT,
  liveness INTEGER NOT NULL,
  hostname TEXT,
  pid INTEGER,
  deleted INTEGER NOT NULL,
  deleted_at REAL,
  delete_reason TEXT,
  original_status TEXT,
  best_metric_name TEXT,
  best_metric_value REAL,
  best_metric_step INTEGER,
  best_metric_mode TEXT,
  assets_count INTEGER NOT NULL,
  format_version INTEGER,
  search_text TEXT NOT NULL,
  tags_json TEXT NOT NULL,
  summary_json TEXT NOT NULL,
  meta_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS run_tags (
  run_key TEXT NOT NULL REFERENCES runs(run_key) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_key, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS paths (
  path TEXT PRIMARY KEY, total INTEGER NOT NULL, running INTEGER NOT NULL,
  finished INTEGER NOT NULL, failed INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at);
CREATE INDEX IF NOT EXISTS runs_path_created ON runs(path, created_at);
CREATE INDEX IF NOT EXISTS runs_status_created ON runs(status, created_at);
CREATE INDEX IF NOT EXISTS runs_run_id ON runs(run_id);
CREATE INDEX IF NOT EXISTS runs_discovery ON runs(discovery_key);
CREATE INDEX IF NOT EXISTS runs_best_metric ON runs(best_metric_value);
CREATE INDEX IF NOT EXISTS run_tags_tag ON run_tags(tag);
)sql";

constexpr std::string_view kColumns =
    "run_key, run_id, path, rel_dir, layout, discovery_key, alias, created_at, started_at, "
    "ended_at, status, exit_reason, liveness, hostname, pid, deleted, deleted_at, delete_reason, "
    "original_status, best_metric_name, best_metric_value, best_metric_step, best_metric_mode, "
    "assets_count, format_version, search_text, tags_json, summary_json, meta_json";

/// Position of `name` in kColumns.
int column_index(std::string_view name) {
    int idx = 0;
    std::string_view cols = kColumns;
    while (!cols.empty()) {
        const auto comma = std::min(cols.find(','), cols.size());
        std::string_view col = cols.substr(0, comma);
        while (col.starts_with(' ')) {
            col.remove_prefix(1);
        }
        if (col == name) {
            return idx;
        }
        cols.remove_prefix(std::min(comma + 1, cols.size()));
        ++idx;
    }
    return 0;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string hex(const unsigned char* data, std::size_t n) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (std::size_t i = 0; i < n; ++i) {
        out.push_back(kDigits[data[i] >> 4U]);
        out.push_back(kDigits[data[i] & 0xFU]);
    }
    return out;
}

std::string unhex(std::string_view s) {
    std::string out;
    if (s.size() % 2 != 0) {
        return out;
    }
    const auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); i += 2) {
        const int hi = nibble(s[i]);
        const int lo = nibble(s[i + 1]);
        if (hi < 0 || lo < 0) {
            return {};
        }
        out.push_back(static_cast<char>((hi << 4) | lo));
    }
    return out;
}

std::string sha256_hex(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
    return hex(md, len);
}

/// Every ancestor of "a/b/c", itself included: "a", "a/b", "a/b/c".
std::vector<std::string> with_ancestors(const std::string& path) {
    std::vector<std::string> out;
    for (std::size_t pos = path.find('/'); pos != std::string::npos;
         pos = path.find('/', pos + 1)) {
        out.push_back(path.substr(0, pos));
    }
    out.push_back(path);
    return out;
}

using SqlValue = std::variant<std::nullptr_t, std::int64_t, double, std::string>;

void bind_all(Statement& stmt, const std::vector<SqlValue>& values) {
    int i = 1;
    for (const auto& v : values) {
        std::visit(
            [&](const auto& x) {
                using T = std::decay_t<decltype(x)>;
                if constexpr (std::is_same_v<T, std::nullptr_t>) {
                    stmt.bind_null(i);
                } else if constexpr (std::is_same_v<T, std::string>) {
                    stmt.bind(i, std::string_view(x));
                } else {
                    stmt.bind(i, x);
                }
            },
            v);
        ++i;
    }
}

struct SortSpec {
    std::string column;
    bool numeric;
    bool default_desc;
};

SortSpec sort_spec(RunSort sort) {
    switch (sort) {
        case RunSort::kDiscovery:
            return {"discovery_key", false, false};
        case RunSort::kCreated:
            return {"created_at", true, true};
        case RunSort::kPath:
            return {"path", false, false};
        case RunSort::kStatus:
            return {"status", false, false};
        case RunSort::kBestMetric:
            return {"best_metric_value", true, true};
        case RunSort::kId:
            return {"run_id", false, false};
    }
    return {"discovery_key", false, false};
}

/// The WHERE clause (without keyset) and its values; also a canonical text of the filters, which
/// a cursor carries so it is refused for another query.
std::string build_filter(const RunQuery& q, std::vector<SqlValue>& values, std::string& canon) {
    std::vector<std::string> clauses;
    if (q.deleted == DeletedFilter::kExclude) {
        clauses.emplace_back("deleted = 0");
    } else if (q.deleted == DeletedFilter::kOnly) {
        clauses.emplace_back("deleted = 1");
    }
    canon += "d" + std::to_string(static_cast<int>(q.deleted));
    if (q.path) {
        canon += "|p" + std::string(q.exact_path ? "=" : "^") + *q.path;
        if (q.path->empty()) {
            clauses.emplace_back("path IS NULL");
        } else if (q.exact_path) {
            clauses.emplace_back("path = ?");
            values.emplace_back(*q.path);
        } else {
            // "cv" or anything under "cv/": a range the path index can serve ('0' follows '/').
            clauses.emplace_back("(path = ? OR (path >= ? AND path < ?))");
            values.emplace_back(*q.path);
            values.emplace_back(*q.path + "/");
            values.emplace_back(*q.path + "0");
        }
    }
    if (!q.statuses.empty()) {
        std::string in = "status IN (";
        for (std::size_t i = 0; i < q.statuses.size(); ++i) {
            in += i == 0 ? "?" : ", ?";
            values.emplace_back(q.statuses[i]);
            canon += "|s" + q.statuses[i];
        }
        clauses.push_back(in + ")");
    }
    for (const auto& tag : q.tags) {
        clauses.emplace_back("run_key IN (SELECT run_key FROM run_tags WHERE tag = ?)");
        values.emplace_back(tag);
        canon += "|t" + tag;
    }
    if (!q.text.empty()) {
        clauses.emplace_back("instr(search_text, ?) > 0");
        values.emplace_back(lower(q.text));
        canon += "|q" + lower(q.text);
    }
    if (q.created_from) {
        clauses.emplace_back("created_at >= ?");
        values.emplace_back(*q.created_from);
        canon += "|f" + std::to_string(*q.created_from);
    }
    if (q.created_to) {
        clauses.emplace_back("created_at < ?");
        values.emplace_back(*q.created_to);
        canon += "|u" + std::to_string(*q.created_to);
    }
    std::string where;
    for (const auto& c : clauses) {
        where += where.empty() ? " WHERE " : " AND ";
        where += c;
    }
    return where;
}

/// Cursor = hex of "1\x1f<canon>\x1f<kind>\x1f<value>\x1f<run_key>", kind n (null), r, t.
std::string make_cursor(const std::string& canon, const Statement& last, int sort_col,
                        bool numeric) {
    std::string kind = "n";
    std::string value;
    if (!last.is_null(sort_col)) {
        if (numeric) {
            char buf[40];
            std::snprintf(buf, sizeof(buf), "%.17g", last.real(sort_col));
            kind = "r";
            value = buf;
        } else {
            kind = "t";
            value = last.text(sort_col);
        }
    }
    const std::string raw =
        "1\x1f" + canon + "\x1f" + kind + "\x1f" + value + "\x1f" + last.text(0);
    return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

}  // namespace

std::string run_key(std::string_view rel_dir) { return sha256_hex(rel_dir).substr(0, 32); }

std::string discovery_key(const plugin::RunLocation& location, std::string_view rel_dir,
                          std::int64_t legacy_mtime_ns) {
    // Segments joined by \x01, which sorts before every character a name can hold, so the text
    // order equals the order of the segment tuples. The original spelling breaks case ties.
    std::string key;
    std::string_view rest = rel_dir;
    if (!location.legacy) {
        key = "0";
        if (rest.starts_with("runs/")) {
            rest.remove_prefix(5);
        }
        std::string exact;
        for (std::size_t pos = 0; pos <= rest.size();) {
            const auto slash = std::min(rest.find('/', pos), rest.size());
            const auto seg = rest.substr(pos, slash - pos);
            key += "\x01" + lower(seg);
            exact += "\x01" + std::string(seg);
            pos = slash + 1;
        }
        return key + "\x02" + exact;
    }
    // Legacy: <project>/<name>/runs/<run>: project, name, then newest first.
    const auto first = rest.find('/');
    const auto second = rest.find('/', first + 1);
    char inverted[24];
    std::snprintf(inverted, sizeof(inverted), "%020lld",
                  static_cast<long long>(INT64_MAX - legacy_mtime_ns));
    return "1\x01" + lower(rest.substr(0, first)) + "\x01" +
           lower(rest.substr(first + 1, second - first - 1)) + "\x01" + inverted + "\x02" +
           std::string(rest);
}

Result<std::unique_ptr<Catalog>> Catalog::open(const std::string& file,
                                               std::filesystem::path root) {
    RUNICORN_ASSIGN_OR_RETURN(auto db, Database::open(file));
    std::int64_t version = 0;
    {
        RUNICORN_ASSIGN_OR_RETURN(auto stmt, db->prepare("PRAGMA user_version"));
        RUNICORN_ASSIGN_OR_RETURN(bool has_row, stmt.step());
        version = has_row ? stmt.int64(0) : 0;
    }  // finalised here: an open statement would lock the tables dropped below
    if (version != 0 && version != kSchemaVersion) {
        // A cache from another schema: drop and rebuild (FORMAT.md §7.4).
        RUNICORN_RETURN_IF_ERROR(db->exec(
            "DROP TABLE IF EXISTS run_tags; DROP TABLE IF EXISTS paths; DROP TABLE IF EXISTS runs; "
            "DROP TABLE IF EXISTS meta;"));
    }
    RUNICORN_RETURN_IF_ERROR(db->exec(kSchema));
    RUNICORN_RETURN_IF_ERROR(db->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion)));
    return std::unique_ptr<Catalog>(new Catalog(std::move(db), std::move(root)));
}

Status Catalog::adjust_paths(const std::optional<std::string>& path, const std::string& status,
                             bool deleted, int delta) {
    if (!path || path->empty() || deleted) {
        return Status::ok();  // root-path and deleted runs are not counted
    }
    RUNICORN_ASSIGN_OR_RETURN(
        auto stmt,
        db_->prepare("INSERT INTO paths(path, total, running, finished, failed) "
                     "VALUES(?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
                     "total = total + excluded.total, running = running + excluded.running, "
                     "finished = finished + excluded.finished, "
                     "failed = failed + excluded.failed"));
    for (const auto& p : with_ancestors(*path)) {
        stmt.reset();
        stmt.bind(1, std::string_view(p));
        stmt.bind(2, std::int64_t{delta});
        stmt.bind(3, std::int64_t{status == "running" ? delta : 0});
        stmt.bind(4, std::int64_t{status == "finished" ? delta : 0});
        stmt.bind(5, std::int64_t{status == "failed" ? delta : 0});
        RUNICORN_RETURN_IF_ERROR(stmt.run());
    }
    if (delta < 0) {
        RUNICORN_RETURN_IF_ERROR(db_->exec("DELETE FROM paths WHERE total <= 0"));
    }
    return Status::ok();
}

Status Catalog::insert_locked(const CatalogEntry& e) {
    const RunInfo& r = e.info;
    const std::string key = run_key(e.rel_dir);
    json::array tags(r.tags.begin(), r.tags.end());
    std::string search = lower(r.location.run_id) + "\n" + lower(r.alias.value_or("")) + "\n" +
                         lower(r.location.path.value_or(""));
    for (const auto& t : r.tags) {
        search += "\n" + lower(t);
    }
    RUNICORN_ASSIGN_OR_RETURN(
        auto stmt,
        db_->prepare("INSERT INTO runs(" + std::string(kColumns) +
                     ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    stmt.bind(1, std::string_view(key));
    stmt.bind(2, std::string_view(r.location.run_id));
    stmt.bind(3, r.location.path);
    stmt.bind(4, std::string_view(e.rel_dir));
    stmt.bind(5, std::string_view(r.location.legacy ? "legacy" : "new"));
    stmt.bind(6, std::string_view(e.discovery_key));
    stmt.bind(7, r.alias);
    stmt.bind(8, r.created_at);
    stmt.bind(9, r.started_at);
    stmt.bind(10, r.ended_at);
    stmt.bind(11, std::string_view(r.status));
    stmt.bind(12, r.exit_reason);
    stmt.bind(13, static_cast<std::int64_t>(r.liveness));
    stmt.bind(14, r.hostname);
    stmt.bind(15, r.pid);
    stmt.bind(16, std::int64_t{r.location.deleted ? 1 : 0});
    stmt.bind(17, r.deleted_at);
    stmt.bind(18, r.deleted_reason);
    stmt.bind(19, r.original_status);
    stmt.bind(20, r.best_metric_name);
    stmt.bind(21, r.best_metric_value);
    stmt.bind(22, r.best_metric_step);
    stmt.bind(23, r.best_metric_mode);
    stmt.bind(24, r.assets_count);
    stmt.bind(25, r.format_version);
    stmt.bind(26, std::string_view(search));
    stmt.bind(27, std::string_view(json::serialize(tags)));
    stmt.bind(28, std::string_view(json::serialize(r.summary)));
    stmt.bind(29, std::string_view(json::serialize(r.meta)));
    RUNICORN_RETURN_IF_ERROR(stmt.run());
    RUNICORN_ASSIGN_OR_RETURN(
        auto tag_stmt, db_->prepare("INSERT OR IGNORE INTO run_tags(run_key, tag) VALUES(?, ?)"));
    for (const auto& t : r.tags) {
        tag_stmt.reset();
        tag_stmt.bind(1, std::string_view(key));
        tag_stmt.bind(2, std::string_view(t));
        RUNICORN_RETURN_IF_ERROR(tag_stmt.run());
    }
    return adjust_paths(r.location.path, r.status, r.location.deleted, +1);
}

Status Catalog::remove_locked(std::string_view key) {
    RUNICORN_ASSIGN_OR_RETURN(
        auto old, db_->prepare("SELECT path, status, deleted FROM runs WHERE run_key = ?"));
    old.bind(1, key);
    RUNICORN_ASSIGN_OR_RETURN(bool found, old.step());
    if (!found) {
        return Status::ok();
    }
    RUNICORN_RETURN_IF_ERROR(adjust_paths(old.opt_text(0), old.text(1), old.int64(2) != 0, -1));
    RUNICORN_ASSIGN_OR_RETURN(auto del, db_->prepare("DELETE FROM runs WHERE run_key = ?"));
    del.bind(1, key);
    return del.run();
}

Status Catalog::replace_all(const std::vector<CatalogEntry>& entries) {
    Transaction tx(*db_);
    RUNICORN_RETURN_IF_ERROR(tx.status());
    RUNICORN_RETURN_IF_ERROR(
        db_->exec("DELETE FROM run_tags; DELETE FROM runs; DELETE FROM paths;"));
    for (const auto& e : entries) {
        RUNICORN_RETURN_IF_ERROR(insert_locked(e));
    }
    return tx.commit();
}

Status Catalog::upsert(const CatalogEntry& entry) {
    Transaction tx(*db_);
    RUNICORN_RETURN_IF_ERROR(tx.status());
    RUNICORN_RETURN_IF_ERROR(remove_locked(run_key(entry.rel_dir)));
    RUNICORN_RETURN_IF_ERROR(insert_locked(entry));
    return tx.commit();
}

Status Catalog::remove(std::string_view rel_dir) {
    Transaction tx(*db_);
    RUNICORN_RETURN_IF_ERROR(tx.status());
    RUNICORN_RETURN_IF_ERROR(remove_locked(run_key(rel_dir)));
    return tx.commit();
}

Result<std::vector<std::string>> Catalog::rel_dirs() const {
    RUNICORN_ASSIGN_OR_RETURN(auto stmt, db_->prepare("SELECT rel_dir FROM runs ORDER BY rel_dir"));
    std::vector<std::string> out;
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) {
            return out;
        }
        out.push_back(stmt.text(0));
    }
}

RunInfo Catalog::row_to_info(const Statement& s) const {
    RunInfo r;
    r.location.run_id = s.text(1);
    r.location.path = s.opt_text(2);
    r.location.dir = root_ / s.text(3);
    r.location.legacy = s.text(4) == "legacy";
    r.alias = s.opt_text(6);
    r.created_at = s.opt_real(7);
    r.started_at = s.opt_real(8);
    r.ended_at = s.opt_real(9);
    r.status = s.text(10);
    r.exit_reason = s.opt_text(11);
    r.liveness = static_cast<plugin::RunLiveness>(s.int64(12));
    r.hostname = s.opt_text(13);
    r.pid = s.opt_int64(14);
    r.location.deleted = s.int64(15) != 0;
    r.deleted_at = s.opt_real(16);
    r.deleted_reason = s.opt_text(17);
    r.original_status = s.opt_text(18);
    r.best_metric_name = s.opt_text(19);
    r.best_metric_value = s.opt_real(20);
    r.best_metric_step = s.opt_int64(21);
    r.best_metric_mode = s.opt_text(22);
    r.assets_count = s.int64(23);
    r.format_version = s.opt_int64(24);
    boost::system::error_code ec;
    auto tags = json::parse(s.text(26), ec);
    if (!ec && tags.is_array()) {
        for (const auto& t : tags.get_array()) {
            if (t.is_string()) {
                r.tags.emplace_back(t.get_string());
            }
        }
    }
    auto summary = json::parse(s.text(27), ec);
    if (!ec && summary.is_object()) {
        r.summary = std::move(summary.get_object());
    }
    auto meta = json::parse(s.text(28), ec);
    if (!ec && meta.is_object()) {
        r.meta = std::move(meta.get_object());
    }
    return r;
}

Result<RunPage> Catalog::query(const RunQuery& q) const {
    const SortSpec spec = sort_spec(q.sort);
    const bool desc = q.descending.value_or(spec.default_desc);
    std::vector<SqlValue> values;
    std::string canon = std::to_string(static_cast<int>(q.sort)) + (desc ? "d" : "a");
    const std::string where = build_filter(q, values, canon);

    RunPage page;
    if (q.count) {
        RUNICORN_ASSIGN_OR_RETURN(auto count, db_->prepare("SELECT COUNT(*) FROM runs" + where));
        bind_all(count, values);
        RUNICORN_ASSIGN_OR_RETURN(bool row, count.step());
        page.total = row ? static_cast<std::uint64_t>(count.int64(0)) : 0;
    }

    std::string keyset;
    std::vector<SqlValue> key_values;
    if (!q.cursor.empty()) {
        const std::string raw = unhex(q.cursor);
        std::vector<std::string> parts;
        for (std::size_t pos = 0;;) {
            const auto sep = raw.find('\x1f', pos);
            parts.push_back(raw.substr(pos, sep - pos));
            if (sep == std::string::npos) {
                break;
            }
            pos = sep + 1;
        }
        if (parts.size() != 5 || parts[0] != "1" || parts[1] != canon) {
            return Status::invalid_argument(
                "the cursor does not belong to this query (same sort, order and filters needed)");
        }
        const std::string cmp = desc ? "<" : ">";
        const std::string& col = spec.column;
        if (parts[2] == "n") {
            keyset = col + " IS NULL AND run_key " + cmp + " ?";
            key_values.emplace_back(parts[4]);
        } else {
            keyset = "(" + col + " IS NOT NULL AND (" + col + " " + cmp + " ? OR (" + col +
                     " = ? AND run_key " + cmp + " ?))) OR " + col + " IS NULL";
            if (parts[2] == "r") {
                const double v = std::strtod(parts[3].c_str(), nullptr);
                key_values.emplace_back(v);
                key_values.emplace_back(v);
            } else {
                key_values.emplace_back(parts[3]);
                key_values.emplace_back(parts[3]);
            }
            key_values.emplace_back(parts[4]);
        }
    }
    std::string sql = "SELECT " + std::string(kColumns) + " FROM runs" + where;
    if (!keyset.empty()) {
        sql += (where.empty() ? " WHERE (" : " AND (") + keyset + ")";
    }
    const std::string dir = desc ? " DESC" : " ASC";
    sql += " ORDER BY (" + spec.column + " IS NULL), " + spec.column + dir + ", run_key" + dir;
    if (q.limit > 0) {
        sql += " LIMIT " + std::to_string(q.limit + 1);  // one more tells whether a page follows
    }
    RUNICORN_ASSIGN_OR_RETURN(auto stmt, db_->prepare(sql));
    values.insert(values.end(), key_values.begin(), key_values.end());
    bind_all(stmt, values);
    const int sort_col = column_index(spec.column);
    bool more = false;
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) {
            break;
        }
        if (q.limit > 0 && page.runs.size() == q.limit) {
            more = true;  // the extra row: another page follows
            break;
        }
        page.runs.push_back(row_to_info(stmt));
        if (q.limit > 0 && page.runs.size() == q.limit) {
            page.next_cursor = make_cursor(canon, stmt, sort_col, spec.numeric);
        }
    }
    if (!more) {
        page.next_cursor.clear();
    }
    return page;
}

Result<std::vector<PathStats>> Catalog::path_stats() const {
    RUNICORN_ASSIGN_OR_RETURN(
        auto stmt,
        db_->prepare("SELECT path, total, running, finished, failed FROM paths ORDER BY path"));
    std::vector<PathStats> out;
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) {
            return out;
        }
        out.push_back({stmt.text(0), static_cast<std::uint64_t>(stmt.int64(1)),
                       static_cast<std::uint64_t>(stmt.int64(2)),
                       static_cast<std::uint64_t>(stmt.int64(3)),
                       static_cast<std::uint64_t>(stmt.int64(4))});
    }
}

Result<std::optional<RunInfo>> Catalog::find(std::string_view run_id, bool include_deleted) const {
    RUNICORN_ASSIGN_OR_RETURN(
        auto stmt, db_->prepare("SELECT " + std::string(kColumns) + " FROM runs WHERE run_id = ?" +
                                (include_deleted ? "" : " AND deleted = 0") +
                                " ORDER BY discovery_key LIMIT 1"));
    stmt.bind(1, run_id);
    RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
    if (!row) {
        return std::optional<RunInfo>();
    }
    return std::optional<RunInfo>(row_to_info(stmt));
}

Result<std::uint64_t> Catalog::size() const {
    RUNICORN_ASSIGN_OR_RETURN(auto stmt, db_->prepare("SELECT COUNT(*) FROM runs"));
    RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
    return row ? static_cast<std::uint64_t>(stmt.int64(0)) : 0;
}

}  // namespace runicorn::storage::catalog
