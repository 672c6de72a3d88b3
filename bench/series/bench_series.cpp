// B4 (BENCHMARKS.md): metric series with downsampling.
//
// Generates one run of 1M steps x 10 keys (about 406 B per line) in a scratch directory, then
// measures in the same process:
//   floor_json    simdjson On-Demand iterate_many over the whole file, every value read
//                 (file load included, as the cache build reads the file too)
//   floor_series  read one key's 16 MB (1M x int64 step + f64 value) from the persisted cache
//                 files + exact LTTB 1M -> 2k
//   first         RunSeries::refresh() on a fresh object (the cache build; only JSONL exists)
//   warm          one key's series (LTTB, 2000 points), all 10 keys' series, and
//                 metrics_step?downsample=2000 (all 10 keys), repeated
//   incremental   append 1,000 records, then refresh() + the one-key series query
// and prints one JSON object (BENCHMARKS.md envelope); --out FILE writes it there too.

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "bench_env.hpp"
#include "downsample.hpp"
#include "run_series.hpp"
#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

namespace {

using runicorn::bench::git_commit;
using runicorn::bench::host_info;

namespace fs = std::filesystem;
namespace json = boost::json;
namespace series = runicorn::storage::series;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

struct Stats {
    double p50 = 0;
    double p99 = 0;
    double min = 0;
    double max = 0;
};

Stats stats_of(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    Stats s;
    if (v.empty()) {
        return s;
    }
    const auto at = [&](double q) {
        const auto idx = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size()))) - 1;
        return v[std::min(v.size() - 1, idx)];
    };
    s.p50 = at(0.5);
    s.p99 = at(0.99);
    s.min = v.front();
    s.max = v.back();
    return s;
}

double round3(double v) { return std::round(v * 1000.0) / 1000.0; }

constexpr const char* kKeys[] = {"train/loss",  "train/acc", "val/loss",   "val/acc",
                                 "lr",          "grad_norm", "throughput", "gpu_mem_gb",
                                 "weight_norm", "momentum"};

// Appends one v0.6-shaped metrics line (", " / ": " separators, shortest doubles).
void append_line(std::string& out, std::int64_t step, double ts, const double* values,
                 std::size_t nkeys) {
    char num[32];
    const auto put = [&](double v) {
        auto r = std::to_chars(num, num + sizeof(num), v);
        out.append(num, r.ptr);
    };
    out += "{\"ts\": ";
    put(ts);
    out += ", \"type\": \"metrics\", \"data\": {";
    for (std::size_t k = 0; k < nkeys; ++k) {
        out += '"';
        out += kKeys[k % 10];
        if (k >= 10) {
            out += std::to_string(k / 10);
        }
        out += "\": ";
        put(values[k]);
        out += ", ";
    }
    out += "\"global_step\": ";
    out += std::to_string(step);
    out += ", \"time\": ";
    put(ts);
    out += "}}\n";
}

class Generator {
public:
    Generator(std::uint64_t seed, std::size_t nkeys) : rng_(seed), values_(nkeys) {
        for (std::size_t k = 0; k < nkeys; ++k) {
            values_[k] = 1.0 + static_cast<double>(k);
        }
    }
    std::string lines(std::int64_t first_step, std::int64_t count) {
        std::string out;
        out.reserve(static_cast<std::size_t>(count) * 420);
        std::normal_distribution<double> noise(0.0, 0.01);
        for (std::int64_t s = first_step; s < first_step + count; ++s) {
            for (double& v : values_) {
                v = v * 0.99999 + noise(rng_);
            }
            ts_ += 0.0131;
            append_line(out, s, ts_, values_.data(), values_.size());
        }
        return out;
    }

private:
    std::mt19937_64 rng_;
    std::vector<double> values_;
    double ts_ = 1795674136.2432256;
};

bool write_all(const fs::path& p, const std::string& data, bool append) {
    const int fd =
        ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
    if (fd < 0) {
        return false;
    }
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n <= 0) {
            ::close(fd);
            return false;
        }
        off += static_cast<std::size_t>(n);
    }
    return ::close(fd) == 0;
}

// floor_json: load + iterate_many, every field of every document read (numbers as doubles).
double floor_json_all_values(const fs::path& p, std::size_t& docs_out) {
    const auto t0 = Clock::now();
    simdjson::padded_string buf;
    if (simdjson::padded_string::load(p.string()).get(buf) != simdjson::SUCCESS) {
        return -1;
    }
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document_stream stream;
    if (parser.iterate_many(buf, std::size_t{4} << 20).get(stream) != simdjson::SUCCESS) {
        return -1;
    }
    std::size_t docs = 0;
    double sink = 0;
    for (auto doc : stream) {
        simdjson::ondemand::object obj;
        if (doc.get_object().get(obj) != simdjson::SUCCESS) {
            continue;
        }
        for (auto field : obj) {
            std::string_view key = field.unescaped_key();
            if (key == "data") {
                simdjson::ondemand::object data;
                if (field.value().get_object().get(data) != simdjson::SUCCESS) {
                    continue;
                }
                for (auto df : data) {
                    std::string_view k2 = df.unescaped_key();
                    double v = 0;
                    if (df.value().get_double().get(v) == simdjson::SUCCESS) {
                        sink += v + static_cast<double>(k2.size());
                    }
                }
            } else if (key == "ts") {
                double v = 0;
                if (field.value().get_double().get(v) == simdjson::SUCCESS) {
                    sink += v;
                }
            } else {
                std::string_view s;
                if (field.value().get_string().get(s) == simdjson::SUCCESS) {
                    sink += static_cast<double>(s.size());
                }
            }
        }
        ++docs;
    }
    const double ms = ms_since(t0);
    docs_out = docs + (sink == 0.125 ? 1 : 0);  // keep `sink` alive
    return ms;
}

// The same stream, documents only counted (stage-1 bound): reported for context.
double floor_json_count(const fs::path& p) {
    const auto t0 = Clock::now();
    simdjson::padded_string buf;
    if (simdjson::padded_string::load(p.string()).get(buf) != simdjson::SUCCESS) {
        return -1;
    }
    simdjson::ondemand::parser parser;
    simdjson::ondemand::document_stream stream;
    if (parser.iterate_many(buf, std::size_t{4} << 20).get(stream) != simdjson::SUCCESS) {
        return -1;
    }
    std::size_t docs = 0;
    for (auto doc : stream) {
        (void)doc;
        ++docs;
    }
    const double ms = ms_since(t0);
    return docs > 0 ? ms : -1;
}

// floor_series: read one key's step and value columns from the cache files, LTTB 1M -> 2k.
double floor_series(const fs::path& cache_dir) {
    const auto t0 = Clock::now();
    const auto read = [](const fs::path& p, std::vector<char>& out) {
        std::ifstream in(p, std::ios::binary);
        in.seekg(0, std::ios::end);
        out.resize(static_cast<std::size_t>(in.tellg()));
        in.seekg(0);
        in.read(out.data(), static_cast<std::streamsize>(out.size()));
        return static_cast<bool>(in);
    };
    std::vector<char> steps;
    std::vector<char> values;
    if (!read(cache_dir / "k0.step", steps) || !read(cache_dir / "k0.value", values)) {
        return -1;
    }
    const std::size_t n = values.size() / sizeof(double);
    std::vector<std::int64_t> s(n);
    std::vector<double> v(n);
    std::memcpy(s.data(), steps.data(), n * sizeof(std::int64_t));
    std::memcpy(v.data(), values.data(), n * sizeof(double));
    const auto out = series::lttb_select(
        n, 2000, [&](std::size_t i) { return static_cast<double>(s[i]); },
        [&](std::size_t i) { return v[i]; });
    const double ms = ms_since(t0);
    return out.size() == 2000 ? ms : -1;
}

int usage() {
    std::cerr << "usage: bench_series [--out FILE] [--seed N] [--steps N] [--keys N] [--reps N] "
                 "[--dir DIR] [--keep]\n";
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    std::string out_file;
    std::uint64_t seed = 1;
    std::int64_t steps = 1000000;
    std::size_t nkeys = 10;
    int reps = 5;
    fs::path dir;
    bool keep = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--out") {
            out_file = next();
        } else if (a == "--seed") {
            seed = std::stoull(next());
        } else if (a == "--steps") {
            steps = std::stoll(next());
        } else if (a == "--keys") {
            nkeys = std::stoul(next());
        } else if (a == "--reps") {
            reps = std::max(1, std::stoi(next()));
        } else if (a == "--dir") {
            dir = next();
        } else if (a == "--keep") {
            keep = true;
        } else {
            return usage();
        }
    }
    if (steps < 10 || nkeys < 1) {
        return usage();
    }
    bool own_dir = false;
    if (dir.empty()) {
        std::string tmpl = (fs::temp_directory_path() / "rn-bench-series-XXXXXX").string();
        if (::mkdtemp(tmpl.data()) == nullptr) {
            std::cerr << "bench_series: cannot create a scratch directory\n";
            return 1;
        }
        dir = tmpl;
        own_dir = true;
    }
    fs::create_directories(dir);
    const fs::path events = dir / "events.jsonl";
    const fs::path cache = dir / "cache";

    // Data.
    Generator gen(seed, nkeys);
    {
        const std::string text = gen.lines(1, steps);
        if (!write_all(events, text, false)) {
            std::cerr << "bench_series: cannot write " << events << "\n";
            return 1;
        }
    }
    const auto bytes = static_cast<std::uint64_t>(fs::file_size(events));

    // Floors (each rep after a warm-up so the file is in the page cache for every side).
    std::size_t docs = 0;
    floor_json_count(events);
    std::vector<double> floor_all;
    std::vector<double> floor_cnt;
    for (int r = 0; r < reps; ++r) {
        floor_all.push_back(floor_json_all_values(events, docs));
        floor_cnt.push_back(floor_json_count(events));
    }

    // First read: the cache build, each rep on a fresh object.
    std::vector<double> first;
    for (int r = 0; r < reps; ++r) {
        series::RunSeries rs(events, {}, nullptr);
        const auto t0 = Clock::now();
        auto info = rs.refresh();
        first.push_back(ms_since(t0));
        if (!info.has_value() || rs.read_stats().records != static_cast<std::uint64_t>(steps)) {
            std::cerr << "bench_series: cache build failed\n";
            return 1;
        }
    }

    // The object the warm and incremental cases use, persisted for floor_series and reopen.
    series::RunSeries rs(events, cache, nullptr);
    if (!rs.refresh().has_value()) {
        return 1;
    }
    auto t_save = Clock::now();
    const runicorn::Status saved = rs.save();
    const double save_ms = ms_since(t_save);
    if (!saved.is_ok()) {
        std::cerr << "bench_series: " << saved << "\n";
        return 1;
    }
    std::vector<double> reopen;
    for (int r = 0; r < reps; ++r) {
        series::RunSeries again(events, cache, nullptr);
        const auto t0 = Clock::now();
        auto info = again.refresh();
        reopen.push_back(ms_since(t0));
        if (!info.has_value() || !info->loaded_from_disk) {
            std::cerr << "bench_series: reopening the cache failed\n";
            return 1;
        }
    }
    std::vector<double> fseries;
    fseries.reserve(static_cast<std::size_t>(reps));
    for (int r = 0; r < reps; ++r) {
        fseries.push_back(floor_series(cache));
    }

    // Warm queries.
    const int warm_reps = std::max(100, reps);
    series::SeriesQuery one;
    one.keys = {kKeys[0]};
    one.points = 2000;
    series::SeriesQuery all;
    all.keys.reserve(nkeys);
    for (std::size_t k = 0; k < nkeys; ++k) {
        all.keys.push_back(std::string(kKeys[k % 10]) + (k >= 10 ? std::to_string(k / 10) : ""));
    }
    all.points = 2000;
    std::vector<double> w_one;
    std::vector<double> w_all;
    std::vector<double> w_compat;
    std::uint64_t points_returned = 0;
    for (int r = 0; r < warm_reps; ++r) {
        auto t0 = Clock::now();
        auto a = rs.series(one);
        w_one.push_back(ms_since(t0));
        t0 = Clock::now();
        auto b = rs.series(all);
        w_all.push_back(ms_since(t0));
        t0 = Clock::now();
        auto c = rs.compat_rows(2000);
        w_compat.push_back(ms_since(t0));
        if (!a.has_value() || !b.has_value() || !c.has_value() || c->rows.size() > 2000) {
            std::cerr << "bench_series: query failed\n";
            return 1;
        }
        points_returned = a->series[0].returned;
    }

    // Incremental: append 1,000 records, refresh, answer the one-key query.
    std::vector<double> incr;
    std::vector<double> incr_refresh;
    std::int64_t next_step = steps + 1;
    for (int r = 0; r < reps; ++r) {
        const std::string more = gen.lines(next_step, 1000);
        next_step += 1000;
        if (!write_all(events, more, true)) {
            return 1;
        }
        const auto t0 = Clock::now();
        auto info = rs.refresh();
        incr_refresh.push_back(ms_since(t0));
        auto a = rs.series(one);
        incr.push_back(ms_since(t0));
        if (!info.has_value() || info->records_added != 1000 || !a.has_value()) {
            std::cerr << "bench_series: incremental refresh failed\n";
            return 1;
        }
    }

    const Stats s_floor_all = stats_of(floor_all);
    const Stats s_floor_cnt = stats_of(floor_cnt);
    const Stats s_first = stats_of(first);
    const Stats s_fseries = stats_of(fseries);
    const Stats s_one = stats_of(w_one);
    const Stats s_all = stats_of(w_all);
    const Stats s_compat = stats_of(w_compat);
    const Stats s_incr = stats_of(incr);
    const Stats s_incr_refresh = stats_of(incr_refresh);
    const Stats s_reopen = stats_of(reopen);

    const double r_first = s_first.p50 / s_floor_all.p50;
    const double r_one = s_one.p99 / s_fseries.p50;
    const double r_compat = s_compat.p99 / s_fseries.p50;
    const double r_incr = s_incr.p50 / s_fseries.p50;
    const bool pass = r_first <= 1.5 && r_one <= 3.0 && r_compat <= 3.0 && s_one.p99 <= 10.0 &&
                      s_compat.p99 <= 10.0 && s_incr.p50 <= 5.0;

    const auto stat_json = [](const Stats& s) {
        return json::object{{"p50_ms", round3(s.p50)},
                            {"p99_ms", round3(s.p99)},
                            {"min_ms", round3(s.min)},
                            {"max_ms", round3(s.max)}};
    };
    json::object result{
        {"first_ms", round3(s_first.p50)},
        {"first_min_ms", round3(s_first.min)},
        {"first_max_ms", round3(s_first.max)},
        {"warm_p50_ms", round3(s_one.p50)},
        {"warm_p99_ms", round3(s_one.p99)},
        {"incremental_ms", round3(s_incr.p50)},
        {"points_per_s", std::round(static_cast<double>(steps) / (s_first.p50 / 1000.0))},
        {"bytes", bytes},
        {"steps", steps},
        {"keys", nkeys},
        {"series_1key_lttb_2000", stat_json(s_one)},
        {"series_all_keys_lttb_2000", stat_json(s_all)},
        {"metrics_step_downsample_2000", stat_json(s_compat)},
        {"incremental_refresh_only", stat_json(s_incr_refresh)},
        {"incremental_refresh_and_query", stat_json(s_incr)},
        {"points_returned_1key", points_returned},
        {"save_ms", round3(save_ms)},
        {"reopen_from_disk_cache", stat_json(s_reopen)},
        {"warm_reps", warm_reps},
    };
    json::object doc{
        {"id", "B4"},
        {"name", "series"},
        {"commit", git_commit()},
        {"host", host_info()},
        {"pinning", nullptr},
        {"reps", reps},
        {"seed", seed},
        {"result", std::move(result)},
        {"limit", json::object{{"probe", "floor_json"},
                               {"cmd",
                                "bench_series (in-process: padded_string::load + ondemand "
                                "iterate_many reading every value)"},
                               {"value", round3(s_floor_all.p50)},
                               {"min", round3(s_floor_all.min)},
                               {"max", round3(s_floor_all.max)},
                               {"unit", "ms"}}},
        {"limits",
         json::array{json::object{{"probe", "floor_json_count_only"},
                                  {"value", round3(s_floor_cnt.p50)},
                                  {"unit", "ms"},
                                  {"note", "iterate_many counting documents, no value read"}},
                     json::object{{"probe", "floor_series"},
                                  {"cmd",
                                   "bench_series (in-process: read k0.step + k0.value from the "
                                   "cache files, exact LTTB 1M -> 2k)"},
                                  {"value", round3(s_fseries.p50)},
                                  {"min", round3(s_fseries.min)},
                                  {"max", round3(s_fseries.max)},
                                  {"unit", "ms"}}}},
        {"peer", json::object{{"name", "runicorn-0.6"},
                              {"skipped", "not run by this CLI"},
                              {"reference_warm_ms_at_100k_steps", 152}}},
        {"ratios",
         json::object{{"first_ms/floor_json", round3(r_first)},
                      {"first_ms/floor_json_count_only", round3(s_first.p50 / s_floor_cnt.p50)},
                      {"series_warm_p99_ms/floor_series", round3(r_one)},
                      {"metrics_step_warm_p99_ms/floor_series", round3(r_compat)},
                      {"incremental_ms/floor_series", round3(r_incr)}}},
        {"targets", json::object{{"first_ms/floor_json", "<=1.5"},
                                 {"series_warm_p99_ms/floor_series", "<=3"},
                                 {"metrics_step_warm_p99_ms/floor_series", "<=3"},
                                 {"series_warm_p99_ms", "<=10"},
                                 {"metrics_step_warm_p99_ms", "<=10"},
                                 {"incremental_ms", "<=5"}}},
        {"pass", pass},
    };
    const std::string text = json::serialize(doc);
    std::cout << text << "\n";
    if (!out_file.empty()) {
        std::ofstream out(out_file);
        out << text << "\n";
        if (!out) {
            std::cerr << "bench_series: cannot write " << out_file << "\n";
            return 1;
        }
    }
    if (own_dir && !keep) {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    return 0;
}
