#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runicorn::http_plugin {

/// CPU time counters of one line of /proc/stat ("cpu" or "cpuN"), in clock ticks.
struct CpuTimes {
    std::uint64_t busy = 0;   ///< user + nice + system + irq + softirq + steal
    std::uint64_t total = 0;  ///< busy + idle + iowait
};

/// /proc/stat: the aggregate line first, then one entry per "cpuN" line, in order. Lines that are
/// not cpu lines are skipped; empty when there is none.
std::vector<CpuTimes> parse_proc_stat(std::string_view text);

/// Percent busy between two samples (0..100); 0 when no time passed.
double cpu_percent(const CpuTimes& before, const CpuTimes& after);

/// The fields of /proc/meminfo, in bytes ("MemTotal: 16 kB" -> 16384).
std::map<std::string, std::uint64_t, std::less<>> parse_meminfo(std::string_view text);

/// The three load averages of /proc/loadavg, or nullopt.
std::optional<std::vector<double>> parse_loadavg(std::string_view text);

/// Totals of /proc/diskstats over the devices `whole_disk` accepts (bytes use 512-byte sectors).
struct DiskIo {
    std::uint64_t read_bytes = 0;
    std::uint64_t write_bytes = 0;
    std::uint64_t read_count = 0;
    std::uint64_t write_count = 0;
};
template <class Pred>
std::optional<DiskIo> parse_diskstats(std::string_view text, Pred whole_disk);

/// One GPU as nvidia-smi reports it; unavailable readings are nullopt.
struct GpuReading {
    int index = 0;
    std::string name;
    std::optional<double> util_gpu, util_mem, mem_total_mib, mem_used_mib, temp_c, power_w,
        power_limit_w, clock_sm_mhz, clock_mem_mhz, fan_speed_pct;
    std::optional<std::string> pstate;
};

/// The nvidia-smi fields queried, in order, for --query-gpu.
inline constexpr std::string_view kNvidiaSmiFields =
    "index,name,utilization.gpu,utilization.memory,memory.total,memory.used,temperature.gpu,"
    "power.draw,power.limit,clocks.sm,clocks.mem,pstate,fan.speed";

/// Parses `nvidia-smi --query-gpu=<kNvidiaSmiFields> --format=csv,noheader,nounits`; "N/A",
/// "[N/A]", "[Not Supported]" and unparsable numbers become nullopt. Lines with the wrong number
/// of fields are skipped.
std::vector<GpuReading> parse_nvidia_smi(std::string_view text);

// ---- template implementation ----

std::vector<std::string_view> split_ws(std::string_view line);
std::optional<std::uint64_t> to_u64(std::string_view s);

template <class Pred>
std::optional<DiskIo> parse_diskstats(std::string_view text, Pred whole_disk) {
    DiskIo io;
    bool any = false;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        const std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        const auto f = split_ws(line);
        if (f.size() < 10 || !whole_disk(f[2])) {
            continue;
        }
        const auto reads = to_u64(f[3]);
        const auto rsect = to_u64(f[5]);
        const auto writes = to_u64(f[7]);
        const auto wsect = to_u64(f[9]);
        if (!reads || !rsect || !writes || !wsect) {
            continue;
        }
        io.read_count += *reads;
        io.read_bytes += *rsect * 512;
        io.write_count += *writes;
        io.write_bytes += *wsect * 512;
        any = true;
    }
    if (!any) {
        return std::nullopt;
    }
    return io;
}

}  // namespace runicorn::http_plugin
