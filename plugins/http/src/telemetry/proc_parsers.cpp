#include "proc_parsers.hpp"

#include <charconv>
#include <cstdlib>

namespace runicorn::http_plugin {

std::vector<std::string_view> split_ws(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) {
            ++i;
        }
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
            ++i;
        }
        if (i > start) {
            out.push_back(line.substr(start, i - start));
        }
    }
    return out;
}

std::optional<std::uint64_t> to_u64(std::string_view s) {
    std::uint64_t v = 0;
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

namespace {

std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    }
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<double> number(std::string_view s) {
    s = trim(s);
    if (s.empty()) {
        return std::nullopt;
    }
    const std::string copy(s);
    char* end = nullptr;
    const double v = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size()) {
        return std::nullopt;  // "N/A", "[N/A]", "[Not Supported]"
    }
    return v;
}

}  // namespace

std::vector<CpuTimes> parse_proc_stat(std::string_view text) {
    std::vector<CpuTimes> out;
    for (const std::string_view line : lines(text)) {
        if (!line.starts_with("cpu")) {
            continue;
        }
        const auto f = split_ws(line);
        if (f.size() < 5) {
            continue;
        }
        std::uint64_t v[8] = {};
        for (std::size_t i = 0; i < 8 && i + 1 < f.size(); ++i) {
            v[i] = to_u64(f[i + 1]).value_or(0);
        }
        // user nice system idle iowait irq softirq steal
        CpuTimes t;
        t.busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        t.total = t.busy + v[3] + v[4];
        out.push_back(t);
    }
    return out;
}

double cpu_percent(const CpuTimes& before, const CpuTimes& after) {
    if (after.total <= before.total || after.busy < before.busy) {
        return 0.0;
    }
    const double busy = static_cast<double>(after.busy - before.busy);
    const double total = static_cast<double>(after.total - before.total);
    return busy * 100.0 / total;
}

std::map<std::string, std::uint64_t, std::less<>> parse_meminfo(std::string_view text) {
    std::map<std::string, std::uint64_t, std::less<>> out;
    for (const std::string_view line : lines(text)) {
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            continue;
        }
        const auto f = split_ws(line.substr(colon + 1));
        if (f.empty()) {
            continue;
        }
        const auto v = to_u64(f[0]);
        if (!v) {
            continue;
        }
        const bool kb = f.size() > 1 && f[1] == "kB";
        out[std::string(line.substr(0, colon))] = kb ? *v * 1024 : *v;
    }
    return out;
}

std::optional<std::vector<double>> parse_loadavg(std::string_view text) {
    const auto f = split_ws(trim(text));
    if (f.size() < 3) {
        return std::nullopt;
    }
    std::vector<double> out;
    for (std::size_t i = 0; i < 3; ++i) {
        const auto v = number(f[i]);
        if (!v) {
            return std::nullopt;
        }
        out.push_back(*v);
    }
    return out;
}

std::vector<GpuReading> parse_nvidia_smi(std::string_view text) {
    std::vector<GpuReading> out;
    for (const std::string_view line : lines(text)) {
        std::vector<std::string_view> f;
        std::string_view rest = line;
        while (true) {
            const std::size_t comma = rest.find(',');
            f.push_back(trim(rest.substr(0, comma)));
            if (comma == std::string_view::npos) {
                break;
            }
            rest = rest.substr(comma + 1);
        }
        if (f.size() != 13) {
            continue;
        }
        const auto index = to_u64(f[0]);
        if (!index) {
            continue;
        }
        GpuReading g;
        g.index = static_cast<int>(*index);
        g.name = std::string(f[1]);
        g.util_gpu = number(f[2]);
        g.util_mem = number(f[3]);
        g.mem_total_mib = number(f[4]);
        g.mem_used_mib = number(f[5]);
        g.temp_c = number(f[6]);
        g.power_w = number(f[7]);
        g.power_limit_w = number(f[8]);
        g.clock_sm_mhz = number(f[9]);
        g.clock_mem_mhz = number(f[10]);
        if (!f[11].empty() && f[11].front() != '[' && f[11] != "N/A") {
            g.pstate = std::string(f[11]);
        }
        g.fan_speed_pct = number(f[12]);
        out.push_back(std::move(g));
    }
    return out;
}

}  // namespace runicorn::http_plugin
