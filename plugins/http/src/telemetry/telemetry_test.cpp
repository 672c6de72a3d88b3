// Telemetry parsers on canned /proc and nvidia-smi text, hwmon on a fake tree, and the routes.
#include <filesystem>
#include <fstream>

#include <boost/json/serialize.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <runicorn/testing/temp_dir.hpp>

#include "nvml_reader.hpp"
#include "proc_parsers.hpp"
#include "telemetry_routes.hpp"

namespace runicorn::http_plugin {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

TEST(ProcParsersTest, ProcStatAndCpuPercent) {
    const auto a = parse_proc_stat(
        "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\n"
        "cpu1 50 0 50 400 0 0 0 0 0 0\nintr 1 2 3\nctxt 5\n");
    ASSERT_EQ(a.size(), 3U);
    EXPECT_EQ(a[0].busy, 200U);
    EXPECT_EQ(a[0].total, 1000U);
    const auto b = parse_proc_stat(
        "cpu  200 0 200 1400 100 0 0 0 0 0\ncpu0 150 0 150 500 0 0 0 0 0 0\n"
        "cpu1 50 0 50 900 100 0 0 0 0 0\n");
    EXPECT_DOUBLE_EQ(cpu_percent(a[0], b[0]), 200.0 * 100.0 / 900.0);  // 200 busy of 900
    EXPECT_DOUBLE_EQ(cpu_percent(a[1], b[1]), 200.0 / 3.0);
    EXPECT_DOUBLE_EQ(cpu_percent(a[2], b[2]), 0.0);
    EXPECT_DOUBLE_EQ(cpu_percent(b[0], a[0]), 0.0);  // counters never go back; no time passed
    EXPECT_TRUE(parse_proc_stat("garbage\n").empty());
}

TEST(ProcParsersTest, MeminfoLoadavgDiskstats) {
    const auto m = parse_meminfo(
        "MemTotal:       16000 kB\nMemAvailable:    4000 kB\nHugePages_Total:       0\nbad\n");
    EXPECT_EQ(m.at("MemTotal"), 16000U * 1024);
    EXPECT_EQ(m.at("MemAvailable"), 4000U * 1024);
    EXPECT_EQ(m.at("HugePages_Total"), 0U);
    EXPECT_EQ(parse_loadavg("0.52 0.58 0.59 1/467 12345\n"),
              (std::vector<double>{0.52, 0.58, 0.59}));
    EXPECT_FALSE(parse_loadavg("0.5 x").has_value());
    const std::string disk =
        "   8       0 sda 100 0 2000 0 50 0 1000 0 0 0 0\n"
        "   8       1 sda1 90 0 1800 0 40 0 800 0 0 0 0\n"
        "   7       0 loop0 5 0 10 0 0 0 0 0 0 0 0\n"
        " 259       0 nvme0n1 10 0 8 0 2 0 4 0 0 0 0\n";
    const auto io =
        parse_diskstats(disk, [](std::string_view n) { return n == "sda" || n == "nvme0n1"; });
    ASSERT_TRUE(io.has_value());
    EXPECT_EQ(io->read_count, 110U);
    EXPECT_EQ(io->read_bytes, 2008U * 512);
    EXPECT_EQ(io->write_count, 52U);
    EXPECT_EQ(io->write_bytes, 1004U * 512);
    EXPECT_FALSE(parse_diskstats(disk, [](std::string_view) { return false; }).has_value());
}

TEST(ProcParsersTest, NvidiaSmiCsvWithUnavailableReadings) {
    const auto gpus = parse_nvidia_smi(
        "0, NVIDIA H100 80GB HBM3, 37, 12, 81559, 1024, 41, 71.23, 700.00, 1980, 2619, P0, "
        "[N/A]\n"
        "1, Tesla T4, [Not Supported], N/A, 15360, 0, 30, [N/A], 70.00, 300, 5000, P8, 0\n"
        "short, line\n");
    ASSERT_EQ(gpus.size(), 2U);
    EXPECT_EQ(gpus[0].index, 0);
    EXPECT_EQ(gpus[0].name, "NVIDIA H100 80GB HBM3");
    EXPECT_EQ(gpus[0].util_gpu, 37.0);
    EXPECT_EQ(gpus[0].mem_total_mib, 81559.0);
    EXPECT_EQ(gpus[0].power_w, 71.23);
    EXPECT_EQ(gpus[0].pstate, "P0");
    EXPECT_FALSE(gpus[0].fan_speed_pct.has_value());
    EXPECT_FALSE(gpus[1].util_gpu.has_value());
    EXPECT_FALSE(gpus[1].util_mem.has_value());
    EXPECT_FALSE(gpus[1].power_w.has_value());
    EXPECT_EQ(gpus[1].fan_speed_pct, 0.0);
}

TEST(TelemetryTest, HwmonTreeAndPathLookup) {
    runicorn::testing::TempDir dir;
    const fs::path chip = dir.path() / "hwmon0";
    fs::create_directories(chip);
    std::ofstream(chip / "name") << "coretemp\n";
    std::ofstream(chip / "temp1_input") << "45000\n";
    std::ofstream(chip / "temp1_label") << "Package id 0\n";
    std::ofstream(chip / "temp1_max") << "80000\n";
    std::ofstream(chip / "temp1_crit") << "100000\n";
    std::ofstream(chip / "temp2_input") << "41500\n";
    fs::create_directories(dir.path() / "hwmon1");
    std::ofstream(dir.path() / "hwmon1" / "name") << "nothing\n";
    EXPECT_EQ(boost::json::serialize(read_hwmon(dir.path())),
              R"({"coretemp":[{"label":"Package id 0","current":4.5E1,"high":8E1,"critical":1E2},)"
              R"({"label":"","current":4.15E1,"high":null,"critical":null}]})");
    EXPECT_TRUE(read_hwmon(dir.path() / "none").empty());
    EXPECT_EQ(find_in_path("sh", "/nonexistent:/bin:/usr/bin").value_or("").filename(), "sh");
    EXPECT_FALSE(find_in_path("surely-no-such-program", "/bin:/usr/bin").has_value());
    auto out = run_program({"/bin/echo", "a,b"});
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(*out, "a,b\n");
    EXPECT_FALSE(run_program({"/nonexistent/prog"}).has_value());
}

TEST(TelemetryTest, NvmlLoadFailuresAreReported) {
    auto missing = NvmlReader::load("libsurely-not-nvml.so.1");
    ASSERT_FALSE(missing.has_value());
    EXPECT_THAT(missing.error().message(), HasSubstr("cannot load libsurely-not-nvml.so.1"));
    auto not_nvml = NvmlReader::load("libc.so.6");
    ASSERT_FALSE(not_nvml.has_value());
    EXPECT_EQ(not_nvml.error().message(), "libc.so.6 lacks an NVML entry point");
}

TEST(TelemetryTest, SamplerAnswersSystemMonitorAndGpu) {
    TelemetrySampler sampler("/");
    EXPECT_EQ(boost::json::serialize(sampler.system_monitor()),
              R"({"available":false,"reason":"No sample yet"})");
    sampler.sample_once();
    sampler.sample_once();
    const auto sys = sampler.system_monitor();
    EXPECT_EQ(sys.at("available"), true);
    EXPECT_GT(sys.at("cpu").at("logical_count").as_uint64(), 0U);
    EXPECT_EQ(sys.at("cpu").at("per_core").as_array().size(),
              sys.at("cpu").at("logical_count").as_uint64());
    EXPECT_GT(sys.at("memory").at("total").as_uint64(), 0U);
    EXPECT_EQ(sys.at("disk").at("path"), "/");
    EXPECT_GT(sys.at("disk").at("total").as_uint64(), 0U);
    EXPECT_EQ(sys.at("platform").at("system"), "Linux");
    sampler.start();
    const auto gpu = sampler.gpu_telemetry();
    sampler.stop();
    // This machine may or may not have nvidia-smi; either answer has the documented shape.
    if (gpu.at("available").as_bool()) {
        EXPECT_TRUE(gpu.at("gpus").is_array());
    } else {
        EXPECT_TRUE(gpu.at("reason").is_string());
    }
}

}  // namespace
}  // namespace runicorn::http_plugin
