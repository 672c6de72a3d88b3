#include "plugin_host.hpp"

#include <algorithm>
#include <map>
#include <mutex>
#include <set>

#include <boost/dll/shared_library.hpp>
#include <boost/json.hpp>

#include <runicorn/plugin/context.hpp>
#include <runicorn/plugin/plugin.hpp>

#include "manifest.hpp"
#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

namespace runicorn::kernel {
namespace fs = std::filesystem;
namespace dll = boost::dll;
using plugin::PluginReport;

namespace {

constexpr std::string_view kKernelProvider = "kernel";

/// Returns a pointer to obj whose control block also owns `lib`, released after obj.
template <class T>
std::shared_ptr<T> tie_to_library(std::shared_ptr<T> obj,
                                  std::shared_ptr<dll::shared_library> lib) {
    if (lib == nullptr) {
        return obj;
    }
    struct Holder {
        std::shared_ptr<dll::shared_library> lib;  // destroyed last
        std::shared_ptr<T> obj;
    };
    auto holder = std::make_shared<Holder>(Holder{std::move(lib), std::move(obj)});
    T* raw = holder->obj.get();
    return std::shared_ptr<T>(std::move(holder), raw);
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace

enum class Phase { kFound, kLoaded, kInitialized, kStarted, kRefused, kDisabled };

struct PluginHost::Entry {
    PluginReport report;
    std::optional<PluginManifest> manifest;
    fs::path library_path;
    std::shared_ptr<dll::shared_library> lib;
    std::shared_ptr<plugin::Plugin> plugin;
    std::unique_ptr<Context> ctx;
    Phase phase = Phase::kFound;
};

/// The PluginContext handed to one plugin.
class PluginHost::Context final : public plugin::PluginContext {
public:
    Context(PluginHost& host, Entry& entry, boost::json::object config)
        : host_(host),
          entry_(entry),
          config_(std::move(config)),
          log_(host.logs_.get("plugin." + entry.report.id)) {}

    const std::string& plugin_id() const override { return entry_.report.id; }
    const boost::json::object& config() const override { return config_; }
    std::shared_ptr<spdlog::logger> logger() const override { return log_; }
    const fs::path& plugin_dir() const override { return entry_.manifest->dir; }
    const fs::path& storage_root() const override { return host_.options_.storage_root; }
    const fs::path& config_dir() const override { return host_.options_.config_dir; }
    std::vector<fs::path> plugin_dirs() const override { return host_.options_.plugin_dirs; }

    Status register_service(std::string_view id, std::shared_ptr<void> service) override {
        if (!contains(entry_.manifest->provides, id)) {
            return Status::invalid_argument("plugin '" + entry_.report.id +
                                            "' registers service '" + std::string(id) +
                                            "', which its plugin.json does not list under "
                                            "\"provides\"");
        }
        return host_.registry_.add(id, entry_.report.id,
                                   tie_to_library(std::move(service), entry_.lib));
    }
    std::shared_ptr<void> find_service(std::string_view id) const override {
        return host_.registry_.find(id);
    }

private:
    PluginHost& host_;
    Entry& entry_;
    boost::json::object config_;
    std::shared_ptr<spdlog::logger> log_;
};

/// The kernel's own service: version, ABI and the plugin table.
class PluginHost::Info final : public plugin::KernelInfo {
public:
    explicit Info(const PluginHost& host) : host_(host) {}
    std::string version() const override { return host_.options_.version; }
    std::string abi_version() const override { return host_.options_.abi.to_string(); }
    std::vector<PluginReport> plugins() const override { return host_.reports(); }

private:
    const PluginHost& host_;
};

PluginHost::PluginHost(HostOptions options, LogHub& logs)
    : options_(std::move(options)), logs_(logs), log_(logs.get("kernel")) {}

PluginHost::~PluginHost() { stop(); }

std::vector<PluginReport> PluginHost::reports() const {
    std::lock_guard lock(reports_mu_);
    std::vector<PluginReport> out;
    out.reserve(entries_.size());
    for (const auto& e : entries_) {
        out.push_back(e->report);
    }
    return out;
}

void PluginHost::refuse(Entry& e, std::string why) {
    log_->error("plugin '{}' from '{}' refused: {}", e.report.id, e.report.path, why);
    std::lock_guard lock(reports_mu_);
    e.phase = Phase::kRefused;
    e.report.state = "refused";
    e.report.error = std::move(why);
}

void PluginHost::discover() {
    std::map<std::string, std::string> seen_ids;  // id -> path of the first one
    for (const auto& root : options_.plugin_dirs) {
        std::error_code ec;
        if (!fs::exists(root, ec)) {
            continue;
        }
        std::vector<fs::directory_entry> items;
        fs::directory_iterator it(root, ec);
        for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
            items.push_back(*it);
        }
        if (ec) {
            std::string msg =
                "cannot read plugins directory '" + root.string() + "': " + ec.message();
            log_->error("{}", msg);
            directory_errors_.push_back(std::move(msg));
            continue;
        }
        std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) {
            return a.path().filename() < b.path().filename();
        });
        for (const auto& item : items) {
            const auto name = item.path().filename().string();
            if (name.empty() || name[0] == '.') {
                continue;
            }
            std::error_code type_ec;
            const bool is_dir = item.is_directory(type_ec);
            const bool is_lib = !is_dir && item.path().extension() == ".so";
            if (!is_dir && !is_lib) {
                continue;
            }
            auto e = std::make_unique<Entry>();
            e->report.id = is_dir ? name : item.path().stem().string();
            e->report.path = item.path().string();
            if (is_lib) {
                entries_.push_back(std::move(e));
                refuse(*entries_.back(), "missing manifest: '" + item.path().string() +
                                             "' is not in a plugin directory with a plugin.json");
                continue;
            }
            auto manifest = read_manifest(item.path());
            if (!manifest) {
                entries_.push_back(std::move(e));
                refuse(*entries_.back(), manifest.error().message());
                continue;
            }
            e->report.id = manifest->id;
            e->report.version = manifest->version;
            e->report.abi_version = manifest->abi.to_string();
            e->report.provides = manifest->provides;
            e->report.requires_services = manifest->requires_services;
            e->report.description = manifest->description;
            if (manifest->library) {
                e->library_path = item.path() / *manifest->library;
                e->report.path = e->library_path.string();
            }
            e->manifest = std::move(*manifest);
            entries_.push_back(std::move(e));
            Entry& added = *entries_.back();
            auto [pos, fresh] = seen_ids.emplace(added.report.id, added.report.path);
            if (!fresh) {
                refuse(added, "duplicate plugin id '" + added.report.id +
                                  "': already provided by '" + pos->second + "'");
            }
        }
    }
}

void PluginHost::load() {
    discover();
    if (options_.enabled) {
        for (const auto& id : *options_.enabled) {
            const bool found = std::any_of(entries_.begin(), entries_.end(),
                                           [&](const auto& e) { return e->report.id == id; });
            if (!found) {
                log_->warn("plugin '{}' is enabled in the configuration but was not found", id);
            }
        }
    }
    auto info = std::make_shared<Info>(*this);
    Status s = registry_.add(plugin::KernelInfo::kServiceId, kKernelProvider,
                             std::static_pointer_cast<plugin::KernelInfo>(info));
    if (!s.is_ok()) {
        log_->error("registering the kernel service: {}", s.message());
    }
    for (auto& e : entries_) {
        if (e->phase != Phase::kFound) {
            continue;
        }
        if (options_.enabled && !contains(*options_.enabled, e->report.id)) {
            std::lock_guard lock(reports_mu_);
            e->phase = Phase::kDisabled;
            e->report.state = "disabled";
            e->report.error = "not in the enabled plugin list";
            continue;
        }
        load_one(*e);
    }
}

void PluginHost::load_one(Entry& e) {
    const PluginManifest& m = *e.manifest;
    const std::string kernel_abi = options_.abi.to_string();
    if (!plugin::abi_compatible(options_.abi, m.abi)) {
        refuse(e, "ABI version mismatch: the plugin.json of '" + e.report.path + "' declares ABI " +
                      m.abi.to_string() + ", this kernel implements ABI " + kernel_abi);
        return;
    }
    if (!m.library) {
        if (!m.provides.empty()) {
            refuse(e, "a data-only plugin (\"library\": null) cannot provide services");
            return;
        }
        std::lock_guard lock(reports_mu_);
        e.phase = Phase::kLoaded;
        e.report.state = "loaded";
        return;
    }

    // The library must be a regular file inside the plugin directory, owned by root or us and not
    // writable by others (like ssh's StrictModes): nothing is loaded from elsewhere.
    const fs::path rel(*m.library);
    const bool escapes =
        rel.is_absolute() ||
        std::any_of(rel.begin(), rel.end(), [](const fs::path& p) { return p == ".."; });
    if (escapes) {
        refuse(e, "library '" + *m.library + "' in plugin.json must be a file inside '" +
                      m.dir.string() + "'");
        return;
    }
    struct stat st {};
    if (::lstat(e.library_path.c_str(), &st) != 0) {
        refuse(e, "library '" + e.library_path.string() + "' does not exist");
        return;
    }
    if (S_ISLNK(st.st_mode)) {
        refuse(e, "library '" + e.library_path.string() + "' is a symbolic link");
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        refuse(e, "library '" + e.library_path.string() + "' is not a regular file");
        return;
    }
    if (options_.check_permissions) {
        if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
            refuse(e, "library '" + e.library_path.string() + "' is writable by group or others");
            return;
        }
        if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
            refuse(e, "library '" + e.library_path.string() + "' is owned by uid " +
                          std::to_string(st.st_uid) + ", neither root nor the current user");
            return;
        }
    }

    auto lib = std::make_shared<dll::shared_library>();
    std::error_code ec;
    lib->load(e.library_path, ec, dll::load_mode::rtld_now | dll::load_mode::rtld_local);
    if (ec || !lib->is_loaded()) {
        const char* dl =
            ::dlerror();  // NOLINT(concurrency-mt-unsafe): the host is single-threaded here
        refuse(e, "cannot load '" + e.library_path.string() +
                      "': " + (dl != nullptr ? std::string(dl) : ec.message()));
        return;
    }

    // Read the ABI version and the build tag as data before calling anything.
    const auto missing = [&](const char* symbol) {
        refuse(e, "'" + e.library_path.string() + "' does not export '" + symbol + "'");
    };
    if (!lib->has(plugin::kAbiVersionSymbol)) {
        missing(plugin::kAbiVersionSymbol);
        return;
    }
    const auto exported =
        plugin::AbiVersion::unpack(lib->get_alias<const std::uint32_t>(plugin::kAbiVersionSymbol));
    if (!plugin::abi_compatible(options_.abi, exported)) {
        refuse(e, "ABI version mismatch: '" + e.library_path.string() + "' was built for ABI " +
                      exported.to_string() + ", this kernel implements ABI " + kernel_abi);
        return;
    }
    if (!(exported == m.abi)) {
        refuse(e, "ABI version mismatch: '" + e.library_path.string() + "' was built for ABI " +
                      exported.to_string() + ", its plugin.json declares ABI " + m.abi.to_string());
        return;
    }
    if (!lib->has(plugin::kBuildTagSymbol)) {
        missing(plugin::kBuildTagSymbol);
        return;
    }
    const std::string tag = lib->get_alias<const char* const>(plugin::kBuildTagSymbol);
    if (tag != options_.build_tag) {
        refuse(e, "build tag mismatch: '" + e.library_path.string() + "' was built with '" + tag +
                      "', this kernel with '" + options_.build_tag + "'");
        return;
    }
    if (!lib->has(plugin::kFactorySymbol)) {
        missing(plugin::kFactorySymbol);
        return;
    }
    auto& factory = lib->get_alias<plugin::FactoryFn>(plugin::kFactorySymbol);
    std::string error;
    plugin::Plugin* raw = factory(&error);
    if (raw == nullptr) {
        refuse(e, "the factory returned no plugin: " + (error.empty() ? "no reason given" : error));
        return;
    }
    // The deleter holds the library, so the plugin is destroyed before the code it runs unloads.
    e.plugin = std::shared_ptr<plugin::Plugin>(raw, [lib](plugin::Plugin* p) { delete p; });
    e.lib = std::move(lib);
    std::lock_guard lock(reports_mu_);
    e.phase = Phase::kLoaded;
    e.report.state = "loaded";
}

PluginHost::Entry* PluginHost::declared_provider(std::string_view service) const {
    for (const auto& e : entries_) {
        if (e->manifest && contains(e->manifest->provides, service)) {
            return e.get();
        }
    }
    return nullptr;
}

std::vector<PluginHost::Entry*> PluginHost::dependency_order() {
    // Which loaded plugin provides each service, per manifest. A second claim is refused.
    std::map<std::string, Entry*, std::less<>> provider;
    for (auto& e : entries_) {
        if (e->phase != Phase::kLoaded) {
            continue;
        }
        for (const auto& s : e->manifest->provides) {
            auto [it, fresh] = provider.emplace(s, e.get());
            if (!fresh) {
                refuse(*e, "service '" + s + "' is already provided by plugin '" +
                               it->second->report.id + "'");
                break;
            }
        }
    }
    // Refuse plugins whose hard requirements have no provider, until nothing changes (cascades).
    const auto provider_state = [&](const std::string& s) -> std::pair<Entry*, bool> {
        if (s == plugin::KernelInfo::kServiceId) {
            return {nullptr, true};
        }
        auto it = provider.find(s);
        if (it == provider.end()) {
            return {nullptr, false};
        }
        return {it->second, it->second->phase == Phase::kLoaded};
    };
    for (bool changed = true; changed;) {
        changed = false;
        for (auto& e : entries_) {
            if (e->phase != Phase::kLoaded || !e->manifest) {
                continue;
            }
            for (const auto& s : e->manifest->requires_services) {
                auto [p, ok] = provider_state(s);
                if (ok) {
                    continue;
                }
                if (p == nullptr) {
                    p = declared_provider(s);
                }
                if (p == nullptr) {
                    refuse(*e, "requires service '" + s + "', which no loaded plugin provides");
                } else if (p->phase == Phase::kDisabled) {
                    refuse(*e, "requires service '" + s + "', whose provider '" + p->report.id +
                                   "' is disabled");
                } else {
                    refuse(*e, "requires service '" + s + "', whose provider '" + p->report.id +
                                   "' was refused");
                }
                changed = true;
                break;
            }
        }
    }
    // Kahn's algorithm, stable in discovery order. "uses" edges order plugins only when they can:
    // when every remaining plugin waits on another, they are ignored for one round (two plugins
    // that merely use each other both load); a cycle of "requires" edges refuses its plugins.
    std::vector<Entry*> pending;
    for (auto& e : entries_) {
        if (e->phase == Phase::kLoaded && e->plugin) {
            pending.push_back(e.get());
        }
    }
    std::vector<Entry*> order;
    std::set<Entry*> placed;
    const auto waits_on_unplaced = [&](Entry* e, const std::vector<std::string>& services) {
        for (const auto& s : services) {
            auto p = provider.find(s);
            if (p != provider.end() && p->second != e && p->second->plugin &&
                p->second->phase == Phase::kLoaded && placed.count(p->second) == 0) {
                return true;
            }
        }
        return false;
    };
    // True when `start` waits, through unplaced providers of its requires/uses, on itself: only
    // such a plugin may break a soft cycle. (Breaking it with a plugin that merely waits on the
    // cycle would start that plugin before the ones it uses, e.g. dedup before http, and it
    // would find no route table.)
    const auto on_cycle = [&](Entry* start) {
        std::vector<Entry*> stack{start};
        std::set<Entry*> seen;
        while (!stack.empty()) {
            Entry* e = stack.back();
            stack.pop_back();
            for (const auto* services : {&e->manifest->requires_services, &e->manifest->uses}) {
                for (const auto& s : *services) {
                    auto p = provider.find(s);
                    if (p == provider.end() || p->second == e || !p->second->plugin ||
                        p->second->phase != Phase::kLoaded || placed.count(p->second) != 0) {
                        continue;
                    }
                    if (p->second == start) {
                        return true;
                    }
                    if (seen.insert(p->second).second) {
                        stack.push_back(p->second);
                    }
                }
            }
        }
        return false;
    };
    bool ignore_uses = false;
    while (!pending.empty()) {
        bool progressed = false;
        for (auto it = pending.begin(); it != pending.end();) {
            Entry* e = *it;
            const bool ready =
                !waits_on_unplaced(e, e->manifest->requires_services) &&
                (ignore_uses ? on_cycle(e) : !waits_on_unplaced(e, e->manifest->uses));
            if (ready) {
                order.push_back(e);
                placed.insert(e);
                it = pending.erase(it);
                progressed = true;
                if (ignore_uses) {
                    break;  // one plugin breaks the soft cycle; then honour "uses" again
                }
            } else {
                ++it;
            }
        }
        if (progressed) {
            ignore_uses = false;
            continue;
        }
        if (!ignore_uses) {
            ignore_uses = true;
            continue;
        }
        std::string names;
        for (auto* e : pending) {
            names += (names.empty() ? "" : ", ") + e->report.id;
        }
        for (auto* e : pending) {
            refuse(*e, "dependency cycle among plugins: " + names);
        }
        break;
    }
    return order;
}

void PluginHost::init() {
    order_ = dependency_order();
    for (Entry* e : order_) {
        if (e->phase != Phase::kLoaded) {
            continue;
        }
        bool missing = false;
        for (const auto& s : e->manifest->requires_services) {
            if (registry_.find(s) == nullptr) {
                const Entry* p = declared_provider(s);
                refuse(*e, "requires service '" + s + "', whose provider '" +
                               (p != nullptr ? p->report.id : std::string("?")) + "' was refused");
                missing = true;
                break;
            }
        }
        if (missing) {
            continue;
        }
        const auto* cfg = options_.plugin_configs.if_contains(e->report.id);
        e->ctx = std::make_unique<Context>(
            *this, *e,
            cfg != nullptr && cfg->is_object() ? cfg->get_object() : boost::json::object{});
        Status s;
        try {
            s = e->plugin->init(*e->ctx);
        } catch (...) {  // the guard inside the plugin should have caught it already
            s = plugin::detail::status_from_current_exception("the plugin");
        }
        if (!s.is_ok()) {
            registry_.remove_provider(e->report.id);
            refuse(*e, "init() failed: " + s.message());
            continue;
        }
        e->phase = Phase::kInitialized;
        log_->debug("plugin '{}' initialised", e->report.id);
    }
}

void PluginHost::start() {
    for (Entry* e : order_) {
        if (e->phase != Phase::kInitialized) {
            continue;
        }
        Status s;
        try {
            s = e->plugin->start();
        } catch (...) {
            s = plugin::detail::status_from_current_exception("the plugin");
        }
        if (!s.is_ok()) {
            refuse(*e, "start() failed: " + s.message());
            continue;
        }
        e->phase = Phase::kStarted;
        started_.push_back(e);
        log_->debug("plugin '{}' started", e->report.id);
    }
}

void PluginHost::stop() noexcept {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    for (auto it = started_.rbegin(); it != started_.rend(); ++it) {
        (*it)->plugin->stop();
        log_->debug("plugin '{}' stopped", (*it)->report.id);
    }
    started_.clear();
    registry_.clear();
    // Destroy plugin objects in reverse init order, then their contexts, then unload.
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
        (*it)->plugin.reset();
    }
    for (auto& e : entries_) {
        e->plugin.reset();
        e->ctx.reset();
        e->lib.reset();
    }
}

}  // namespace runicorn::kernel
