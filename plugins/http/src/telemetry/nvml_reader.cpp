#include "nvml_reader.hpp"

#include <array>
#include <utility>

#include <dlfcn.h>

namespace runicorn::http_plugin {
namespace {

// The few NVML declarations used (nvml.h, stable since the _v2 entry points of CUDA 5).
using NvmlReturn = int;
using NvmlDevice = struct NvmlDeviceOpaque*;
struct NvmlUtilization {
    unsigned gpu;
    unsigned memory;
};
struct NvmlMemory {
    unsigned long long total;
    unsigned long long free;
    unsigned long long used;
};
constexpr NvmlReturn kNvmlSuccess = 0;
constexpr int kTemperatureGpu = 0;
constexpr int kClockSm = 1;
constexpr int kClockMem = 2;
constexpr int kPstateUnknown = 32;

}  // namespace

struct NvmlReader::Api {
    NvmlReturn (*init)() = nullptr;
    NvmlReturn (*shutdown)() = nullptr;
    NvmlReturn (*count)(unsigned*) = nullptr;
    NvmlReturn (*by_index)(unsigned, NvmlDevice*) = nullptr;
    NvmlReturn (*name)(NvmlDevice, char*, unsigned) = nullptr;
    NvmlReturn (*utilization)(NvmlDevice, NvmlUtilization*) = nullptr;
    NvmlReturn (*memory)(NvmlDevice, NvmlMemory*) = nullptr;
    NvmlReturn (*temperature)(NvmlDevice, int, unsigned*) = nullptr;
    NvmlReturn (*power)(NvmlDevice, unsigned*) = nullptr;
    NvmlReturn (*power_limit)(NvmlDevice, unsigned*) = nullptr;
    NvmlReturn (*clock)(NvmlDevice, int, unsigned*) = nullptr;
    NvmlReturn (*pstate)(NvmlDevice, int*) = nullptr;
    NvmlReturn (*fan)(NvmlDevice, unsigned*) = nullptr;
};

Result<std::unique_ptr<NvmlReader>> NvmlReader::load(const std::string& library) {
    void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* why = ::dlerror();
        return Status::unavailable("cannot load " + library + ": " +
                                   (why != nullptr ? why : "unknown error"));
    }
    std::unique_ptr<NvmlReader> r(new NvmlReader());
    r->handle_ = handle;
    r->api_ = std::make_unique<Api>();
    Api& a = *r->api_;
    bool ok = true;
    const auto bind = [&](auto& fn, const char* symbol) {
        void* p = ::dlsym(handle, symbol);
        ok = ok && p != nullptr;
        fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    bind(a.init, "nvmlInit_v2");
    bind(a.shutdown, "nvmlShutdown");
    bind(a.count, "nvmlDeviceGetCount_v2");
    bind(a.by_index, "nvmlDeviceGetHandleByIndex_v2");
    bind(a.name, "nvmlDeviceGetName");
    bind(a.utilization, "nvmlDeviceGetUtilizationRates");
    bind(a.memory, "nvmlDeviceGetMemoryInfo");
    bind(a.temperature, "nvmlDeviceGetTemperature");
    bind(a.power, "nvmlDeviceGetPowerUsage");
    bind(a.power_limit, "nvmlDeviceGetEnforcedPowerLimit");
    bind(a.clock, "nvmlDeviceGetClockInfo");
    bind(a.pstate, "nvmlDeviceGetPerformanceState");
    bind(a.fan, "nvmlDeviceGetFanSpeed");
    if (!ok) {
        r->api_.reset();  // nothing to shut down
        return Status::unavailable(library + " lacks an NVML entry point");
    }
    if (a.init() != kNvmlSuccess) {
        r->api_.reset();
        return Status::unavailable("nvmlInit_v2 failed (no NVIDIA driver?)");
    }
    return r;
}

NvmlReader::~NvmlReader() {
    if (api_ != nullptr && api_->shutdown != nullptr) {
        api_->shutdown();
    }
    if (handle_ != nullptr) {
        ::dlclose(handle_);
    }
}

Result<std::vector<GpuReading>> NvmlReader::read() {
    const Api& a = *api_;
    unsigned count = 0;
    if (a.count(&count) != kNvmlSuccess) {
        return Status::unavailable("nvmlDeviceGetCount_v2 failed");
    }
    std::vector<GpuReading> out;
    for (unsigned i = 0; i < count; ++i) {
        NvmlDevice d = nullptr;
        if (a.by_index(i, &d) != kNvmlSuccess) {
            continue;
        }
        GpuReading g;
        g.index = static_cast<int>(i);
        std::array<char, 96> name{};
        if (a.name(d, name.data(), static_cast<unsigned>(name.size())) == kNvmlSuccess) {
            g.name = name.data();
        }
        NvmlUtilization u{};
        if (a.utilization(d, &u) == kNvmlSuccess) {
            g.util_gpu = u.gpu;
            g.util_mem = u.memory;
        }
        NvmlMemory m{};
        if (a.memory(d, &m) == kNvmlSuccess) {
            g.mem_total_mib = static_cast<double>(m.total / (1024ULL * 1024ULL));
            g.mem_used_mib = static_cast<double>(m.used / (1024ULL * 1024ULL));
        }
        unsigned v = 0;
        if (a.temperature(d, kTemperatureGpu, &v) == kNvmlSuccess) {
            g.temp_c = v;
        }
        if (a.power(d, &v) == kNvmlSuccess) {
            g.power_w = v / 1000.0;
        }
        if (a.power_limit(d, &v) == kNvmlSuccess) {
            g.power_limit_w = v / 1000.0;
        }
        if (a.clock(d, kClockSm, &v) == kNvmlSuccess) {
            g.clock_sm_mhz = v;
        }
        if (a.clock(d, kClockMem, &v) == kNvmlSuccess) {
            g.clock_mem_mhz = v;
        }
        int p = kPstateUnknown;
        if (a.pstate(d, &p) == kNvmlSuccess && p >= 0 && p < kPstateUnknown) {
            g.pstate = "P" + std::to_string(p);
        }
        if (a.fan(d, &v) == kNvmlSuccess) {
            g.fan_speed_pct = v;
        }
        out.push_back(std::move(g));
    }
    return out;
}

}  // namespace runicorn::http_plugin
