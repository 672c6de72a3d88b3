#include "store_loader.hpp"

#include <map>
#include <mutex>

#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/base_sink.h>

#include "config.hpp"
#include "logging.hpp"
#include "plugin_host.hpp"
#include "runicorn_version.hpp"
#include "warnings.hpp"
#include "writer.hpp"
#include <dlfcn.h>

namespace runicorn::sdk {
namespace {

namespace fs = std::filesystem;

/// Forwards the plugins' warnings and errors to the SDK's warning handler.
/// Thread safety: safe for concurrent use (base_sink's mutex).
class WarningSink final : public spdlog::sinks::base_sink<std::mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        if (msg.level < spdlog::level::warn) {
            return;
        }
        const std::string logger(msg.logger_name.data(), msg.logger_name.size());
        const std::string text =
            logger + ": " + std::string(msg.payload.data(), msg.payload.size());
        // Rate-limited per distinct message; the kind is the logger ("kernel", "plugin.storage").
        if (process_warning_gate().admit(text, std::chrono::steady_clock::now()) == 0) {
            return;
        }
        Warning w;
        w.code = msg.level >= spdlog::level::err ? StatusCode::kInternal : StatusCode::kUnknown;
        w.kind = logger;
        w.message = text;
        deliver_warning({}, w);
    }
    void flush_() override {}
};

struct Host {
    std::unique_ptr<kernel::LogHub> logs;
    std::unique_ptr<kernel::PluginHost> host;
    std::shared_ptr<RunOpener> opener;
};

/// RunOpener over a plugin's RunStore. Thread safety: safe for concurrent use (RunStore is).
class StoreOpener final : public RunOpener {
public:
    StoreOpener(std::shared_ptr<plugin::RunStore> store, std::shared_ptr<plugin::BlobStore> blobs,
                std::shared_ptr<plugin::ArtifactStore> artifacts)
        : store_(std::move(store)), blobs_(std::move(blobs)), artifacts_(std::move(artifacts)) {}
    std::filesystem::path root() const override { return store_->root(); }
    Result<std::shared_ptr<plugin::RunWriter>> open_run(
        const plugin::RunCreateOptions& options) const override {
        return store_->open_run(options);
    }
    std::shared_ptr<plugin::BlobStore> blob_store() const override { return blobs_; }
    std::shared_ptr<plugin::ArtifactStore> artifact_store() const override { return artifacts_; }

private:
    std::shared_ptr<plugin::RunStore> store_;
    std::shared_ptr<plugin::BlobStore> blobs_;
    std::shared_ptr<plugin::ArtifactStore> artifacts_;
};

std::mutex& hosts_mu() {
    static auto* mu = [] {
        auto* m = new std::mutex();
        register_fork_mutex(m, ForkLockRank::kHosts);
        return m;
    }();
    return *mu;
}

/// Leaked on purpose: plugin libraries must outlive every run (atexit finishes them).
std::map<std::string, Host*>& hosts() {
    static auto* m = new std::map<std::string, Host*>();
    return *m;
}

void add_unique(std::vector<fs::path>& dirs, const fs::path& p) {
    std::error_code ec;
    fs::path norm = fs::weakly_canonical(p, ec);
    if (ec) {
        norm = p.lexically_normal();
    }
    for (const auto& d : dirs) {
        if (d == norm) {
            return;
        }
    }
    dirs.push_back(std::move(norm));
}

}  // namespace

std::vector<fs::path> bundled_plugin_dirs() {
#if defined(RUNICORN_SDK_STATIC)
    return {};
#else
    Dl_info info{};
    // Any function of this library names the file it was loaded from.
    if (::dladdr(reinterpret_cast<void*>(&bundled_plugin_dirs), &info) == 0 ||
        info.dli_fname == nullptr) {
        return {};
    }
    std::error_code ec;
    fs::path lib = fs::canonical(fs::path(info.dli_fname), ec);
    if (ec) {
        lib = fs::absolute(fs::path(info.dli_fname), ec);
    }
    const fs::path dir = lib.parent_path();
    return {dir / "plugins", dir / "runicorn" / "plugins", dir / ".." / "bin" / "plugins"};
#endif
}

std::shared_ptr<RunOpener> store_opener(std::shared_ptr<plugin::RunStore> store,
                                        std::shared_ptr<plugin::BlobStore> blobs,
                                        std::shared_ptr<plugin::ArtifactStore> artifacts) {
    return std::make_shared<StoreOpener>(std::move(store), std::move(blobs), std::move(artifacts));
}

Result<std::shared_ptr<RunOpener>> load_run_store(const std::string& storage) {
    kernel::CliOverrides cli;
    if (!storage.empty()) {
        cli.storage = storage;
    }
    RUNICORN_ASSIGN_OR_RETURN(kernel::KernelConfig cfg,
                              kernel::load_config(cli, kernel::process_env()));
    const std::string key = cfg.storage_root.string();

    std::lock_guard lock(hosts_mu());
    if (auto it = hosts().find(key); it != hosts().end()) {
        return it->second->opener;
    }
    std::vector<fs::path> dirs;
    for (const auto& d : bundled_plugin_dirs()) {
        add_unique(dirs, d);
    }
    for (const auto& d : cfg.plugin_dirs) {
        add_unique(dirs, d);
    }
    kernel::HostOptions opts;
    opts.plugin_dirs = dirs;
    // The dedup plugin serves archive copies and artifacts (SDK.md §1.10); without it runs still
    // log, and those calls warn.
    opts.enabled = std::vector<std::string>{"storage", "dedup"};
    opts.plugin_configs = cfg.plugin_configs;
    // A training process only writes: the folder watcher that keeps the catalog current belongs
    // to the viewer (and a watcher thread alive at exit() would outlive the SDK's teardown).
    auto& storage_config = opts.plugin_configs["storage"];
    if (!storage_config.is_object()) {
        storage_config = boost::json::object{};
    }
    storage_config.as_object()["watch"] = false;
    // FORMAT.md §6: `runicorn_cpp.sdk.write_runicorn_index` (default true) turns off the SDK's
    // writes to Runicorn v0.6's index/runicorn.db.
    bool write_index = true;
    if (const auto* rc = cfg.file.if_contains("runicorn_cpp"); rc != nullptr && rc->is_object()) {
        if (const auto* sdk = rc->get_object().if_contains("sdk");
            sdk != nullptr && sdk->is_object()) {
            if (const auto* v = sdk->get_object().if_contains("write_runicorn_index");
                v != nullptr && v->is_bool()) {
                write_index = v->get_bool();
            }
        }
    }
    storage_config.as_object()["write_v06_index"] = write_index;
    opts.storage_root = cfg.storage_root;
    opts.config_dir = cfg.config_dir;
    opts.version = kernel::kVersion;

    auto h = std::make_unique<Host>();
    h->logs = std::make_unique<kernel::LogHub>(
        spdlog::level::warn, std::vector<spdlog::sink_ptr>{std::make_shared<WarningSink>()});
    h->host = std::make_unique<kernel::PluginHost>(std::move(opts), *h->logs);
    h->host->load();
    h->host->init();
    h->host->start();
    auto store = h->host->find<plugin::RunStore>();
    if (store == nullptr) {
        std::string msg = "no plugin providing runicorn.run_store/1 could be loaded (searched:";
        for (const auto& d : dirs) {
            msg += " '" + d.string() + "'";
        }
        msg += ")";
        for (const auto& r : h->host->reports()) {
            if (r.state == "refused" && !r.error.empty()) {
                msg += "; plugin '" + r.id + "': " + r.error;
            }
        }
        // The host and its libraries are dropped: nothing from them is referenced.
        return Status::unavailable(std::move(msg));
    }
    h->opener = store_opener(std::move(store), h->host->find<plugin::BlobStore>(),
                             h->host->find<plugin::ArtifactStore>());
    auto opener = h->opener;
    hosts().emplace(key, h.release());
    return opener;
}

}  // namespace runicorn::sdk
