#include "demo_command.hpp"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <thread>

#include <runicorn/runicorn.hpp>

#include "cli_messages.hpp"
#include "commands.hpp"
#include "plugin_dirs.hpp"
#include <signal.h>

namespace runicorn::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int /*sig*/) { g_stop.store(true); }

/// A plausible learning curve: loss falls, accuracy rises, both with noise.
struct Simulation {
    std::mt19937 rng{20261126};
    std::normal_distribution<double> noise{0.0, 1.0};

    double loss(std::int64_t step, int total) {
        const double t = static_cast<double>(step) / total;
        return 2.3 * std::exp(-4.0 * t) + 0.08 + 0.03 * noise(rng);
    }
    double accuracy(std::int64_t step, int total) {
        const double t = static_cast<double>(step) / total;
        return std::min(0.99, 0.1 + 0.85 * (1.0 - std::exp(-5.0 * t)) + 0.01 * noise(rng));
    }
};

}  // namespace

int run_demo(const GlobalOptions& g, const DemoOptions& options) {
    // The SDK finds the storage plugin through RUNICORN_PLUGIN_PATH; point it at the plugins that
    // came with this executable (and keep the user's own directories after them).
    set_sdk_plugin_path();

    runicorn::InitOptions init;
    init.path = options.path;
    init.alias = "demo";
    init.tags = {"demo"};
    if (g.overrides.storage) {
        init.storage = *g.overrides.storage;
    }
    auto opened = runicorn::init(init);
    if (!opened) {
        return fail(opened.error().message());
    }
    runicorn::Run run = *opened;
    (void)run.set_primary_metric("val_acc", runicorn::Mode::kMax);
    (void)run.log_config(runicorn::ConfigOptions{
        runicorn::Json::object({{"lr", 0.1}, {"batch_size", 64}, {"optimizer", "sgd"}}),
        runicorn::Json::object({{"model", "resnet18 (simulated)"}}), std::nullopt});

    std::cout << tr("demo.started",
                    {{"seconds", options.duration.count()}, {"dir", run.run_dir().string()}})
              << "\n"
              << tr("demo.watch") << std::endl;

    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);

    Simulation sim;
    const int total = static_cast<int>(options.duration.count()) * options.steps_per_second;
    const auto tick = std::chrono::milliseconds(1000 / options.steps_per_second);
    const int epoch_steps = std::max(1, total / 10);
    auto next = std::chrono::steady_clock::now();
    std::int64_t step = 0;
    for (; step < total && !g_stop.load(); ++step) {
        const double lr = 0.1 * std::pow(0.5, static_cast<double>(step / epoch_steps));
        run.log({{"loss", sim.loss(step, total)}, {"acc", sim.accuracy(step, total)}, {"lr", lr}},
                {.step = step + 1, .stage = "train"});
        if ((step + 1) % epoch_steps == 0) {
            const int epoch = static_cast<int>((step + 1) / epoch_steps);
            const double val_loss = sim.loss(step, total) + 0.05;
            const double val_acc = sim.accuracy(step, total) - 0.03;
            run.log({{"val_loss", val_loss}, {"val_acc", val_acc}, {"epoch", epoch}},
                    {.step = step + 1, .stage = "eval"});
            char line[160];
            std::snprintf(line, sizeof(line), "epoch %d/10: val_loss=%.4f val_acc=%.4f", epoch,
                          val_loss, val_acc);
            run.log_text(line);
        }
        next += tick;
        std::this_thread::sleep_until(next);  // pacing a live demo, not synchronisation
    }
    const bool interrupted = g_stop.load();
    (void)run.summary(runicorn::Json::object({{"steps", step}}));
    Status s = run.finish(interrupted ? "interrupted" : "finished");
    if (!s.is_ok()) {
        return fail(s.message());
    }
    std::cout << tr(interrupted ? "demo.interrupted" : "demo.finished",
                    {{"steps", step}, {"id", run.id()}})
              << "\n";
    return 0;
}

}  // namespace runicorn::cli
