#pragma once

#include <memory>
#include <string>
#include <vector>

#include <runicorn/result.hpp>

#include "proc_parsers.hpp"

namespace runicorn::http_plugin {

/// NVIDIA's management library loaded at run time (dlopen("libnvidia-ml.so.1"), RTLD_LOCAL), so
/// the plugin neither links nor needs it. Readings a device does not support stay nullopt.
///
/// Thread safety: externally synchronized (the telemetry thread owns it).
class NvmlReader {
public:
    /// Loads and initialises NVML; UNAVAILABLE "<why>" when the library is missing, lacks a
    /// symbol, or nvmlInit_v2 fails (no driver).
    static Result<std::unique_ptr<NvmlReader>> load(
        const std::string& library = "libnvidia-ml.so.1");

    NvmlReader(const NvmlReader&) = delete;
    NvmlReader& operator=(const NvmlReader&) = delete;
    NvmlReader(NvmlReader&&) = delete;
    NvmlReader& operator=(NvmlReader&&) = delete;
    /// nvmlShutdown and dlclose.
    ~NvmlReader();

    /// One reading per device; UNAVAILABLE when the device count cannot be read.
    Result<std::vector<GpuReading>> read();

private:
    struct Api;
    NvmlReader() = default;

    void* handle_ = nullptr;
    std::unique_ptr<Api> api_;
};

}  // namespace runicorn::http_plugin
