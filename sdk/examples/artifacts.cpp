// Artifacts with the C++ SDK (SDK.md §2.4, FORMAT.md §7.6): one run logs a model artifact, a
// second run uses it and downloads its files.
//
//   runicorn_example_artifacts [storage-root]
//
// Without an argument the storage root comes from RUNICORN_DIR, config.json or ./.runicorn.
// Artifacts live in the dedup plugin's blob store: without that plugin the calls return
// UNAVAILABLE and the example exits with 1.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <runicorn/runicorn.hpp>

namespace {

int fail(const char* what, const runicorn::Status& s) {
    std::fprintf(stderr, "%s: %s\n", what, s.to_string().c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    namespace fs = std::filesystem;
    const std::string storage = argc > 1 ? argv[1] : "";

    // Files to publish: normally written by the training loop.
    const fs::path ckpt = fs::temp_directory_path() / "runicorn_example_ckpt";
    fs::create_directories(ckpt);
    std::ofstream(ckpt / "model.bin", std::ios::binary) << "weights of step 1000\n";
    std::ofstream(ckpt / "config.json") << R"({"layers": 4})"
                                        << "\n";

    // ---- Run 1: train and log version N of "tiny-model" with the alias "production".
    {
        auto r = runicorn::init({.path = "examples/artifacts/train", .storage = storage});
        if (!r) {
            return fail("init", r.error());
        }
        runicorn::Run run = std::move(r).value();
        run.log({{"loss", 0.1}}, {.step = 1000});

        runicorn::Artifact model("tiny-model", "model");
        model.set_description("the example's weights");
        if (auto s = model.set_metadata(runicorn::Json::object({{"loss", 0.1}})); !s.is_ok()) {
            return fail("set_metadata", s);
        }
        if (auto s = model.add_dir(ckpt); !s.is_ok()) {  // every file, at the artifact root
            return fail("add_dir", s);
        }
        const std::vector<std::string> aliases = {"production"};
        auto v = run.log_artifact(model, aliases);
        if (!v) {
            return fail("log_artifact", v.error());
        }
        // Logging unchanged files again reuses the latest version (deduplicated() is true).
        std::printf("logged %s:v%d (%llu files, deduplicated=%d)\n", v->name().c_str(),
                    v->version(), static_cast<unsigned long long>(v->file_count()),
                    v->deduplicated() ? 1 : 0);
        (void)run.finish();
    }

    // ---- Run 2: use the "production" version and download it.
    {
        auto r = runicorn::init({.path = "examples/artifacts/eval", .storage = storage});
        if (!r) {
            return fail("init", r.error());
        }
        runicorn::Run run = std::move(r).value();
        auto v = run.use_artifact("tiny-model:production");  // recorded in artifacts.json
        if (!v) {
            return fail("use_artifact", v.error());
        }
        auto files = v->files();
        if (!files) {
            return fail("files", files.error());
        }
        for (const auto& f : *files) {
            std::printf("  %s %llu bytes sha256=%s\n", f.path.c_str(),
                        static_cast<unsigned long long>(f.size_bytes), f.sha256.c_str());
        }
        // Read-only hard links to the blobs; {.link = false} gives writable copies.
        const fs::path dest = fs::temp_directory_path() / "runicorn_example_download";
        auto dir = v->download(dest, {.overwrite = true});
        if (!dir) {
            return fail("download", dir.error());
        }
        std::ifstream in(*dir / "model.bin");
        std::string line;
        std::getline(in, line);
        std::printf("used %s:v%d, downloaded to %s: %s\n", v->name().c_str(), v->version(),
                    dir->c_str(), line.c_str());
        (void)run.finish();
    }

    // Resolving without a run records no use.
    auto latest = runicorn::artifact("tiny-model:latest", storage);
    if (!latest) {
        return fail("artifact", latest.error());
    }
    std::printf("latest is v%d\n", latest->version());
    return 0;
}
