#include "catalog.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>
#include <tuple>
#include <variant>

#include <boost/json.hpp>
#include <openssl/evp.h>

#include <runicorn/filter/filter.hpp>

#include "catalog_json.hpp"
#include "filter_sql.hpp"

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
  run_key TEXT NOT NULL,
  run_id TEXT NOT NULL,
  path TEXT,
  rel_dir TEXT NOT NULL,
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
  meta_json TEXT NOT NULL,
  signature TEXT NOT NULL,
  config_json TEXT NOT NULL,
  last_step INTEGER
);
CREATE TABLE IF NOT EXISTS run_metric_keys (
  run_key TEXT NOT NULL,
  key TEXT NOT NULL,
  count INTEGER NOT NULL,
  numeric_count INTEGER NOT NULL,
  nonfinite_count INTEGER NOT NULL,
  first_step INTEGER,
  last_step INTEGER,
  last REAL,
  min REAL,
  max REAL,
  PRIMARY KEY (run_key, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS asset_uses (
  run_key TEXT NOT NULL,
  ord INTEGER NOT NULL,
  asset_type TEXT NOT NULL,
  group_key TEXT NOT NULL,
  fingerprint_kind TEXT,
  fingerprint TEXT,
  archive_path TEXT,
  name TEXT,
  source TEXT,
  archived INTEGER NOT NULL,
  size_bytes INTEGER,
  file_count INTEGER,
  PRIMARY KEY (run_key, ord)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_tags (
  run_key TEXT NOT NULL,
  tag TEXT NOT NULL,
  PRIMARY KEY (run_key, tag)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS totals (
  deleted INTEGER PRIMARY KEY, total INTEGER NOT NULL, running INTEGER NOT NULL,
  finished INTEGER NOT NULL, failed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS paths (
  path TEXT PRIMARY KEY, total INTEGER NOT NULL, running INTEGER NOT NULL,
  finished INTEGER NOT NULL, failed INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

/// run_key and rel_dir are unique through indexes rather than column constraints, so a rebuild
/// appends rows to a table without indexes and builds every index once at the end (8 ms instead
/// of 75 ms of inserts for 10k runs). The sort indexes end in run_key, the tie-break of every
/// page, so a page is read in index order without a sort step (FORMAT.md §7.4 minimum:
/// created_at, path+created_at, status+created_at, run_id, discovery_key).
constexpr std::string_view kIndexes = R"sql(
CREATE UNIQUE INDEX IF NOT EXISTS runs_key ON runs(run_key);
CREATE UNIQUE INDEX IF NOT EXISTS runs_rel_dir ON runs(rel_dir);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at, run_key);
CREATE INDEX IF NOT EXISTS runs_path_created ON runs(path, created_at, run_key);
CREATE INDEX IF NOT EXISTS runs_status_created ON runs(status, created_at, run_key);
CREATE INDEX IF NOT EXISTS runs_run_id ON runs(run_id, run_key);
CREATE INDEX IF NOT EXISTS runs_discovery ON runs(discovery_key, run_key);
CREATE INDEX IF NOT EXISTS runs_best_metric ON runs(best_metric_value, run_key);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_at, run_key);
CREATE INDEX IF NOT EXISTS runs_ended ON runs(ended_at, run_key);
CREATE INDEX IF NOT EXISTS runs_alias ON runs(alias, run_key);
CREATE INDEX IF NOT EXISTS run_tags_tag ON run_tags(tag);
CREATE INDEX IF NOT EXISTS runs_last_step ON runs(last_step, run_key);
CREATE INDEX IF NOT EXISTS asset_uses_group ON asset_uses(asset_type, group_key);
)sql";

constexpr std::string_view kDropIndexes = R"sql(
DROP INDEX IF EXISTS runs_key; DROP INDEX IF EXISTS runs_rel_dir;
DROP INDEX IF EXISTS runs_created; DROP INDEX IF EXISTS runs_path_created;
DROP INDEX IF EXISTS runs_status_created; DROP INDEX IF EXISTS runs_run_id;
DROP INDEX IF EXISTS runs_discovery; DROP INDEX IF EXISTS runs_best_metric;
DROP INDEX IF EXISTS runs_started; DROP INDEX IF EXISTS runs_ended; DROP INDEX IF EXISTS runs_alias;
DROP INDEX IF EXISTS run_tags_tag; DROP INDEX IF EXISTS runs_last_step;
DROP INDEX IF EXISTS asset_uses_group;
)sql";

constexpr std::string_view kColumns =
    "run_key, run_id, path, rel_dir, layout, discovery_key, alias, created_at, started_at, "
    "ended_at, status, exit_reason, liveness, hostname, pid, deleted, deleted_at, delete_reason, "
    "original_status, best_metric_name, best_metric_value, best_metric_step, best_metric_mode, "
    "assets_count, format_version, search_text, tags_json, summary_json, meta_json, signature, "
    "config_json, last_step";
/// The number of columns in kColumns: a query's sort value is selected after them.
constexpr int kColumnCount = 32;

/// The exit reasons that make a failed run "crashed" (FORMAT.md §4.2).
constexpr std::string_view kCrashReasons =
    "('process_not_found', 'heartbeat_lost', 'host_rebooted')";

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

/// Above this many runs a tag filter scans in sort order instead of collecting the tag's runs.
constexpr std::int64_t kCommonTag = 1000;

/// What a listing sorts on: a column, or an expression with parameters (summary.<key>).
struct SortSpec {
    SqlFragment expr;
    bool default_desc;
    bool nullable;
};

Result<SortSpec> sort_spec(const RunQuery& q) {
    const auto column = [](std::string sql, bool desc, bool nullable) {
        return SortSpec{SqlFragment{std::move(sql), {}}, desc, nullable};
    };
    switch (q.sort) {
        case RunSort::kDiscovery:
            return column("discovery_key", false, false);
        case RunSort::kCreated:
            return column("created_at", true, true);
        case RunSort::kPath:
            return column("path", false, true);
        case RunSort::kStatus:
            return column("status", false, false);
        case RunSort::kBestMetric:
            return column("best_metric_value", true, true);
        case RunSort::kId:
            return column("run_id", false, false);
        case RunSort::kStarted:
            return column("started_at", true, true);
        case RunSort::kEnded:
            return column("ended_at", true, true);
        case RunSort::kDuration:
            return column("(ended_at - started_at)", true, true);
        case RunSort::kAlias:
            return column("alias", false, true);
        case RunSort::kLastStep:
            return column("last_step", true, true);
        case RunSort::kMetric: {
            if (q.sort_field.empty()) {
                return Status::invalid_argument(
                    "sort by a metric needs a key (metric.<key>.last|min|max)");
            }
            std::string stat = "m.last";
            if (q.sort_metric == plugin::MetricStat::kMin) {
                stat = "m.min";
            } else if (q.sort_metric == plugin::MetricStat::kMax) {
                stat = "m.max";
            }
            // One primary-key look-up per run; a missing key or value sorts last.
            return SortSpec{SqlFragment{"(SELECT " + stat +
                                            " FROM run_metric_keys m WHERE m.run_key = "
                                            "runs.run_key AND m.key = ?)",
                                        {q.sort_field}},
                            true, true};
        }
        case RunSort::kSummary: {
            if (q.sort_field.empty()) {
                return Status::invalid_argument("sort by summary needs a key (summary.<key>)");
            }
            if (q.sort_field.find('"') != std::string::npos) {
                return Status::invalid_argument("a summary key holding '\"' cannot be sorted on");
            }
            // Numbers only (NaN too is missing): other JSON values count as missing, last.
            const std::string path = json_path({q.sort_field});
            return SortSpec{SqlFragment{"(CASE WHEN json_type(summary_json, ?) IN ('integer', "
                                        "'real') THEN json_extract(summary_json, ?) END)",
                                        {path, path}},
                            true, true};
        }
    }
    return column("discovery_key", false, false);
}

/// The WHERE clause (without keyset) and its values; also a canonical text of the filters, which
/// a cursor carries so it is refused for another query.
Result<std::string> build_filter(const RunQuery& q, const std::vector<bool>& common_tags,
                                 std::vector<SqlValue>& values, std::string& canon) {
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
            // "cv" or anything under "cv/": one range the path index can serve ('0' follows
            // '/'), then the names in it that merely start with "cv" ("cv-x") are dropped.
            clauses.emplace_back("path >= ? AND path < ? AND (path = ? OR path >= ?)");
            values.emplace_back(*q.path);
            values.emplace_back(*q.path + "0");
            values.emplace_back(*q.path);
            values.emplace_back(*q.path + "/");
        }
    }
    if (!q.statuses.empty()) {
        // "crashed" (API.md §4.1) is failed with a crash exit_reason, ORed with the others.
        std::string in;
        bool crashed = false;
        for (const auto& st : q.statuses) {
            canon += "|s" + st;
            if (st == "crashed") {
                crashed = true;
                continue;
            }
            in += in.empty() ? "status IN (?" : ", ?";
            values.emplace_back(st);
        }
        std::string clause = in.empty() ? std::string() : in + ")";
        if (crashed) {
            clause += std::string(clause.empty() ? "" : " OR ") +
                      "(status = 'failed' AND exit_reason IN " + std::string(kCrashReasons) + ")";
        }
        clauses.push_back("(" + clause + ")");
    }
    for (std::size_t i = 0; i < q.tags.size(); ++i) {
        // A rare tag: its runs first (the tag index), then sorted. A common one: the runs in
        // sort order, each checked against run_tags, stopping after a page.
        clauses.emplace_back(
            i < common_tags.size() && common_tags[i]
                ? "EXISTS (SELECT 1 FROM run_tags t WHERE t.run_key = runs.run_key AND t.tag = ?)"
                : "run_key IN (SELECT run_key FROM run_tags WHERE tag = ?)");
        values.emplace_back(q.tags[i]);
        canon += "|t" + q.tags[i];
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
    if (q.filter.find_first_not_of(" \t\r\n") != std::string::npos) {
        filter::ParseOptions options;
        options.metric_summaries = true;  // run_metric_keys (FORMAT.md §7.4)
        auto parsed = filter::parse(q.filter, options);
        if (!parsed) {
            return parsed.error().to_status();
        }
        const double now =
            q.now
                ? *q.now
                : std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                      .count();
        RUNICORN_ASSIGN_OR_RETURN(auto compiled, compile_filter(*parsed, now));
        clauses.push_back(std::move(compiled.sql));
        values.insert(values.end(), std::make_move_iterator(compiled.params.begin()),
                      std::make_move_iterator(compiled.params.end()));
        // A digest: the cursor is split on \x1f, which the expression text may hold.
        canon += "|F" + sha256_hex(q.filter).substr(0, 32);
    }
    std::string where;
    for (const auto& c : clauses) {
        where += where.empty() ? " WHERE " : " AND ";
        where += c;
    }
    return where;
}

/// Cursor = hex of "1\x1f<canon>\x1f<kind>\x1f<value>\x1f<run_key>", kind n (null), r, t.
std::string make_cursor(const std::string& canon, const Statement& last, int sort_col) {
    std::string kind = "n";
    std::string value;
    switch (last.column_type(sort_col)) {
        case ColumnType::kNull:
            break;
        case ColumnType::kInteger:
            kind = "i";
            value = std::to_string(last.int64(sort_col));
            break;
        case ColumnType::kReal: {
            char buf[40];
            std::snprintf(buf, sizeof(buf), "%.17g", last.real(sort_col));
            kind = "r";
            value = buf;
            break;
        }
        case ColumnType::kText:
        case ColumnType::kBlob:
            kind = "t";
            value = last.text(sort_col);
            break;
    }
    const std::string raw =
        "1\x1f" + canon + "\x1f" + kind + "\x1f" + value + "\x1f" + last.text(0);
    return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

/// A cursor taken apart: kind n (null), i, r or t; the sort value; the run key.
struct Cursor {
    std::string kind;
    std::string value;
    std::string key;
};

/// Reads a make_cursor() text; nullopt when it is not one or belongs to another query (`canon`).
/// The value may hold the separator (an alias can): it is what lies between kind and key.
std::optional<Cursor> read_cursor(std::string_view text, const std::string& canon) {
    const std::string raw = unhex(text);
    const std::string head = "1\x1f" + canon + "\x1f";
    if (!std::string_view(raw).starts_with(head) || raw.size() < head.size() + 2 ||
        raw[head.size() + 1] != '\x1f') {
        return std::nullopt;
    }
    Cursor c;
    c.kind = raw.substr(head.size(), 1);
    const std::size_t value_at = head.size() + 2;
    const std::size_t last_sep = raw.rfind('\x1f');
    if (last_sep < value_at || (c.kind != "n" && c.kind != "i" && c.kind != "r" && c.kind != "t")) {
        return std::nullopt;
    }
    c.value = raw.substr(value_at, last_sep - value_at);
    c.key = raw.substr(last_sep + 1);
    return c;
}

/// Per-path counters of a batch of changes, applied to the paths table in one pass.
class PathDeltas {
public:
    void add(const std::optional<std::string>& path, const std::string& status, bool deleted,
             int delta) {
        auto& t = totals_[deleted ? 1 : 0];
        t[0] += delta;
        t[1] += status == "running" ? delta : 0;
        t[2] += status == "finished" ? delta : 0;
        t[3] += status == "failed" ? delta : 0;
        if (!path || path->empty() || deleted) {
            return;  // root-path and deleted runs are not counted
        }
        for (const auto& p : with_ancestors(*path)) {
            auto& c = counts_[p];
            c[0] += delta;
            c[1] += status == "running" ? delta : 0;
            c[2] += status == "finished" ? delta : 0;
            c[3] += status == "failed" ? delta : 0;
        }
    }
    const std::map<std::string, std::array<std::int64_t, 4>>& counts() const { return counts_; }
    /// The same four counters over every run, [0] live and [1] soft-deleted.
    const std::array<std::array<std::int64_t, 4>, 2>& totals() const { return totals_; }

private:
    std::map<std::string, std::array<std::int64_t, 4>> counts_;
    std::array<std::array<std::int64_t, 4>, 2> totals_{};
};

/// The statuses the counters of `paths` and `totals` keep apart.
int counted_status(std::string_view status) {
    if (status == "running") {
        return 1;
    }
    if (status == "finished") {
        return 2;
    }
    if (status == "failed") {
        return 3;
    }
    return -1;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    // Fetched once: OpenSSL 3 looks the algorithm up on every EVP_Digest(EVP_sha256(), ...).
    static const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md(
        EVP_MD_fetch(nullptr, "SHA256", nullptr), &EVP_MD_free);
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), out, &len, md ? md.get() : EVP_sha256(), nullptr);
    return hex(out, len);
}

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
            "DROP TABLE IF EXISTS meta; DROP TABLE IF EXISTS totals; "
            "DROP TABLE IF EXISTS run_metric_keys; DROP TABLE IF EXISTS asset_uses;"));
    }
    // A rebuild touches every page of a catalog of tens of MB: a page cache that holds it (only
    // what is used gets allocated) saves re-reading pages through pread().
    RUNICORN_RETURN_IF_ERROR(db->exec("PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY;"));
    RUNICORN_RETURN_IF_ERROR(db->exec(kSchema));
    RUNICORN_RETURN_IF_ERROR(db->exec(kIndexes));
    RUNICORN_RETURN_IF_ERROR(db->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion)));
    return std::unique_ptr<Catalog>(new Catalog(std::move(db), std::move(root)));
}

/// The prepared statements of one write transaction, so a batch prepares each only once.
/// Thread safety: externally synchronized.
struct Catalog::Writer {
    static Result<Writer> prepare(Database& db) {
        RUNICORN_ASSIGN_OR_RETURN(
            auto insert,
            db.prepare(
                "INSERT INTO runs(" + std::string(kColumns) +
                ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
        RUNICORN_ASSIGN_OR_RETURN(
            auto tag, db.prepare("INSERT OR IGNORE INTO run_tags(run_key, tag) VALUES(?, ?)"));
        RUNICORN_ASSIGN_OR_RETURN(
            auto old, db.prepare("SELECT path, status, deleted FROM runs WHERE run_key = ?"));
        RUNICORN_ASSIGN_OR_RETURN(auto del, db.prepare("DELETE FROM runs WHERE run_key = ?"));
        RUNICORN_ASSIGN_OR_RETURN(auto del_tags,
                                  db.prepare("DELETE FROM run_tags WHERE run_key = ?"));
        RUNICORN_ASSIGN_OR_RETURN(
            auto metric,
            db.prepare("INSERT OR REPLACE INTO run_metric_keys(run_key, key, count, numeric_count, "
                       "nonfinite_count, first_step, last_step, last, min, max) "
                       "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        RUNICORN_ASSIGN_OR_RETURN(auto del_metrics,
                                  db.prepare("DELETE FROM run_metric_keys WHERE run_key = ?"));
        RUNICORN_ASSIGN_OR_RETURN(
            auto asset,
            db.prepare("INSERT INTO asset_uses(run_key, ord, asset_type, group_key, "
                       "fingerprint_kind, fingerprint, archive_path, name, source, archived, "
                       "size_bytes, file_count) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
        RUNICORN_ASSIGN_OR_RETURN(auto del_assets,
                                  db.prepare("DELETE FROM asset_uses WHERE run_key = ?"));
        return Writer{std::move(insert),      std::move(tag),
                      std::move(old),         std::move(del),
                      std::move(del_tags),    std::move(metric),
                      std::move(del_metrics), std::move(asset),
                      std::move(del_assets),  {}};
    }

    /// Inserts a run that is known not to be stored.
    Status insert(const CatalogEntry& e) {
        const RunInfo& r = e.info;
        const std::string key = run_key(e.rel_dir);
        json::array tags(r.tags.begin(), r.tags.end());
        std::string search = lower(r.location.run_id) + "\n" + lower(r.alias.value_or("")) + "\n" +
                             lower(r.location.path.value_or(""));
        for (const auto& t : r.tags) {
            search += "\n" + lower(t);
        }
        Statement& stmt = insert_;
        stmt.reset();
        stmt.bind(1, std::string_view(key));
        stmt.bind(2, std::string_view(r.location.run_id));
        stmt.bind(3, r.location.path);
        stmt.bind_static(4, e.rel_dir);
        stmt.bind(5, std::string_view(r.location.legacy ? "legacy" : "new"));
        stmt.bind_static(6, e.discovery_key);
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
        // These stay alive until run() below: bound without a copy.
        const std::string tags_json = json::serialize(tags);
        // SQLite's JSON functions read these for filters: no bare NaN/Infinity in them.
        const std::string summary_json = to_catalog_json(r.summary);
        const std::string meta_json = to_catalog_json(r.meta);
        const std::string config_json = to_catalog_json(e.config);
        stmt.bind_static(26, search);
        stmt.bind_static(27, tags_json);
        stmt.bind_static(28, summary_json);
        stmt.bind_static(29, meta_json);
        stmt.bind_static(30, e.signature);
        stmt.bind_static(31, config_json);
        std::optional<std::int64_t> last_step;
        for (const auto& m : e.metric_keys) {
            if (m.last_step && (!last_step || *m.last_step > *last_step)) {
                last_step = m.last_step;
            }
        }
        stmt.bind(32, last_step);
        RUNICORN_RETURN_IF_ERROR(stmt.run());
        for (const auto& m : e.metric_keys) {
            metric_.reset();
            metric_.bind(1, std::string_view(key));
            metric_.bind(2, std::string_view(m.key));
            metric_.bind(3, m.count);
            metric_.bind(4, m.numeric_count);
            metric_.bind(5, m.nonfinite_count);
            metric_.bind(6, m.first_step);
            metric_.bind(7, m.last_step);
            // SQLite keeps no NaN (it would read back as NULL anyway): NaN is "no value".
            metric_.bind(8, m.last && !std::isnan(*m.last) ? m.last : std::nullopt);
            metric_.bind(9, m.min);
            metric_.bind(10, m.max);
            RUNICORN_RETURN_IF_ERROR(metric_.run());
        }
        for (std::size_t i = 0; i < e.assets.size(); ++i) {
            const AssetUse& a = e.assets[i];
            // The group of API.md §4.12: fingerprint, else archive path, else source.
            const std::string group = a.fingerprint    ? "f:" + *a.fingerprint
                                      : a.archive_path ? "a:" + *a.archive_path
                                      : a.source       ? "s:" + *a.source
                                                       : std::string("n:");
            asset_.reset();
            asset_.bind(1, std::string_view(key));
            asset_.bind(2, static_cast<std::int64_t>(i));
            asset_.bind(3, std::string_view(a.asset_type));
            asset_.bind(4, std::string_view(group));
            asset_.bind(5, a.fingerprint_kind);
            asset_.bind(6, a.fingerprint);
            asset_.bind(7, a.archive_path);
            asset_.bind(8, a.name);
            asset_.bind(9, a.source);
            asset_.bind(10, std::int64_t{a.archived ? 1 : 0});
            asset_.bind(11, a.size_bytes);
            asset_.bind(12, a.file_count);
            RUNICORN_RETURN_IF_ERROR(asset_.run());
        }
        for (const auto& t : r.tags) {
            tag_.reset();
            tag_.bind(1, std::string_view(key));
            tag_.bind(2, std::string_view(t));
            RUNICORN_RETURN_IF_ERROR(tag_.run());
        }
        deltas_.add(r.location.path, r.status, r.location.deleted, +1);
        return Status::ok();
    }

    /// Deletes a run by key, and its tags; a missing run is not an error. (No foreign key: with
    /// one, SQLite deletes a whole table row by row, which made a rebuild 100 ms slower.)
    Status remove(std::string_view key) {
        old_.reset();
        old_.bind(1, key);
        RUNICORN_ASSIGN_OR_RETURN(bool found, old_.step());
        if (!found) {
            return Status::ok();
        }
        deltas_.add(old_.opt_text(0), old_.text(1), old_.int64(2) != 0, -1);
        old_.reset();
        del_tags_.reset();
        del_tags_.bind(1, key);
        RUNICORN_RETURN_IF_ERROR(del_tags_.run());
        del_metrics_.reset();
        del_metrics_.bind(1, key);
        RUNICORN_RETURN_IF_ERROR(del_metrics_.run());
        del_assets_.reset();
        del_assets_.bind(1, key);
        RUNICORN_RETURN_IF_ERROR(del_assets_.run());
        del_.reset();
        del_.bind(1, key);
        return del_.run();
    }

    /// Adds the batch's path counts to the paths table and drops paths left without runs.
    Status flush_paths(Database& db) const {
        RUNICORN_ASSIGN_OR_RETURN(
            auto totals,
            db.prepare("INSERT INTO totals(deleted, total, running, finished, failed) "
                       "VALUES(?, ?, ?, ?, ?) ON CONFLICT(deleted) DO UPDATE SET "
                       "total = total + excluded.total, running = running + excluded.running, "
                       "finished = finished + excluded.finished, "
                       "failed = failed + excluded.failed"));
        for (std::int64_t d = 0; d < 2; ++d) {
            const auto& c = deltas_.totals()[static_cast<std::size_t>(d)];
            totals.reset();
            totals.bind(1, d);
            for (int i = 0; i < 4; ++i) {
                totals.bind(i + 2, c[static_cast<std::size_t>(i)]);
            }
            RUNICORN_RETURN_IF_ERROR(totals.run());
        }
        if (deltas_.counts().empty()) {
            return Status::ok();
        }
        RUNICORN_ASSIGN_OR_RETURN(
            auto stmt,
            db.prepare("INSERT INTO paths(path, total, running, finished, failed) "
                       "VALUES(?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
                       "total = total + excluded.total, running = running + excluded.running, "
                       "finished = finished + excluded.finished, "
                       "failed = failed + excluded.failed"));
        bool shrank = false;
        for (const auto& [path, c] : deltas_.counts()) {
            if (c == std::array<std::int64_t, 4>{}) {
                continue;
            }
            shrank = shrank || c[0] < 0;
            stmt.reset();
            stmt.bind(1, std::string_view(path));
            for (int i = 0; i < 4; ++i) {
                stmt.bind(i + 2, c[static_cast<std::size_t>(i)]);
            }
            RUNICORN_RETURN_IF_ERROR(stmt.run());
        }
        if (shrank) {
            RUNICORN_RETURN_IF_ERROR(db.exec("DELETE FROM paths WHERE total <= 0"));
        }
        return Status::ok();
    }

    Statement insert_;
    Statement tag_;
    Statement old_;
    Statement del_;
    Statement del_tags_;
    Statement metric_;
    Statement del_metrics_;
    Statement asset_;
    Statement del_assets_;
    PathDeltas deltas_;
};

Status Catalog::replace_all(const std::vector<CatalogEntry>& entries) {
    Transaction tx(*db_);
    RUNICORN_RETURN_IF_ERROR(tx.status());
    // Rebuilding the indexes after the rows is cheaper than keeping them up to date row by row.
    RUNICORN_RETURN_IF_ERROR(
        db_->exec("DELETE FROM run_tags; DELETE FROM runs; DELETE FROM paths; DELETE FROM totals; "
                  "DELETE FROM run_metric_keys; DELETE FROM asset_uses;" +
                  std::string(kDropIndexes)));
    {
        RUNICORN_ASSIGN_OR_RETURN(auto w, Writer::prepare(*db_));
        for (const auto& e : entries) {
            RUNICORN_RETURN_IF_ERROR(w.insert(e));
        }
        RUNICORN_RETURN_IF_ERROR(w.flush_paths(*db_));
    }  // statements finalised before the schema changes again
    RUNICORN_RETURN_IF_ERROR(db_->exec(kIndexes));
    RUNICORN_RETURN_IF_ERROR(set_meta_value("built_at", std::to_string(std::time(nullptr))));
    return tx.commit();
}

Status Catalog::apply(const std::vector<CatalogEntry>& upserts,
                      const std::vector<std::string>& removed) {
    if (upserts.empty() && removed.empty()) {
        return Status::ok();
    }
    Transaction tx(*db_);
    RUNICORN_RETURN_IF_ERROR(tx.status());
    {
        RUNICORN_ASSIGN_OR_RETURN(auto w, Writer::prepare(*db_));
        for (const auto& rel : removed) {
            RUNICORN_RETURN_IF_ERROR(w.remove(run_key(rel)));
        }
        for (const auto& e : upserts) {
            RUNICORN_RETURN_IF_ERROR(w.remove(run_key(e.rel_dir)));
            RUNICORN_RETURN_IF_ERROR(w.insert(e));
        }
        RUNICORN_RETURN_IF_ERROR(w.flush_paths(*db_));
    }
    return tx.commit();
}

Status Catalog::upsert(const CatalogEntry& entry) { return apply({entry}, {}); }

Status Catalog::remove(std::string_view rel_dir) { return apply({}, {std::string(rel_dir)}); }

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

Result<std::vector<StoredRun>> Catalog::stored_runs(std::string_view scope) const {
    std::string sql = "SELECT rel_dir, signature, status FROM runs";
    if (!scope.empty()) {
        // scope itself, or a range the rel_dir index serves ('0' follows '/').
        sql += " WHERE rel_dir = ?1 OR (rel_dir >= ?2 AND rel_dir < ?3)";
    }
    RUNICORN_ASSIGN_OR_RETURN(auto stmt, db_->prepare(sql + " ORDER BY rel_dir"));
    if (!scope.empty()) {
        stmt.bind(1, scope);
        stmt.bind(2, std::string_view(std::string(scope) + "/"));
        stmt.bind(3, std::string_view(std::string(scope) + "0"));
    }
    std::vector<StoredRun> out;
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) {
            return out;
        }
        out.push_back({stmt.text(0), stmt.text(1), stmt.text(2)});
    }
}

Result<std::vector<RunInfo>> Catalog::find_all(std::string_view run_id) const {
    RUNICORN_ASSIGN_OR_RETURN(
        auto stmt, db_->prepare("SELECT " + std::string(kColumns) +
                                " FROM runs WHERE run_id = ? ORDER BY discovery_key, run_key"));
    stmt.bind(1, run_id);
    return collect(stmt, 0);
}

Result<std::string> Catalog::integrity_check() const {
    RUNICORN_ASSIGN_OR_RETURN(auto stmt, db_->prepare("PRAGMA integrity_check"));
    std::string out;
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) {
            return out;
        }
        out += (out.empty() ? "" : "\n") + stmt.text(0);
    }
}

Result<std::optional<std::string>> Catalog::meta_value(std::string_view key) const {
    RUNICORN_ASSIGN_OR_RETURN(auto stmt, db_->prepare("SELECT value FROM meta WHERE key = ?"));
    stmt.bind(1, key);
    RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
    return row ? stmt.opt_text(0) : std::nullopt;
}

Status Catalog::set_meta_value(std::string_view key, std::string_view value) {
    RUNICORN_ASSIGN_OR_RETURN(
        auto stmt, db_->prepare("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO "
                                "UPDATE SET value = excluded.value"));
    stmt.bind(1, key);
    stmt.bind(2, value);
    return stmt.run();
}

Result<std::vector<RunInfo>> Catalog::collect(Statement& stmt, std::size_t limit) const {
    std::vector<RunInfo> out;
    for (;;) {
        if (limit > 0 && out.size() == limit) {
            return out;
        }
        RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) {
            return out;
        }
        out.push_back(row_to_info(stmt));
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
    r.last_step = s.opt_int64(31);
    boost::system::error_code ec;
    auto tags = json::parse(s.text(26), ec);
    if (!ec && tags.is_array()) {
        for (const auto& t : tags.get_array()) {
            if (t.is_string()) {
                r.tags.emplace_back(t.get_string());
            }
        }
    }
    if (auto summary = from_catalog_json(s.text(27)); summary && summary->is_object()) {
        r.summary = std::move(summary->get_object());
    }
    if (auto meta = from_catalog_json(s.text(28)); meta && meta->is_object()) {
        r.meta = std::move(meta->get_object());
    }
    return r;
}

Result<RunPage> Catalog::query(const RunQuery& q) const {
    RUNICORN_ASSIGN_OR_RETURN(const SortSpec spec, sort_spec(q));
    const bool desc = q.descending.value_or(spec.default_desc);
    std::vector<bool> common_tags;
    if (q.limit > 0) {
        RUNICORN_ASSIGN_OR_RETURN(auto tag_count,
                                  db_->prepare("SELECT COUNT(*) FROM run_tags WHERE tag = ?"));
        for (const auto& tag : q.tags) {
            tag_count.reset();
            tag_count.bind(1, std::string_view(tag));
            RUNICORN_ASSIGN_OR_RETURN(bool row, tag_count.step());
            common_tags.push_back(row && tag_count.int64(0) > kCommonTag);
        }
    }
    std::vector<SqlValue> values;
    std::string canon = std::to_string(static_cast<int>(q.sort)) + (desc ? "d" : "a");
    if (q.sort == RunSort::kSummary || q.sort == RunSort::kMetric) {
        canon += "|k" + sha256_hex(q.sort_field).substr(0, 32);
    }
    if (q.sort == RunSort::kMetric) {
        canon += "|m" + std::to_string(static_cast<int>(q.sort_metric));
    }
    RUNICORN_ASSIGN_OR_RETURN(const std::string where, build_filter(q, common_tags, values, canon));

    RunPage page;
    if (q.count) {
        RUNICORN_ASSIGN_OR_RETURN(auto kept, kept_count(q));
        if (kept) {
            page.total = *kept;
        } else {
            RUNICORN_ASSIGN_OR_RETURN(auto count,
                                      db_->prepare("SELECT COUNT(*) FROM runs" + where));
            count.bind_all(values);
            RUNICORN_ASSIGN_OR_RETURN(bool row, count.step());
            page.total = row ? static_cast<std::uint64_t>(count.int64(0)) : 0;
        }
    }

    // A page is read in two parts, each in index order: the rows whose sort value is set, then
    // (nulls last, in either direction) the rows without one, by run key. A cursor names the
    // part it stopped in and its last (value, run key).
    const std::string cmp = desc ? "<" : ">";
    const std::string dir = desc ? " DESC" : " ASC";
    std::optional<Cursor> cursor;
    if (!q.cursor.empty()) {
        cursor = read_cursor(q.cursor, canon);
        if (!cursor) {
            return Status::invalid_argument(
                "the cursor does not belong to this query (same sort, order and filters needed)");
        }
    }
    const std::size_t want = q.limit > 0 ? q.limit + 1 : 0;  // one more tells whether a page
                                                             // follows
    bool more = false;
    std::string last_cursor;
    // The sort value is selected after the row's columns, for the cursor.
    const auto run_part = [&](bool values_part) -> Status {
        SqlFragment sql{"SELECT " + std::string(kColumns) + ", ", {}};
        const auto add_expr = [&sql, &spec] {
            sql.sql += spec.expr.sql;
            sql.params.insert(sql.params.end(), spec.expr.params.begin(), spec.expr.params.end());
        };
        add_expr();
        sql.sql += " FROM runs" + where;
        sql.params.insert(sql.params.end(), values.begin(), values.end());
        const auto and_clause = [&sql] {
            sql.sql += sql.sql.ends_with(" FROM runs") ? " WHERE " : " AND ";
        };
        if (spec.nullable) {
            and_clause();
            add_expr();
            sql.sql += values_part ? " IS NOT NULL" : " IS NULL";
        }
        if (cursor && values_part) {
            and_clause();
            sql.sql += "(";
            add_expr();
            sql.sql += ", run_key) " + cmp + " (?, ?)";
            if (cursor->kind == "i") {
                sql.params.emplace_back(
                    static_cast<std::int64_t>(std::strtoll(cursor->value.c_str(), nullptr, 10)));
            } else if (cursor->kind == "r") {
                sql.params.emplace_back(std::strtod(cursor->value.c_str(), nullptr));
            } else {
                sql.params.emplace_back(cursor->value);
            }
            sql.params.emplace_back(cursor->key);
        } else if (cursor && cursor->kind == "n") {
            and_clause();
            sql.sql += "run_key " + cmp + " ?";
            sql.params.emplace_back(cursor->key);
        }
        sql.sql += " ORDER BY ";
        if (values_part) {
            add_expr();
            sql.sql += dir + ", ";
        }
        sql.sql += "run_key" + dir;
        if (want > 0) {
            sql.sql += " LIMIT " + std::to_string(want - page.runs.size());
        }
        RUNICORN_ASSIGN_OR_RETURN(auto stmt, db_->prepare(sql.sql));
        stmt.bind_all(sql.params);
        for (;;) {
            RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
            if (!row) {
                return Status::ok();
            }
            if (q.limit > 0 && page.runs.size() == q.limit) {
                more = true;  // the extra row: another page follows
                return Status::ok();
            }
            page.runs.push_back(row_to_info(stmt));
            if (q.limit > 0 && page.runs.size() == q.limit) {
                last_cursor = make_cursor(canon, stmt, kColumnCount);
            }
        }
    };
    if (!cursor || cursor->kind != "n") {
        RUNICORN_RETURN_IF_ERROR(run_part(true));
    }
    if (spec.nullable && !more && (want == 0 || page.runs.size() < want)) {
        RUNICORN_RETURN_IF_ERROR(run_part(false));
    }
    if (more) {
        page.next_cursor = std::move(last_cursor);
    }
    return page;
}

Result<std::optional<std::uint64_t>> Catalog::kept_count(const RunQuery& q) const {
    // The counters answer a filter of deletion state, statuses among running/finished/failed
    // and (for live runs) a path prefix; anything else needs COUNT(*).
    const bool by_path = q.path && !q.path->empty();
    if (!q.tags.empty() || !q.text.empty() || q.created_from || q.created_to ||
        q.filter.find_first_not_of(" \t\r\n") != std::string::npos ||
        q.deleted == DeletedFilter::kAny || (q.path && (q.path->empty() || q.exact_path)) ||
        (by_path && q.deleted != DeletedFilter::kExclude)) {
        return std::optional<std::uint64_t>();
    }
    std::set<int> columns;
    for (const auto& st : q.statuses) {
        const int c = counted_status(st);
        if (c < 0) {
            return std::optional<std::uint64_t>();
        }
        columns.insert(c);
    }
    if (columns.empty()) {
        columns.insert(0);
    }
    RUNICORN_ASSIGN_OR_RETURN(
        auto stmt,
        by_path ? db_->prepare("SELECT total, running, finished, failed FROM paths WHERE path = ?")
                : db_->prepare(
                      "SELECT total, running, finished, failed FROM totals WHERE deleted = ?"));
    if (by_path) {
        stmt.bind(1, std::string_view(*q.path));
    } else {
        stmt.bind(1, std::int64_t{q.deleted == DeletedFilter::kOnly ? 1 : 0});
    }
    RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
    std::uint64_t n = 0;
    for (const int c : columns) {
        n += row ? static_cast<std::uint64_t>(std::max<std::int64_t>(0, stmt.int64(c))) : 0;
    }
    return std::optional<std::uint64_t>(n);
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
                                " ORDER BY discovery_key, run_key LIMIT 1"));
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

Result<std::vector<MetricKeyStats>> Catalog::metric_keys(std::string_view rel_dir) const {
    RUNICORN_ASSIGN_OR_RETURN(
        auto stmt, db_->prepare("SELECT key, count, numeric_count, nonfinite_count, first_step, "
                                "last_step, last, min, max FROM run_metric_keys WHERE run_key = ? "
                                "ORDER BY key"));
    const std::string key = run_key(rel_dir);
    stmt.bind(1, std::string_view(key));
    std::vector<MetricKeyStats> out;
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) {
            return out;
        }
        MetricKeyStats m;
        m.key = stmt.text(0);
        m.count = stmt.int64(1);
        m.numeric_count = stmt.int64(2);
        m.nonfinite_count = stmt.int64(3);
        m.first_step = stmt.opt_int64(4);
        m.last_step = stmt.opt_int64(5);
        m.last = stmt.opt_real(6);
        m.min = stmt.opt_real(7);
        m.max = stmt.opt_real(8);
        out.push_back(std::move(m));
    }
}

Result<plugin::AssetPage> Catalog::assets(const plugin::AssetQuery& q) const {
    // The uses of non-deleted runs that pass the filters; per group (type, group key) the number
    // of distinct runs, and the newest use (created_at, then run key, then position in the file)
    // that names the item.
    std::string where = " WHERE r.deleted = 0";
    std::vector<SqlValue> values;
    std::string canon = "a";
    if (q.path) {
        canon += "|p" + std::string(q.exact_path ? "=" : "^") + *q.path;
        if (q.path->empty()) {
            where += " AND r.path IS NULL";
        } else if (q.exact_path) {
            where += " AND r.path = ?";
            values.emplace_back(*q.path);
        } else {
            where += " AND (r.path = ? OR (r.path >= ? AND r.path < ?))";
            values.emplace_back(*q.path);
            values.emplace_back(*q.path + "/");
            values.emplace_back(*q.path + "0");
        }
    }
    if (!q.types.empty()) {
        where += " AND a.asset_type IN (";
        for (std::size_t i = 0; i < q.types.size(); ++i) {
            where += i == 0 ? "?" : ", ?";
            values.emplace_back(q.types[i]);
            canon += "|t" + q.types[i];
        }
        where += ")";
    }
    if (q.archived) {
        where += " AND a.archived = ?";
        values.emplace_back(std::int64_t{*q.archived ? 1 : 0});
        canon += *q.archived ? "|a1" : "|a0";
    }
    if (!q.text.empty()) {
        where +=
            " AND (instr(lower(coalesce(a.name, '')), ?) > 0 OR instr(lower(coalesce(a.source, "
            "'')), ?) > 0 OR instr(lower(coalesce(a.fingerprint, '')), ?) > 0)";
        for (int i = 0; i < 3; ++i) {
            values.emplace_back(lower(q.text));
        }
        canon += "|q" + sha256_hex(lower(q.text)).substr(0, 32);
    }
    const std::string sql =
        "WITH u AS (SELECT a.asset_type, a.group_key, a.ord, a.fingerprint_kind, a.fingerprint, "
        "a.archive_path, a.name, a.source, a.archived, a.size_bytes, a.file_count, r.run_key, "
        "r.run_id, r.created_at FROM asset_uses a JOIN runs r ON r.run_key = a.run_key" +
        where +
        "), g AS (SELECT asset_type, group_key, COUNT(DISTINCT run_key) AS run_count FROM u "
        "GROUP BY asset_type, group_key), l AS (SELECT u.*, ROW_NUMBER() OVER (PARTITION BY "
        "asset_type, group_key ORDER BY created_at IS NULL, created_at DESC, run_key DESC, ord "
        "DESC) AS rn FROM u) SELECT l.asset_type, l.group_key, l.fingerprint_kind, "
        "l.fingerprint, l.archive_path, l.name, l.source, l.archived, l.size_bytes, "
        "l.file_count, g.run_count, l.created_at, l.run_id FROM l JOIN g ON g.asset_type = "
        "l.asset_type AND g.group_key = l.group_key WHERE l.rn = 1 ORDER BY l.created_at IS "
        "NULL, l.created_at DESC, l.asset_type, l.group_key";
    RUNICORN_ASSIGN_OR_RETURN(auto stmt, db_->prepare(sql));
    stmt.bind_all(values);

    // Cursor: hex of "a1\x1f<canon>\x1f<created or empty>\x1f<type>\x1f<group key>" of the last
    // item sent; the next page starts after that item in the order above.
    struct Position {
        std::optional<double> created;
        std::string type;
        std::string group;
    };
    const auto position_text = [&canon](const Position& p) {
        char buf[40] = "";
        if (p.created) {
            std::snprintf(buf, sizeof(buf), "%.17g", *p.created);
        }
        const std::string raw =
            "a1\x1f" + canon + "\x1f" + buf + "\x1f" + p.type + "\x1f" + p.group;
        return hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
    };
    std::optional<Position> after;
    if (!q.cursor.empty()) {
        const std::string raw = unhex(q.cursor);
        const std::string head = "a1\x1f" + canon + "\x1f";
        const auto s1 = raw.find('\x1f', head.size());
        const auto s2 = s1 == std::string::npos ? s1 : raw.find('\x1f', s1 + 1);
        if (!raw.starts_with(head) || s2 == std::string::npos) {
            return Status::invalid_argument(
                "the cursor does not belong to this query (same filters needed)");
        }
        Position p;
        const std::string created = raw.substr(head.size(), s1 - head.size());
        if (!created.empty()) {
            p.created = std::strtod(created.c_str(), nullptr);
        }
        p.type = raw.substr(s1 + 1, s2 - s1 - 1);
        p.group = raw.substr(s2 + 1);
        after = std::move(p);
    }
    // true when `p` comes after the cursor's item in the listing order.
    const auto is_after = [&after](const Position& p) {
        if (!after) {
            return true;
        }
        if (p.created.has_value() != after->created.has_value()) {
            return !p.created.has_value();  // nulls last
        }
        if (p.created && *p.created != *after->created) {
            return *p.created < *after->created;
        }
        return std::tie(p.type, p.group) > std::tie(after->type, after->group);
    };
    const std::size_t limit = q.limit == 0 ? 200 : q.limit;
    plugin::AssetPage page;
    Position last;
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(bool row, stmt.step());
        if (!row) {
            break;
        }
        ++page.total;
        Position p{stmt.opt_real(11), stmt.text(0), stmt.text(1)};
        if (!is_after(p)) {
            continue;
        }
        if (page.assets.size() == limit) {
            page.next_cursor = position_text(last);
            continue;  // keep counting
        }
        plugin::AssetGroup g;
        g.asset_type = stmt.text(0);
        g.fingerprint_kind = stmt.opt_text(2);
        g.fingerprint = stmt.opt_text(3);
        g.archive_path = stmt.opt_text(4);
        g.name = stmt.opt_text(5);
        g.source = stmt.opt_text(6);
        g.archived = stmt.int64(7) != 0;
        g.size_bytes = stmt.opt_int64(8);
        g.file_count = stmt.opt_int64(9);
        g.run_count = static_cast<std::uint64_t>(stmt.int64(10));
        g.last_used_at = p.created;
        g.last_run_id = stmt.text(12);
        page.assets.push_back(std::move(g));
        last = std::move(p);
    }
    return page;
}

}  // namespace runicorn::storage::catalog
