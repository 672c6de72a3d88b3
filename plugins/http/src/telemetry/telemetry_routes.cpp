#include "telemetry_routes.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

#include <boost/json/array.hpp>

#include "../http_router.hpp"
#include "../responses.hpp"
#include "nvml_reader.hpp"
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace runicorn::http_plugin {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::optional<double> read_number(const fs::path& p) {
    std::ifstream in(p);
    double v = 0;
    if (in >> v) {
        return v;
    }
    return std::nullopt;
}

double unix_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

json::value opt(const std::optional<double>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

double round1(double v) { return static_cast<double>(static_cast<long long>(v * 10 + 0.5)) / 10; }

// Whole disks only: /sys/block/<name> exists and is not a loop or RAM device.
bool whole_disk(std::string_view name) {
    if (name.starts_with("loop") || name.starts_with("ram") || name.starts_with("zram")) {
        return false;
    }
    std::error_code ec;
    return fs::exists(fs::path("/sys/block") / std::string(name), ec);
}

std::size_t physical_cores(const std::string& cpuinfo) {
    std::vector<std::pair<std::string, std::string>> seen;
    std::string physical;
    std::istringstream in(cpuinfo);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) {
            continue;
        }
        std::string key = line.substr(0, colon);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) {
            key.pop_back();
        }
        const std::string value = line.size() > colon + 2 ? line.substr(colon + 2) : "";
        if (key == "physical id") {
            physical = value;
        } else if (key == "core id") {
            const auto pair = std::make_pair(physical, value);
            if (std::find(seen.begin(), seen.end(), pair) == seen.end()) {
                seen.push_back(pair);
            }
        }
    }
    return seen.size();
}

}  // namespace

json::object read_hwmon(const fs::path& hwmon_root) {
    json::object sensors;
    std::error_code ec;
    for (const auto& chip : fs::directory_iterator(hwmon_root, ec)) {
        std::string name = read_text(chip.path() / "name");
        while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) {
            name.pop_back();
        }
        if (name.empty()) {
            name = chip.path().filename().string();
        }
        json::array entries;
        for (int i = 1; i <= 64; ++i) {
            const std::string base = "temp" + std::to_string(i);
            const auto current = read_number(chip.path() / (base + "_input"));
            if (!current) {
                continue;
            }
            std::string label = read_text(chip.path() / (base + "_label"));
            while (!label.empty() && label.back() == '\n') {
                label.pop_back();
            }
            const auto high = read_number(chip.path() / (base + "_max"));
            const auto crit = read_number(chip.path() / (base + "_crit"));
            entries.emplace_back(json::object{
                {"label", label},
                {"current", *current / 1000.0},
                {"high", high ? json::value(*high / 1000.0) : json::value(nullptr)},
                {"critical", crit ? json::value(*crit / 1000.0) : json::value(nullptr)}});
        }
        if (!entries.empty()) {
            json::value& slot = sensors[name];
            if (!slot.is_array()) {
                slot = json::array{};
            }
            for (auto& e : entries) {
                slot.as_array().push_back(std::move(e));
            }
        }
    }
    return sensors;
}

std::optional<fs::path> find_in_path(const std::string& program, const std::string& path_env) {
    std::size_t start = 0;
    while (start <= path_env.size()) {
        const std::size_t colon = path_env.find(':', start);
        const std::string dir = path_env.substr(start, colon - start);
        start = colon == std::string::npos ? path_env.size() + 1 : colon + 1;
        if (dir.empty()) {
            continue;
        }
        const fs::path candidate = fs::path(dir) / program;
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return std::nullopt;
}

Result<std::string> run_program(const std::vector<std::string>& argv) {
    std::array<int, 2> pipe_fds{};
    if (::pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
        return Status::unavailable("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::vector<char*> args;
    for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(pipe_fds[1]);
    if (rc != 0) {
        ::close(pipe_fds[0]);
        return Status::unavailable("cannot start " + argv[0] + ": " +
                                   std::error_code(rc, std::generic_category()).message());
    }
    std::string out;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    bool timed_out = false;
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd p{pipe_fds[0], POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue;
        }
        std::array<char, 4096> buf{};
        const ssize_t n = ::read(pipe_fds[0], buf.data(), buf.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(pipe_fds[0]);
    if (timed_out) {
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        return Status::unavailable(argv[0] + " did not finish within 5 s");
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return Status::unavailable(argv[0] + " failed");
    }
    return out;
}

TelemetrySampler::TelemetrySampler(fs::path storage_root)
    : storage_root_(std::move(storage_root)) {}

TelemetrySampler::~TelemetrySampler() { stop(); }

void TelemetrySampler::start() {
    const std::lock_guard lock(mutex_);
    if (thread_.joinable()) {
        return;
    }
    stopping_ = false;
    thread_ = std::thread([this] { run(); });
}

void TelemetrySampler::stop() noexcept {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void TelemetrySampler::run() {
    while (true) {
        try {
            sample_once();
        } catch (const std::exception&) {
            // A transient read failure leaves the previous sample in place.
        }
        std::unique_lock lock(mutex_);
        if (cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; })) {
            return;
        }
    }
}

void TelemetrySampler::sample_once() {
    json::object sys;
    sys["available"] = true;
    sys["ts"] = unix_now();
    const auto cpu_now = parse_proc_stat(read_text("/proc/stat"));
    std::vector<CpuTimes> before;
    {
        const std::lock_guard lock(mutex_);
        before = last_cpu_;
    }
    json::object cpu;
    json::array per_core;
    double total = 0;
    if (!cpu_now.empty() && before.size() == cpu_now.size()) {
        total = round1(cpu_percent(before[0], cpu_now[0]));
        for (std::size_t i = 1; i < cpu_now.size(); ++i) {
            per_core.emplace_back(round1(cpu_percent(before[i], cpu_now[i])));
        }
    } else {
        for (std::size_t i = 1; i < cpu_now.size(); ++i) {
            per_core.emplace_back(0.0);
        }
    }
    const std::size_t logical = cpu_now.empty() ? 0 : cpu_now.size() - 1;
    const std::size_t physical = physical_cores(read_text("/proc/cpuinfo"));
    cpu["percent"] = total;
    cpu["count"] = physical != 0 ? physical : logical;
    cpu["logical_count"] = logical;
    cpu["per_core"] = std::move(per_core);
    const auto cur = read_number("/sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq");
    if (cur) {
        const auto mn = read_number("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_min_freq");
        const auto mx = read_number("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
        cpu["frequency"] = json::object{{"current", *cur / 1000.0},
                                        {"min", mn ? *mn / 1000.0 : 0.0},
                                        {"max", mx ? *mx / 1000.0 : 0.0}};
    } else {
        cpu["frequency"] = nullptr;
    }
    if (auto load = parse_loadavg(read_text("/proc/loadavg"))) {
        cpu["load_avg"] = json::array{(*load)[0], (*load)[1], (*load)[2]};
    } else {
        cpu["load_avg"] = nullptr;
    }
    sys["cpu"] = std::move(cpu);

    const auto mem = parse_meminfo(read_text("/proc/meminfo"));
    const auto get = [&mem](std::string_view k) {
        auto it = mem.find(k);
        return it == mem.end() ? std::uint64_t{0} : it->second;
    };
    const std::uint64_t mtotal = get("MemTotal");
    const std::uint64_t mavail = get("MemAvailable");
    const std::uint64_t stotal = get("SwapTotal");
    const std::uint64_t sused = stotal - std::min(stotal, get("SwapFree"));
    const std::uint64_t mused = mtotal - std::min(mtotal, mavail);
    sys["memory"] = json::object{
        {"total", mtotal},
        {"available", mavail},
        {"used", mused},
        {"percent", mtotal ? round1(100.0 * static_cast<double>(mused) / mtotal) : 0.0},
        {"swap_total", stotal},
        {"swap_used", sused},
        {"swap_percent", stotal ? round1(100.0 * static_cast<double>(sused) / stotal) : 0.0}};

    json::object disk;
    disk["path"] = storage_root_.string();
    struct statvfs vfs {};
    if (::statvfs(storage_root_.c_str(), &vfs) == 0) {
        const std::uint64_t dtotal = std::uint64_t{vfs.f_blocks} * vfs.f_frsize;
        const std::uint64_t dfree = std::uint64_t{vfs.f_bavail} * vfs.f_frsize;
        const std::uint64_t dused = (std::uint64_t{vfs.f_blocks} - vfs.f_bfree) * vfs.f_frsize;
        disk["total"] = dtotal;
        disk["used"] = dused;
        disk["free"] = dfree;
        disk["percent"] =
            dused + dfree ? round1(100.0 * static_cast<double>(dused) / (dused + dfree)) : 0.0;
    } else {
        disk["total"] = disk["used"] = disk["free"] = disk["percent"] = 0;
    }
    if (auto io = parse_diskstats(read_text("/proc/diskstats"), whole_disk)) {
        disk["io"] = json::object{{"read_bytes", io->read_bytes},
                                  {"write_bytes", io->write_bytes},
                                  {"read_count", io->read_count},
                                  {"write_count", io->write_count}};
    } else {
        disk["io"] = nullptr;
    }
    sys["disk"] = std::move(disk);
    utsname u{};
    if (::uname(&u) == 0) {
        sys["platform"] =
            json::object{{"system", u.sysname}, {"release", u.release}, {"machine", u.machine}};
    }

    // GPU: at most once a second, and only while someone asked in the last 10 s.
    json::object gpu;
    bool sample_gpu = false;
    {
        const std::lock_guard lock(mutex_);
        last_cpu_ = cpu_now;
        system_ = std::move(sys);
        const auto now = Clock::now();
        sample_gpu = now - gpu_wanted_ < std::chrono::seconds(10) &&
                     now - gpu_sampled_ >= std::chrono::seconds(1);
        if (sample_gpu) {
            gpu_sampled_ = now;
        }
    }
    if (!sample_gpu) {
        return;
    }
    // NVML when it loads (once), else nvidia-smi.
    std::optional<std::vector<GpuReading>> readings;
    if (!nvml_tried_) {
        nvml_tried_ = true;
        if (auto loaded = NvmlReader::load()) {
            nvml_ = std::move(*loaded);
        }
    }
    if (nvml_ != nullptr) {
        if (auto r = nvml_->read()) {
            readings = std::move(*r);
        }
    }
    if (!readings) {
        // NOLINTNEXTLINE(concurrency-mt-unsafe): PATH is not modified while the viewer runs.
        const char* path_env = std::getenv("PATH");
        const auto smi = find_in_path("nvidia-smi", path_env != nullptr ? path_env : "");
        if (!smi) {
            gpu = json::object{{"available", false}, {"reason", "nvidia-smi not found in PATH"}};
        } else {
            auto out = run_program({smi->string(), "--query-gpu=" + std::string(kNvidiaSmiFields),
                                    "--format=csv,noheader,nounits"});
            if (!out) {
                gpu = json::object{{"available", false}, {"reason", out.error().message()}};
            } else {
                readings = parse_nvidia_smi(*out);
            }
        }
    }
    if (readings) {
        json::array gpus;
        for (const GpuReading& g : *readings) {
            std::optional<double> used_pct;
            if (g.mem_total_mib && g.mem_used_mib && *g.mem_total_mib > 0) {
                used_pct = round1(100.0 * *g.mem_used_mib / *g.mem_total_mib);
            }
            gpus.emplace_back(
                json::object{{"index", g.index},
                             {"name", g.name},
                             {"util_gpu", opt(g.util_gpu)},
                             {"util_mem", opt(g.util_mem)},
                             {"mem_total_mib", opt(g.mem_total_mib)},
                             {"mem_used_mib", opt(g.mem_used_mib)},
                             {"temp_c", opt(g.temp_c)},
                             {"power_w", opt(g.power_w)},
                             {"power_limit_w", opt(g.power_limit_w)},
                             {"clock_sm_mhz", opt(g.clock_sm_mhz)},
                             {"clock_mem_mhz", opt(g.clock_mem_mhz)},
                             {"pstate", g.pstate ? json::value(*g.pstate) : json::value(nullptr)},
                             {"fan_speed_pct", opt(g.fan_speed_pct)},
                             {"mem_used_pct", opt(used_pct)}});
        }
        gpu = json::object{{"available", true}, {"ts", unix_now()}, {"gpus", std::move(gpus)}};
    }
    const std::lock_guard lock(mutex_);
    gpu_ = std::move(gpu);
    cv_.notify_all();
}

json::object TelemetrySampler::system_monitor() {
    const std::lock_guard lock(mutex_);
    if (system_.empty()) {
        return json::object{{"available", false}, {"reason", "No sample yet"}};
    }
    return system_;
}

json::object TelemetrySampler::gpu_telemetry() {
    std::unique_lock lock(mutex_);
    gpu_wanted_ = Clock::now();
    if (gpu_.empty() && thread_.joinable()) {
        // The first request waits (briefly) for the sampler thread's first GPU sample.
        cv_.notify_all();
        cv_.wait_for(lock, std::chrono::seconds(3), [this] { return !gpu_.empty() || stopping_; });
    }
    if (gpu_.empty()) {
        return json::object{{"available", false}, {"reason", "No sample yet"}};
    }
    return gpu_;
}

json::object TelemetrySampler::temperatures() {
    json::object sensors = read_hwmon("/sys/class/hwmon");
    if (sensors.empty()) {
        return json::object{{"available", false}, {"reason", "Temperature sensors not available"}};
    }
    return json::object{{"available", true}, {"sensors", std::move(sensors)}};
}

Status add_telemetry_routes(RouteTable& routes, std::shared_ptr<TelemetrySampler> sampler) {
    plugin::RouteSpec monitor{"GET", "/api/system/monitor", "CPU, memory and disk", true};
    monitor.tags = {"system"};
    RUNICORN_RETURN_IF_ERROR(
        routes.add_route(std::move(monitor), make_handler([sampler](const plugin::HttpRequest&) {
                             return json_response(200, sampler->system_monitor());
                         })));
    plugin::RouteSpec gpu{"GET", "/api/gpu/telemetry", "GPU readings (nvidia-smi)", true};
    gpu.tags = {"system"};
    RUNICORN_RETURN_IF_ERROR(
        routes.add_route(std::move(gpu), make_handler([sampler](const plugin::HttpRequest&) {
                             return json_response(200, sampler->gpu_telemetry());
                         })));
    plugin::RouteSpec temps{"GET", "/api/system/temperatures", "hwmon temperature sensors", true};
    temps.tags = {"system"};
    return routes.add_route(std::move(temps), make_handler([sampler](const plugin::HttpRequest&) {
                                return json_response(200, sampler->temperatures());
                            }));
}

}  // namespace runicorn::http_plugin
