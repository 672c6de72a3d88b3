#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <boost/json/object.hpp>

#include <runicorn/status.hpp>

#include "../route_table.hpp"
#include "nvml_reader.hpp"
#include "proc_parsers.hpp"

namespace runicorn::http_plugin {

/// The hwmon sensors under `hwmon_root` (/sys/class/hwmon): {"<chip name>": [{"label",
/// "current", "high", "critical"}]} in degrees Celsius; an empty object when there are none.
boost::json::object read_hwmon(const std::filesystem::path& hwmon_root);

/// The directory of `program` in PATH `path_env` (colon-separated), or nullopt.
std::optional<std::filesystem::path> find_in_path(const std::string& program,
                                                  const std::string& path_env);

/// Runs `argv` (no shell) and returns its standard output; UNAVAILABLE when it cannot start,
/// exits non-zero or runs longer than 5 s (it is killed).
Result<std::string> run_program(const std::vector<std::string>& argv);

/// The telemetry of API.md §2.1: a background thread samples /proc/stat, /proc/meminfo,
/// /proc/loadavg, statvfs of the storage root and /proc/diskstats once a second, and nvidia-smi
/// (spawned without a shell) at most once a second while GPU telemetry is being asked for; the
/// routes answer at once from the latest sample.
///
/// Thread safety: safe for concurrent use.
class TelemetrySampler {
public:
    explicit TelemetrySampler(std::filesystem::path storage_root);
    TelemetrySampler(const TelemetrySampler&) = delete;
    TelemetrySampler& operator=(const TelemetrySampler&) = delete;
    TelemetrySampler(TelemetrySampler&&) = delete;
    TelemetrySampler& operator=(TelemetrySampler&&) = delete;
    /// Calls stop().
    ~TelemetrySampler();

    /// Starts the sampling thread (idempotent).
    void start();
    /// Stops and joins it. Never throws.
    void stop() noexcept;

    boost::json::object system_monitor();
    boost::json::object gpu_telemetry();
    boost::json::object temperatures();

    /// Takes one sample now (the thread calls this; tests may call it before start()). GPU data
    /// comes from NVML when libnvidia-ml.so.1 loads, else from nvidia-smi.
    void sample_once();

private:
    void run();

    std::filesystem::path storage_root_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
    std::vector<CpuTimes> last_cpu_;
    boost::json::object system_;
    boost::json::object gpu_;
    std::chrono::steady_clock::time_point gpu_wanted_{};
    std::chrono::steady_clock::time_point gpu_sampled_{};
    // Used only by sample_once(), which one thread at a time calls.
    bool nvml_tried_ = false;
    std::unique_ptr<NvmlReader> nvml_;
};

/// Adds GET /api/system/monitor, GET /api/gpu/telemetry and GET /api/system/temperatures.
Status add_telemetry_routes(RouteTable& routes, std::shared_ptr<TelemetrySampler> sampler);

}  // namespace runicorn::http_plugin
