// B1 — SDK log() throughput and caller overhead (BENCHMARKS.md).
//
//   bench_sdk_log [--calls N] [--reps R] [--storage DIR] [--text-every K] [--fake] [--out FILE]
//
// Each repetition opens one run in a fresh storage root and calls log() with 10 float keys and an
// explicit step N times, with default durability; then finish(). Every 16th call is timed with
// steady_clock (the clock's own cost is measured and subtracted); calls/s is N over the loop's
// wall time, and end-to-end calls/s also counts finish(). The serialization floor (floor_ser:
// the same record with std::to_chars into a 64 KiB buffer written to /dev/null) is measured in
// the same process for the ratios. Prints one JSON object; --out also writes it to FILE.
//
// --fake (or a storage plugin that cannot open runs) measures against an in-memory store that
// discards writes; the JSON says so in result.storage.

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <runicorn/runicorn.hpp>

#include "sdk_internal.hpp"
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr int kSampleEvery = 16;
constexpr int kKeys = 10;

/// Discards everything: the SDK's own cost without storage (--fake). Thread safety: safe for
/// concurrent use (stateless).
class NullRunWriter final : public runicorn::plugin::RunWriter {
public:
    const std::string& run_id() const override { return id_; }
    const std::optional<std::string>& path() const override { return path_; }
    const fs::path& run_dir() const override { return dir_; }
    const fs::path& workspace_root() const override { return dir_; }
    bool resumed() const override { return false; }
    std::int64_t last_step() const override { return 0; }
    std::optional<json::object> resumed_summary() const override { return std::nullopt; }
    runicorn::Status append_events(std::string_view) override { return {}; }
    runicorn::Status append_logs(std::string_view) override { return {}; }
    runicorn::Status merge_json(runicorn::plugin::RunJsonFile, const json::object&) override {
        return {};
    }
    runicorn::Status write_media(std::string_view, std::span<const std::byte>) override {
        return {};
    }
    runicorn::Status heartbeat(std::chrono::seconds) override { return {}; }
    runicorn::Status sync() override { return {}; }
    runicorn::Status close() override { return {}; }

private:
    std::string id_ = "bench_fake";
    std::optional<std::string> path_ = std::string("bench/sdk");
    fs::path dir_ = "/dev/null";
};

/// Hands out NullRunWriters. Thread safety: safe for concurrent use (stateless).
class NullRunStore final : public runicorn::sdk::RunOpener {
public:
    fs::path root() const override { return "/dev/null"; }
    runicorn::Result<std::shared_ptr<runicorn::plugin::RunWriter>> open_run(
        const runicorn::plugin::RunCreateOptions&) const override {
        return std::shared_ptr<runicorn::plugin::RunWriter>(std::make_shared<NullRunWriter>());
    }
};

struct Args {
    std::int64_t calls = 1'000'000;
    int reps = 5;
    std::string storage;
    std::int64_t text_every = 0;
    bool fake = false;
    std::string out;
};

Args parse_args(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string k = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "bench_sdk_log: " << k << " needs a value\n";
                std::exit(2);  // NOLINT(concurrency-mt-unsafe): single-threaded here
            }
            return argv[++i];
        };
        if (k == "--calls") {
            a.calls = std::stoll(next());
        } else if (k == "--reps") {
            a.reps = std::stoi(next());
        } else if (k == "--storage") {
            a.storage = next();
        } else if (k == "--text-every") {
            a.text_every = std::stoll(next());
        } else if (k == "--fake") {
            a.fake = true;
        } else if (k == "--out") {
            a.out = next();
        } else {
            std::cerr << "usage: bench_sdk_log [--calls N] [--reps R] [--storage DIR] "
                         "[--text-every K] [--fake] [--out FILE]\n";
            std::exit(2);  // NOLINT(concurrency-mt-unsafe): single-threaded here
        }
    }
    return a;
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) {
        return 0;
    }
    const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

double thread_cpu_s() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double process_cpu_s() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    auto tv = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6;
    };
    return tv(ru.ru_utime) + tv(ru.ru_stime);
}

/// The cost of one steady_clock::now(), subtracted from sampled latencies.
double timer_overhead_ns() {
    std::vector<double> d;
    d.reserve(10000);
    for (int i = 0; i < 10000; ++i) {
        const auto a = Clock::now();
        const auto b = Clock::now();
        d.push_back(std::chrono::duration<double, std::nano>(b - a).count());
    }
    return median(d);
}

/// floor_ser: one record (10 metrics + global_step + time) with std::to_chars into a 64 KiB
/// buffer written to /dev/null when full. Returns ns/record.
double floor_ser_ns(std::int64_t records) {
    std::FILE* null = std::fopen("/dev/null", "wb");
    std::vector<char> buf(std::size_t{64} * 1024);
    std::size_t used = 0;
    constexpr std::array<std::string_view, kKeys> kNames = {
        "\"m0\":", "\"m1\":", "\"m2\":", "\"m3\":", "\"m4\":",
        "\"m5\":", "\"m6\":", "\"m7\":", "\"m8\":", "\"m9\":"};
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < records; ++i) {
        if (buf.size() - used < 1024) {
            std::fwrite(buf.data(), 1, used, null);
            used = 0;
        }
        char* p = buf.data() + used;
        char* end = buf.data() + buf.size();
        const double ts = 1795674136.2432256 + static_cast<double>(i) * 1e-6;
        auto put = [&p](std::string_view s) { p = std::copy(s.begin(), s.end(), p); };
        put("{\"ts\":");
        p = std::to_chars(p, end, ts).ptr;
        put(",\"type\":\"metrics\",\"data\":{");
        for (int k = 0; k < kKeys; ++k) {
            put(kNames[k]);
            p = std::to_chars(p, end, 0.1 * k + static_cast<double>(i) * 1e-7).ptr;
            *p++ = ',';
        }
        put("\"global_step\":");
        p = std::to_chars(p, end, i).ptr;
        put(",\"time\":");
        p = std::to_chars(p, end, ts).ptr;
        put("}}\n");
        used = static_cast<std::size_t>(p - buf.data());
    }
    std::fwrite(buf.data(), 1, used, null);
    const auto t1 = Clock::now();
    std::fclose(null);
    return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(records);
}

struct RepResult {
    double p50 = 0, p99 = 0, p999 = 0, mean_ns = 0;
    double calls_per_s = 0, e2e_calls_per_s = 0, finish_ms = 0, writer_cpu_pct = 0;
    std::uint64_t bytes_written = 0, dropped = 0;
};

std::string read_line_of(const char* file, const char* prefix) {
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(prefix, 0) == 0) {
            const auto c = line.find(':');
            return c == std::string::npos ? line : line.substr(c + 2);
        }
    }
    return "";
}

std::string git_commit() {
    std::FILE* p = ::popen("git rev-parse HEAD 2>/dev/null", "r");
    if (p == nullptr) {
        return "";
    }
    char buf[64] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, p);
    ::pclose(p);
    std::string s(buf, n);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
        s.pop_back();
    }
    return s;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse_args(argc, argv);
    // The static SDK finds plugins through RUNICORN_PLUGIN_PATH; set before any thread exists.
    // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread exists yet
    if (std::getenv("RUNICORN_PLUGIN_PATH") == nullptr) {
        // NOLINTNEXTLINE(concurrency-mt-unsafe): no other thread exists yet
        ::setenv("RUNICORN_PLUGIN_PATH", RUNICORN_BENCH_PLUGIN_DIR, 1);
    }
    runicorn::set_enabled(true);

    const fs::path root = args.storage.empty() ? fs::temp_directory_path() /
                                                     ("rn-bench-b1-" + std::to_string(::getpid()))
                                               : fs::path(args.storage);
    std::string storage_kind = args.fake ? "fake (in-memory, writes discarded)" : "plugin";
    std::string fake_reason;
    if (args.fake) {
        runicorn::sdk::set_test_hooks({std::make_shared<NullRunStore>(), nullptr});
    }

    const double timer_ns = timer_overhead_ns();
    std::vector<double> floor_samples;
    std::vector<RepResult> reps;
    std::vector<double> samples;
    samples.reserve(static_cast<std::size_t>(args.calls / kSampleEvery + 1));
    constexpr std::array<std::string_view, kKeys> kKeyNames = {"m0", "m1", "m2", "m3", "m4",
                                                               "m5", "m6", "m7", "m8", "m9"};

    for (int rep = 0; rep < args.reps; ++rep) {
        floor_samples.push_back(floor_ser_ns(std::min<std::int64_t>(args.calls, 200'000)));

        runicorn::InitOptions o;
        o.storage = (root / ("rep" + std::to_string(rep))).string();
        o.path = "bench/sdk";
        o.on_warning = [](const runicorn::Warning& w) {
            std::cerr << "warning: " << w.message << "\n";
        };
        auto r = runicorn::init(o);
        if (!r.has_value() && !args.fake &&
            (r.error().code() == runicorn::StatusCode::kUnimplemented ||
             r.error().message().find("no plugin providing") != std::string::npos)) {
            fake_reason = r.error().to_string();
            storage_kind =
                "fake (in-memory, writes discarded): the storage plugin cannot open runs";
            runicorn::sdk::set_test_hooks({std::make_shared<NullRunStore>(), nullptr});
            r = runicorn::init(o);
        }
        if (!r.has_value()) {
            std::cerr << "bench_sdk_log: init failed: " << r.error() << "\n";
            return 1;
        }
        runicorn::Run run = std::move(*r);

        samples.clear();
        double vals[kKeys];
        for (int k = 0; k < kKeys; ++k) {
            vals[k] = 0.1 * k;
        }
        const double cpu0 = process_cpu_s();
        const double main0 = thread_cpu_s();
        const auto t0 = Clock::now();
        for (std::int64_t i = 1; i <= args.calls; ++i) {
            for (double& v : vals) {
                v += 1e-7;
            }
            const bool sample = (i % kSampleEvery) == 0;
            Clock::time_point a;
            if (sample) {
                a = Clock::now();
            }
            run.log({{kKeyNames[0], vals[0]},
                     {kKeyNames[1], vals[1]},
                     {kKeyNames[2], vals[2]},
                     {kKeyNames[3], vals[3]},
                     {kKeyNames[4], vals[4]},
                     {kKeyNames[5], vals[5]},
                     {kKeyNames[6], vals[6]},
                     {kKeyNames[7], vals[7]},
                     {kKeyNames[8], vals[8]},
                     {kKeyNames[9], vals[9]}},
                    {.step = i});
            if (sample) {
                const auto b = Clock::now();
                samples.push_back(std::max(
                    0.0, std::chrono::duration<double, std::nano>(b - a).count() - timer_ns));
            }
            if (args.text_every > 0 && i % args.text_every == 0) {
                run.log_text("epoch progress line");
            }
        }
        const auto t1 = Clock::now();
        const runicorn::Status fin = run.finish();
        const auto t2 = Clock::now();
        const double cpu1 = process_cpu_s();
        const double main1 = thread_cpu_s();
        if (!fin.is_ok()) {
            std::cerr << "bench_sdk_log: finish: " << fin << "\n";
        }
        const auto st = run.stats();
        RepResult rr;
        const double loop_s = std::chrono::duration<double>(t1 - t0).count();
        const double total_s = std::chrono::duration<double>(t2 - t0).count();
        rr.p50 = percentile(samples, 0.5);
        rr.p99 = percentile(samples, 0.99);
        rr.p999 = percentile(samples, 0.999);
        rr.mean_ns = loop_s * 1e9 / static_cast<double>(args.calls);
        rr.calls_per_s = static_cast<double>(args.calls) / loop_s;
        rr.e2e_calls_per_s = static_cast<double>(args.calls) / total_s;
        rr.finish_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
        rr.writer_cpu_pct = 100.0 * ((cpu1 - cpu0) - (main1 - main0)) / total_s;
        rr.bytes_written = st.bytes_written;
        rr.dropped = st.records_dropped;
        reps.push_back(rr);
    }
    if (args.storage.empty()) {
        std::error_code ec;
        fs::remove_all(root, ec);
    }

    auto med = [&reps](double RepResult::*f) {
        std::vector<double> v;
        v.reserve(reps.size());
        for (const auto& r : reps) {
            v.push_back(r.*f);
        }
        return median(v);
    };
    auto minmax = [&reps](double RepResult::*f) {
        double lo = reps.front().*f;
        double hi = lo;
        for (const auto& r : reps) {
            lo = std::min(lo, r.*f);
            hi = std::max(hi, r.*f);
        }
        return json::array{lo, hi};
    };
    const double floor_ns = median(floor_samples);
    const double floor_rps = 1e9 / floor_ns;
    const double p50 = med(&RepResult::p50);
    const double p99 = med(&RepResult::p99);
    const double cps = med(&RepResult::calls_per_s);
    std::uint64_t dropped = 0;
    for (const auto& r : reps) {
        dropped += r.dropped;
    }

    utsname un{};
    ::uname(&un);
    json::object result{
        {"storage", storage_kind},
        {"calls", args.calls},
        {"keys", kKeys},
        {"sample_every", kSampleEvery},
        {"timer_overhead_ns", timer_ns},
        {"calls_per_s", cps},
        {"calls_per_s_min_max", minmax(&RepResult::calls_per_s)},
        {"end_to_end_calls_per_s", med(&RepResult::e2e_calls_per_s)},
        {"metrics_per_s", cps * kKeys},
        {"caller_ns_mean", med(&RepResult::mean_ns)},
        {"caller_ns_p50", p50},
        {"caller_ns_p50_min_max", minmax(&RepResult::p50)},
        {"caller_ns_p99", p99},
        {"caller_ns_p999", med(&RepResult::p999)},
        {"finish_ms", med(&RepResult::finish_ms)},
        {"fdatasync_in_finish", nullptr},
        {"fdatasync_in_finish_note",
         "not counted here; finish() calls RunWriter::close() once, "
         "which syncs each file with unsynced data"},
        {"bytes_written", reps.back().bytes_written},
        {"writer_cpu_pct", med(&RepResult::writer_cpu_pct)},
        {"records_dropped", dropped},
        {"text_every", args.text_every},
        {"sdk_link", "static"},
    };
    if (!fake_reason.empty()) {
        result["fake_reason"] = fake_reason;
    }
    json::object out{
        {"id", "B1"},
        {"name", "sdk_log"},
        {"commit", git_commit()},
        {"host",
         {{"cpus", static_cast<std::int64_t>(::sysconf(_SC_NPROCESSORS_ONLN))},
          {"cpu", read_line_of("/proc/cpuinfo", "model name")},
          {"kernel", std::string(un.release)}}},
        {"pinning", {{"server", nullptr}, {"load", nullptr}}},
        {"reps", args.reps},
        {"seed", nullptr},
        {"result", std::move(result)},
        {"limit",
         {{"probe", "floor_ser"},
          {"cmd", "bench_sdk_log (inline probe, same process)"},
          {"value", floor_ns},
          {"unit", "ns/record"}}},
        {"peer",
         {{"name", "runicorn-0.6"},
          {"value", 36000},
          {"unit", "calls/s"},
          {"skipped", "not run by this CLI; the value is the reference figure (BENCHMARKS.md)"}}},
        {"ratios",
         {{"caller_ns_p50/limit", p50 / floor_ns},
          {"caller_ns_p99/limit", p99 / floor_ns},
          {"calls_per_s/limit", cps / floor_rps},
          {"calls_per_s/peer", "skipped"}}},
        {"targets",
         {{"caller_ns_p50/limit", "<=1.3"},
          {"caller_ns_p99/limit", "<=6.5"},
          {"calls_per_s/limit", ">=0.7"},
          {"calls_per_s/peer", ">=25"},
          {"records_dropped", "==0"}}},
        {"pass",
         p50 / floor_ns <= 1.3 && p99 / floor_ns <= 6.5 && cps / floor_rps >= 0.7 && dropped == 0},
    };
    const std::string text = json::serialize(out);
    std::cout << text << "\n";
    if (!args.out.empty()) {
        std::ofstream f(args.out);
        f << text << "\n";
        if (!f) {
            std::cerr << "bench_sdk_log: cannot write " << args.out << "\n";
            return 1;
        }
    }
    return 0;
}
