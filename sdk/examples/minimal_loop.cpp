// A minimal training loop with the C++ SDK (SDK.md §2.5).
//
//   runicorn_example_cpp [storage-root]
//
// Without an argument the storage root comes from RUNICORN_DIR, config.json or ./.runicorn.

#include <cmath>
#include <cstdint>
#include <cstdio>

#include <runicorn/runicorn.hpp>

int main(int argc, char** argv) {
    runicorn::InitOptions options{.path = "examples/minimal", .tags = {"baseline"}};
    if (argc > 1) {
        options.storage = argv[1];
    }
    auto r = runicorn::init(std::move(options));
    if (!r) {
        std::fprintf(stderr, "%s\n", r.error().to_string().c_str());
        return 1;
    }
    runicorn::Run run = std::move(r).value();
    (void)run.set_primary_metric("acc", runicorn::Mode::kMax);

    double loss = 1.0;
    double acc = 0.0;
    for (std::int64_t step = 1; step <= 1000; ++step) {
        loss = 1.0 / std::sqrt(static_cast<double>(step));
        acc = 1.0 - loss;
        run.log({{"loss", loss}, {"acc", acc}, {"lr", 1e-3}}, {.step = step, .stage = "train"});
    }
    run.log_text("training done");
    (void)run.summary(runicorn::Json::object({{"final_loss", loss}}));
    std::printf("%s\n", run.run_dir().c_str());
    // run.finish() is optional: RAII finishes the run when `run` goes out of scope.
    return 0;
}
