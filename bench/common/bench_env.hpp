#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>

#include <boost/json/object.hpp>

#include <sys/utsname.h>

/// What every benchmark records about where it ran (BENCHMARKS.md JSON envelope). Each benchmark
/// target defines RUNICORN_SOURCE_DIR.
namespace runicorn::bench {

/// The checkout's HEAD commit, or "unknown".
inline std::string git_commit() {
    std::string out = "unknown";
    FILE* f = ::popen("git -C \"" RUNICORN_SOURCE_DIR "\" rev-parse HEAD 2>/dev/null", "r");
    if (f == nullptr) {
        return out;
    }
    char buf[128] = {};
    if (std::fgets(buf, sizeof(buf), f) != nullptr) {
        out = buf;
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) {
            out.pop_back();
        }
    }
    ::pclose(f);
    return out;
}

/// {"cpus", "cpu" (model name), "kernel" (release)}.
inline boost::json::object host_info() {
    std::string cpu;
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            cpu = line.substr(line.find(':') + 2);
            break;
        }
    }
    struct utsname u {};
    ::uname(&u);
    return boost::json::object{{"cpus", std::thread::hardware_concurrency()},
                               {"cpu", cpu},
                               {"kernel", std::string(u.release)}};
}

}  // namespace runicorn::bench
