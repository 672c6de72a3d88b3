// B2 and B3 of BENCHMARKS.md, store level.
//
// B2: generates N runs (default 10k) in the v0.6 layout (BENCHMARKS rule 5: meta, status,
// summary, events of ~406 B lines; seeded), then measures in the same process, interleaved:
//   floor   - walk runs/**, parse meta/status/summary with simdjson, insert bare rows into a
//             fresh SQLite table in one transaction (the `floor_scan` probe);
//   reindex - FolderRunStore::reindex(): discovery, the tolerant reader, the full catalog rows,
//             tags, path counts and indexes;
//   refresh - FolderRunStore::refresh() with nothing changed (stat only).
// B3: fills a catalog with M synthetic runs (default 100k, 20 projects) and times
// Catalog::query() - what RunStore::list_runs() runs once the catalog is built - for the newest 50
// and a filtered page, each against the bare SQL on the same database.
//
// Prints one JSON object (BENCHMARKS.md envelope); --out FILE writes it there too.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <sqlite3.h>

#include "bench_env.hpp"
#include "catalog.hpp"
#include "folder_run_store.hpp"
#include <dirent.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <unistd.h>

namespace {

using runicorn::bench::git_commit;
using runicorn::bench::host_info;
namespace fs = std::filesystem;
namespace json = boost::json;
using runicorn::plugin::RunQuery;
using runicorn::plugin::RunSort;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

struct Stats {
    double p50 = 0;
    double p99 = 0;
    double min = 0;
    double max = 0;
};

Stats stats_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto at = [&v](double q) {
        const auto last = static_cast<double>(v.size() - 1);
        return v[std::min(v.size() - 1, static_cast<std::size_t>(std::lround(q * last)))];
    };
    return {at(0.5), at(0.99), v.front(), v.back()};
}

json::object stat_json(const Stats& s, const char* unit) {
    return {{"p50", round3(s.p50)},
            {"p99", round3(s.p99)},
            {"min", round3(s.min)},
            {"max", round3(s.max)},
            {"unit", unit}};
}

double peak_rss_mb() {
    struct rusage ru {};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

void write_file(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary | std::ios::trunc)
        .write(text.data(), static_cast<std::streamsize>(text.size()));
}

// --- B2 data ------------------------------------------------------------------------------

/// N runs under `root` in the v0.6 layout: 20 projects x 5 experiments, ids by creation time.
std::uint64_t generate(const fs::path& root, std::size_t runs, std::size_t steps,
                       std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::uint64_t bytes = 0;
    const double t0 = 1736935200.0;  // 2025-01-15T10:00:00Z
    for (std::size_t i = 0; i < runs; ++i) {
        const double created = t0 + static_cast<double>(i) * 37.0;
        const auto secs = static_cast<std::time_t>(created);
        std::tm tm{};
        ::gmtime_r(&secs, &tm);
        char id[64];
        std::snprintf(id, sizeof(id), "%04d%02d%02d_%02d%02d%02d_%06llx", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      static_cast<unsigned long long>(rng() & 0xFFFFFFU));
        char path[32];
        std::snprintf(path, sizeof(path), "proj%02zu/exp%zu", (i * 7) % 20, (i / 3) % 5);
        const fs::path dir = root / "runs" / path / id;
        fs::create_directories(dir);
        const double r = unit(rng);
        const char* status = r < 0.8    ? "finished"
                             : r < 0.9  ? "failed"
                             : r < 0.95 ? "interrupted"
                                        : "running";
        char meta[1024];
        std::snprintf(meta, sizeof(meta),
                      "{\n  \"id\": \"%s\",\n  \"path\": \"%s\",\n  \"alias\": null,\n"
                      "  \"created_at\": %.3f,\n  \"python\": \"3.11.2\",\n"
                      "  \"platform\": \"Linux 6.1.0 (x86_64)\",\n  \"hostname\": \"bench-host\",\n"
                      "  \"pid\": %zu,\n  \"storage_dir\": \"/data/runicorn\",\n"
                      "  \"workspace_root\": \"/home/user/project\",\n  \"tags\": [\"t%zu\"]\n}",
                      id, path, created, 1000 + i, i % 13);
        char status_json[256];
        std::snprintf(status_json, sizeof(status_json),
                      "{\n  \"status\": \"%s\",\n  \"started_at\": %.3f%s\n}", status,
                      created + 0.01,
                      std::strcmp(status, "running") == 0 ? "" : ",\n  \"ended_at\": 1736999999.5");
        char summary[256];
        std::snprintf(summary, sizeof(summary),
                      "{\n  \"final_loss\": %.6f,\n  \"best_metric_value\": %.6f,\n"
                      "  \"best_metric_name\": \"acc\",\n  \"best_metric_step\": %zu,\n"
                      "  \"best_metric_mode\": \"max\"\n}",
                      unit(rng), unit(rng), steps);
        write_file(dir / "meta.json", meta);
        write_file(dir / "status.json", status_json);
        write_file(dir / "summary.json", summary);
        bytes += std::strlen(meta) + std::strlen(status_json) + std::strlen(summary);
        std::string events;
        events.reserve(steps * 420);
        for (std::size_t s = 1; s <= steps; ++s) {
            char line[512];
            const double ts = created + static_cast<double>(s) * 0.5;
            int n = std::snprintf(line, sizeof(line),
                                  "{\"ts\":%.6f,\"type\":\"metrics\",\"data\":{", ts);
            for (int k = 0; k < 10; ++k) {
                n += std::snprintf(line + n, sizeof(line) - static_cast<std::size_t>(n),
                                   "\"metric_%02d\":%.17g,", k, unit(rng));
            }
            n += std::snprintf(line + n, sizeof(line) - static_cast<std::size_t>(n),
                               "\"global_step\":%zu,\"time\":%.6f}}\n", s, ts);
            events.append(line, static_cast<std::size_t>(n));
        }
        write_file(dir / "events.jsonl", events);
        bytes += events.size();
    }
    return bytes;
}

// --- B2 floor -----------------------------------------------------------------------------

struct BareRow {
    std::string id;
    std::string path;
    double created_at = 0;
    std::string status;
    double best = 0;
};

/// Thread safety: externally synchronized.
class Floor {
public:
    explicit Floor(const fs::path& db_file) {
        sqlite3_open(db_file.c_str(), &db_);
        sqlite3_exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr,
                     nullptr);
    }
    ~Floor() { sqlite3_close(db_); }
    Floor(const Floor&) = delete;
    Floor& operator=(const Floor&) = delete;

    /// Walks, parses and inserts; returns the number of runs.
    std::size_t run(const fs::path& runs_dir) {
        rows_.clear();
        walk(runs_dir.string(), "");
        sqlite3_exec(db_,
                     "DROP TABLE IF EXISTS runs; CREATE TABLE runs(id TEXT, path TEXT, "
                     "created_at REAL, status TEXT, best REAL); BEGIN IMMEDIATE;",
                     nullptr, nullptr, nullptr);
        sqlite3_stmt* st = nullptr;
        sqlite3_prepare_v2(db_, "INSERT INTO runs VALUES(?,?,?,?,?)", -1, &st, nullptr);
        for (const auto& r : rows_) {
            sqlite3_bind_text(st, 1, r.id.data(), static_cast<int>(r.id.size()), SQLITE_STATIC);
            sqlite3_bind_text(st, 2, r.path.data(), static_cast<int>(r.path.size()), SQLITE_STATIC);
            sqlite3_bind_double(st, 3, r.created_at);
            sqlite3_bind_text(st, 4, r.status.data(), static_cast<int>(r.status.size()),
                              SQLITE_STATIC);
            sqlite3_bind_double(st, 5, r.best);
            sqlite3_step(st);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
        sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
        return rows_.size();
    }

private:
    bool load(const std::string& file, simdjson::padded_string& out) {
        return simdjson::padded_string::load(file).get(out) == simdjson::SUCCESS;
    }

    void walk(const std::string& dir, const std::string& path) {
        simdjson::padded_string meta;
        if (load(dir + "/meta.json", meta)) {
            BareRow row;
            simdjson::ondemand::document doc;
            if (parser_.iterate(meta).get(doc) == simdjson::SUCCESS) {
                std::string_view id;
                double created = 0;
                if (doc["id"].get_string().get(id) == simdjson::SUCCESS) {
                    row.id = id;
                }
                if (doc["created_at"].get_double().get(created) == simdjson::SUCCESS) {
                    row.created_at = created;
                }
            }
            simdjson::padded_string text;
            if (load(dir + "/status.json", text) &&
                parser_.iterate(text).get(doc) == simdjson::SUCCESS) {
                std::string_view s;
                if (doc["status"].get_string().get(s) == simdjson::SUCCESS) {
                    row.status = s;
                }
            }
            if (load(dir + "/summary.json", text) &&
                parser_.iterate(text).get(doc) == simdjson::SUCCESS) {
                double best = 0;
                if (doc["best_metric_value"].get_double().get(best) == simdjson::SUCCESS) {
                    row.best = best;
                }
            }
            row.path = path;
            rows_.push_back(std::move(row));
            return;
        }
        DIR* d = ::opendir(dir.c_str());
        if (d == nullptr) {
            return;
        }
        // NOLINTNEXTLINE(concurrency-mt-unsafe): one directory stream per thread here.
        while (const dirent* e = ::readdir(d)) {
            if (e->d_name[0] == '.' || e->d_type != DT_DIR) {
                continue;
            }
            walk(dir + "/" + e->d_name, path.empty() ? e->d_name : path + "/" + e->d_name);
        }
        ::closedir(d);
    }

    sqlite3* db_ = nullptr;
    simdjson::ondemand::parser parser_;
    std::vector<BareRow> rows_;
};

bool drop_caches() {
    ::sync();
    std::ofstream f("/proc/sys/vm/drop_caches");
    f << "3\n";
    f.flush();
    return f.good();
}

// --- B3 -----------------------------------------------------------------------------------

std::vector<runicorn::storage::catalog::CatalogEntry> synthetic_rows(std::size_t n,
                                                                     std::uint64_t seed) {
    using runicorn::storage::catalog::CatalogEntry;
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<CatalogEntry> out;
    out.reserve(n);
    static const char* statuses[] = {"finished", "finished", "finished",   "finished",
                                     "failed",   "running",  "interrupted"};
    for (std::size_t i = 0; i < n; ++i) {
        CatalogEntry e;
        char id[32];
        std::snprintf(id, sizeof(id), "run_%07zu_%06llx", i,
                      static_cast<unsigned long long>(rng() & 0xFFFFFFU));
        char path[32];
        std::snprintf(path, sizeof(path), "proj%02zu/exp%zu", rng() % 20, rng() % 5);
        auto& r = e.info;
        r.location.run_id = id;
        r.location.path = path;
        r.status = statuses[rng() % 7];
        r.created_at = 1736935200.0 + static_cast<double>(i) * 10.0 + unit(rng);
        r.started_at = *r.created_at + 0.01;
        r.hostname = "bench-host";
        r.pid = static_cast<std::int64_t>(1000 + i);
        r.tags = {"t" + std::to_string(rng() % 13)};
        r.best_metric_name = "acc";
        r.best_metric_value = unit(rng);
        r.best_metric_step = 1000;
        r.best_metric_mode = "max";
        r.meta = json::object{{"id", id},
                              {"path", path},
                              {"alias", nullptr},
                              {"created_at", *r.created_at},
                              {"python", "3.11.2"},
                              {"platform", "Linux 6.1.0 (x86_64)"},
                              {"hostname", "bench-host"},
                              {"pid", 1000 + i},
                              {"storage_dir", "/data/runicorn"},
                              {"workspace_root", "/home/user/project"},
                              {"tags", json::array{json::string(r.tags[0])}}};
        r.summary = json::object{{"final_loss", unit(rng)},
                                 {"best_metric_value", *r.best_metric_value},
                                 {"best_metric_name", "acc"},
                                 {"best_metric_step", 1000},
                                 {"best_metric_mode", "max"}};
        e.rel_dir = std::string("runs/") + path + "/" + id;
        e.discovery_key = runicorn::storage::catalog::discovery_key(r.location, e.rel_dir, 0);
        e.signature = "m1.1.1;s1.1.1;u1.1.1;a-;d-";
        out.push_back(std::move(e));
    }
    return out;
}

/// The bare SQL of a query, on its own connection: the floor the catalog's answer is held to.
double raw_sql_ms(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    const auto t0 = Clock::now();
    sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
    std::size_t rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        // read what a listing needs so the columns are really fetched
        rows += sqlite3_column_bytes(st, 0) > 0 ? 1 : 0;
    }
    sqlite3_finalize(st);
    const double ms = ms_since(t0);
    return rows > 0 ? ms : -1;
}

int usage() {
    std::cerr << "usage: bench_catalog [--out FILE] [--seed N] [--runs N] [--steps N] "
                 "[--rows N] [--reps N] [--query-reps N] [--dir DIR] [--keep] [--only b2|b3] "
                 "[--store DIR (reuse a generated store)]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out_file;
    std::uint64_t seed = 1;
    std::size_t nruns = 10000;
    std::size_t steps = 10;
    std::size_t nrows = 100000;
    int reps = 5;
    int query_reps = 200;
    fs::path dir;
    bool keep = false;
    std::string only;
    fs::path existing;  // a store generated earlier (--keep): skips generation
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--out") {
            out_file = next();
        } else if (a == "--seed") {
            seed = std::stoull(next());
        } else if (a == "--runs") {
            nruns = std::stoul(next());
        } else if (a == "--steps") {
            steps = std::stoul(next());
        } else if (a == "--rows") {
            nrows = std::stoul(next());
        } else if (a == "--reps") {
            reps = std::max(5, std::stoi(next()));
        } else if (a == "--query-reps") {
            query_reps = std::max(5, std::stoi(next()));
        } else if (a == "--dir") {
            dir = next();
        } else if (a == "--keep") {
            keep = true;
        } else if (a == "--only") {
            only = next();
        } else if (a == "--store") {
            existing = next();
        } else {
            return usage();
        }
    }
    if (dir.empty()) {
        dir = fs::temp_directory_path() / ("rn-bench-catalog-" + std::to_string(::getpid()));
    }
    fs::remove_all(dir);
    fs::create_directories(dir);

    json::object result;
    json::object ratios;
    json::object targets;
    json::array limits;
    bool pass = true;

    if (only.empty() || only == "b2") {
        // ---------------- B2 ----------------
        const fs::path root = existing.empty() ? dir / "store" : existing;
        const auto tg = Clock::now();
        const std::uint64_t bytes = existing.empty() ? generate(root, nruns, steps, seed) : 0;
        const double gen_s = ms_since(tg) / 1000.0;

        runicorn::storage::FolderRunStore::Options options;
        options.catalog_file = (dir / "catalog.sqlite").string();
        runicorn::storage::FolderRunStore store(root, nullptr, options);
        Floor floor(dir / "floor.sqlite");

        // One untimed round each: warm page cache, SQLite files created.
        const std::size_t floor_runs = floor.run(root / "runs");
        auto first = store.reindex(nullptr);
        if (!first || *first != nruns || floor_runs != nruns) {
            std::cerr << "reindex/floor found " << (first ? *first : 0) << "/" << floor_runs
                      << " runs, expected " << nruns << "\n";
            return 1;
        }
        std::vector<double> t_floor;
        std::vector<double> t_reindex;
        std::vector<double> t_refresh;
        for (int r = 0; r < reps; ++r) {  // interleaved, so drift hits both sides alike
            auto t0 = Clock::now();
            floor.run(root / "runs");
            t_floor.push_back(ms_since(t0));
            t0 = Clock::now();
            (void)store.reindex(nullptr);
            t_reindex.push_back(ms_since(t0));
            t0 = Clock::now();
            (void)store.refresh();
            t_refresh.push_back(ms_since(t0));
        }
        json::value cold = json::object{{"skipped",
                                         "no drop_caches (needs root and a writable "
                                         "/proc/sys/vm/drop_caches)"}};
        if (drop_caches()) {
            auto t0 = Clock::now();
            floor.run(root / "runs");
            const double floor_cold = ms_since(t0);
            drop_caches();
            t0 = Clock::now();
            (void)store.reindex(nullptr);
            const double reindex_cold = ms_since(t0);
            cold = json::object{{"floor_s", round3(floor_cold / 1000)},
                                {"reindex_s", round3(reindex_cold / 1000)},
                                {"ratio", round3(reindex_cold / floor_cold)}};
        }
        const Stats sf = stats_of(t_floor);
        const Stats sr = stats_of(t_reindex);
        const Stats sn = stats_of(t_refresh);
        const double ratio = sr.p50 / sf.p50;
        std::error_code ec;
        const auto index_bytes = fs::file_size(dir / "catalog.sqlite", ec) +
                                 fs::file_size(dir / "catalog.sqlite-wal", ec);
        result["b2"] = json::object{
            {"runs", nruns},
            {"event_lines_per_run", steps},
            {"bytes_generated", bytes},
            {"generate_s", round3(gen_s)},
            {"reindex_wall_s", round3(sr.p50 / 1000)},
            {"reindex", stat_json(sr, "ms")},
            {"runs_per_s", std::round(static_cast<double>(nruns) / (sr.p50 / 1000))},
            {"refresh_unchanged", stat_json(sn, "ms")},
            {"floor", stat_json(sf, "ms")},
            {"cold", cold},
            {"index_bytes", index_bytes},
            {"peak_rss_mb", round3(peak_rss_mb())},
        };
        limits.push_back(json::object{
            {"probe", "floor_scan"},
            {"cmd",
             "bench_catalog (in-process: readdir walk of runs/**, simdjson ondemand parse of "
             "meta/status/summary, one-transaction insert of bare rows, WAL, synchronous=NORMAL)"},
            {"value", round3(sf.p50 / 1000)},
            {"min", round3(sf.min / 1000)},
            {"max", round3(sf.max / 1000)},
            {"unit", "s"}});
        ratios["reindex_s/floor_scan_s"] = round3(ratio);
        targets["reindex_s/floor_scan_s"] = "<=1.5";
        pass = pass && ratio <= 1.5;
    }

    if (only.empty() || only == "b3") {
        // ---------------- B3 ----------------
        using runicorn::storage::catalog::Catalog;
        const fs::path file = dir / "b3.sqlite";
        auto cat = Catalog::open(file.string(), dir / "b3-root");
        if (!cat) {
            std::cerr << cat.error().message() << "\n";
            return 1;
        }
        const auto tf = Clock::now();
        if (auto s = (*cat)->replace_all(synthetic_rows(nrows, seed)); !s.is_ok()) {
            std::cerr << s.message() << "\n";
            return 1;
        }
        const double fill_s = ms_since(tf) / 1000;
        sqlite3* raw = nullptr;
        sqlite3_open_v2(file.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);

        struct Case {
            std::string name;
            RunQuery query;
            std::string sql;  // the bare SQL floor
            double target_ms;
        };
        std::vector<Case> cases;
        {
            RunQuery q;
            q.sort = RunSort::kCreated;
            q.limit = 50;
            q.count = false;
            cases.push_back({"newest_50", q,
                             "SELECT run_id, meta_json FROM runs WHERE deleted = 0 AND "
                             "created_at IS NOT NULL ORDER BY created_at DESC, run_key DESC "
                             "LIMIT 51",
                             1.0});
            q.count = true;
            cases.push_back(
                {"newest_50_with_total", q, "SELECT COUNT(*) FROM runs WHERE deleted = 0", 1.0});
        }
        {
            RunQuery q;
            q.sort = RunSort::kCreated;
            q.limit = 50;
            q.path = "proj07";
            q.statuses = {"finished"};
            q.count = false;
            cases.push_back({"filtered_page", q,
                             "SELECT run_id, meta_json FROM runs WHERE deleted = 0 AND path >= "
                             "'proj07' AND path < 'proj070' AND (path = 'proj07' OR path >= "
                             "'proj07/') AND status IN ('finished') AND created_at IS NOT NULL "
                             "ORDER BY created_at DESC, run_key DESC LIMIT 51",
                             5.0});
            q.count = true;
            cases.push_back({"filtered_page_with_total", q,
                             "SELECT COUNT(*) FROM runs WHERE deleted = 0 AND path >= 'proj07' "
                             "AND path < 'proj070' AND (path = 'proj07' OR path >= 'proj07/') "
                             "AND status IN ('finished')",
                             5.0});
        }
        {
            RunQuery q;
            q.sort = RunSort::kCreated;
            q.limit = 50;
            q.count = false;
            q.tags = {"t3"};
            cases.push_back({"tag_page", q,
                             "SELECT run_id, meta_json FROM runs WHERE deleted = 0 AND run_key "
                             "IN (SELECT run_key FROM run_tags WHERE tag = 't3') AND created_at "
                             "IS NOT NULL ORDER BY created_at DESC, run_key DESC LIMIT 51",
                             5.0});
        }
        json::object b3{{"rows", nrows}, {"fill_s", round3(fill_s)}, {"query_reps", query_reps}};
        for (auto& c : cases) {
            // Second page too: the keyset cursor of the first.
            auto first_page = (*cat)->query(c.query);
            if (!first_page || first_page->runs.empty()) {
                std::cerr << c.name << ": no rows\n";
                return 1;
            }
            std::vector<double> t_q;
            std::vector<double> t_next;
            std::vector<double> t_sql;
            RunQuery next = c.query;
            next.cursor = first_page->next_cursor;
            for (int r = 0; r < query_reps; ++r) {
                auto t0 = Clock::now();
                auto page = (*cat)->query(c.query);
                t_q.push_back(ms_since(t0));
                t0 = Clock::now();
                auto page2 = (*cat)->query(next);
                t_next.push_back(ms_since(t0));
                t_sql.push_back(raw_sql_ms(raw, c.sql));
                if (!page || !page2 || page->runs.size() != 50) {
                    std::cerr << c.name << ": query failed\n";
                    return 1;
                }
            }
            const Stats sq = stats_of(t_q);
            const Stats sn = stats_of(t_next);
            const Stats ss = stats_of(t_sql);
            b3[c.name] = json::object{{"query", stat_json(sq, "ms")},
                                      {"next_page", stat_json(sn, "ms")},
                                      {"bare_sql", stat_json(ss, "ms")},
                                      {"total", first_page->total}};
            ratios[c.name + "_p50_ms/target_ms"] = round3(sq.p50 / c.target_ms);
            ratios[c.name + "_p50_ms/bare_sql_p50_ms"] = round3(sq.p50 / ss.p50);
            targets[c.name + "_p50_ms/target_ms"] = "<=1";
            if (c.name.find("with_total") == std::string::npos) {
                pass = pass && sq.p50 <= c.target_ms;
            }
        }
        sqlite3_close(raw);
        result["b3"] = std::move(b3);
    }

    json::object doc{
        {"id", only == "b3"   ? "B3"
               : only == "b2" ? "B2"
                              : "B2+B3"},
        {"name", "catalog"},
        {"commit", git_commit()},
        {"host", host_info()},
        {"pinning", nullptr},
        {"reps", reps},
        {"seed", seed},
        {"result", std::move(result)},
        {"limit", limits.empty() ? json::value(nullptr) : limits[0]},
        {"peer", json::object{{"name", "runicorn-0.6"},
                              {"skipped", "not run by this CLI"},
                              {"reference_get_api_runs_s_at_100k", 14.3}}},
        {"ratios", std::move(ratios)},
        {"targets", std::move(targets)},
        {"pass", pass},
    };
    const std::string text = json::serialize(doc);
    std::cout << text << "\n";
    if (!out_file.empty()) {
        std::ofstream(out_file) << text << "\n";
    }
    if (!keep) {
        fs::remove_all(dir);
    }
    return 0;
}
