#pragma once

#include <chrono>
#include <string>

#include "commands.hpp"

namespace runicorn::cli {

struct DemoOptions {
    std::chrono::seconds duration{60};
    std::string path = "demo/quickstart";
    int steps_per_second = 20;
};

/// `runicorn demo`: a simulated training run that logs live metrics, console lines and a summary
/// through the C++ SDK for `duration` (Ctrl-C ends it early as "interrupted"), so a newcomer sees
/// something move in the viewer. Returns the exit code.
int run_demo(const GlobalOptions& g, const DemoOptions& options);

}  // namespace runicorn::cli
