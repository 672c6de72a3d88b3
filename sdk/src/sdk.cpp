// The public C++ API (runicorn.hpp): init, the Run handle and the process-wide switches.

#include <algorithm>
#include <atomic>
#include <exception>
#include <fstream>
#include <iterator>
#include <mutex>

#include <runicorn/runicorn.hpp>

#include "config.hpp"
#include "run_core.hpp"
#include "runicorn_version.hpp"
#include "sdk_internal.hpp"
#include "store_loader.hpp"
#include "warnings.hpp"
#include "writer.hpp"

namespace runicorn {
namespace sdk {
namespace {

/// -1: no override; 0/1: set_enabled.
std::atomic<int> g_enabled_override{-1};

struct Globals {
    std::mutex mu;  // guards everything below
    std::weak_ptr<RunHandle> active;
    TestHooks hooks;
};

Globals& globals() {
    static auto* g = [] {
        auto* p = new Globals();  // leaked: used from atexit hooks
        register_fork_mutex(&p->mu, ForkLockRank::kGlobals);
        return p;
    }();
    return *g;
}

const std::string& empty_string() {
    static const auto* s = new std::string();
    return *s;
}
const std::string& disabled_id() {
    static const auto* s = new std::string("disabled");
    return *s;
}
const std::filesystem::path& empty_path() {
    static const auto* p = new std::filesystem::path();
    return *p;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return out;
}

Status check_options(const InitOptions& o) {
    using std::chrono::milliseconds;
    if (o.path && (!o.project.empty() || !o.name.empty())) {
        return Status::invalid_argument("init: give either path or project/name, not both");
    }
    if (o.flush_interval < milliseconds{1} || o.flush_interval > milliseconds{60000}) {
        return Status::invalid_argument("init: flush_interval must be between 1 ms and 60000 ms");
    }
    if (o.sync_interval < milliseconds{1}) {
        return Status::invalid_argument("init: sync_interval must be at least 1 ms");
    }
    if (o.queue_capacity == 0) {
        return Status::invalid_argument("init: queue_capacity must be at least 1 byte");
    }
    if (o.max_block < milliseconds{0}) {
        return Status::invalid_argument("init: max_block must not be negative");
    }
    if (o.heartbeat_interval < std::chrono::seconds{1}) {
        return Status::invalid_argument("init: heartbeat_interval must be at least 1 s");
    }
    if (o.finish_timeout < milliseconds{0}) {
        return Status::invalid_argument("init: finish_timeout must not be negative");
    }
    return Status::ok();
}

// ---- Code snapshot at init (sdk-docs; InitOptions::snapshot_code) ----
/// Takes the snapshot InitOptions asks for. Too large (INVALID_ARGUMENT) finishes the new run as
/// "failed" and is returned, so that init fails as Python's ValueError does (SDK.md §4.3); any
/// other failure is delivered as a "snapshot" warning and OK is returned.
Status snapshot_at_init(Run& run, const InitOptions& o) {
    SnapshotOptions so;  // empty workspace_root: the run's own
    so.format = o.snapshot_format;
    so.force = o.force_snapshot;
    auto r = run.snapshot_code(so);
    if (r.has_value()) {
        return Status::ok();
    }
    RunCore* core = RunAccess::core(run);
    if (core == nullptr) {
        return Status::ok();
    }
    if (r.error().code() == StatusCode::kInvalidArgument) {
        (void)core->finish("failed", "", 0, false);
        return r.error();
    }
    Warning w;
    w.code = r.error().code();
    w.kind = "snapshot";
    w.message = "run '" + run.id() + "': init: the code snapshot failed (" + r.error().to_string() +
                "); the run continues without one";
    deliver_warning(core->settings().on_warning, w);
    return Status::ok();
}
// ---- end code snapshot at init ----

void set_active(const std::shared_ptr<RunHandle>& h) {
    auto& g = globals();
    std::lock_guard lock(g.mu);
    g.active = h;
}

void clear_active() {
    auto& g = globals();
    std::lock_guard lock(g.mu);
    g.active.reset();
}

Result<Run> init_impl(InitOptions o, std::string_view language,
                      const std::optional<std::string>& python_version) {
    if (!is_enabled()) {
        clear_active();
        return Run();
    }
    RUNICORN_RETURN_IF_ERROR(check_options(o));
    (void)silenced();  // read RUNICORN_SILENT now, before training threads exist

    plugin::RunCreateOptions create;
    if (o.path) {
        create.path = *o.path;
    } else if (!o.project.empty() || !o.name.empty()) {
        create.path = o.project.empty() ? o.name
                      : o.name.empty()  ? o.project
                                        : o.project + "/" + o.name;
    }
    create.run_id = o.run_id;
    create.alias = o.alias;
    create.tags = o.tags;
    create.workspace_root = o.workspace_root;
    switch (o.resume) {
        case Resume::kNever:
            create.resume = plugin::RunCreateOptions::Resume::kNever;
            break;
        case Resume::kAllow:
            create.resume = plugin::RunCreateOptions::Resume::kAllow;
            break;
        case Resume::kMust:
            create.resume = plugin::RunCreateOptions::Resume::kMust;
            break;
    }
    create.writer = "runicorn-cpp/" + std::string(kernel::kVersion) + " " + std::string(language);
    create.python_version = python_version;

    TestHooks hooks;
    {
        auto& g = globals();
        std::lock_guard lock(g.mu);
        hooks = g.hooks;
    }
    std::shared_ptr<RunOpener> store = hooks.store;
    if (store == nullptr) {
        RUNICORN_ASSIGN_OR_RETURN(store, load_run_store(o.storage));
    }
    RUNICORN_ASSIGN_OR_RETURN(std::shared_ptr<plugin::RunWriter> writer, store->open_run(create));
    if (writer == nullptr) {
        return Status::internal("init: the run store returned no writer");
    }

    RunIdentity id;
    id.id = writer->run_id();
    id.path = writer->path().value_or("");
    id.alias = o.alias.value_or("");
    id.run_dir = writer->run_dir();
    id.storage_root = store->root();
    id.media_dir = id.run_dir / "media";
    id.workspace_root = writer->workspace_root();

    RunSettings s;
    s.durability = o.durability;
    s.flush_interval = o.flush_interval;
    s.sync_interval = o.sync_interval;
    s.max_block = o.max_block;
    s.finish_timeout = o.finish_timeout;
    s.heartbeat_interval = o.heartbeat_interval;
    s.queue_capacity = o.queue_capacity;
    s.finish_on_destroy = o.finish_on_destroy;
    s.handle_signals = o.handle_signals;
    s.on_warning = std::move(o.on_warning);
    if (hooks.clock != nullptr) {
        s.clock = hooks.clock;
    }

    const std::int64_t last_step = writer->last_step();
    const bool resumed = writer->resumed();
    std::optional<boost::json::object> summary;
    if (resumed) {
        summary = writer->resumed_summary();
    }
    auto core = std::make_shared<RunCore>(std::move(writer), std::move(id), std::move(s));
    core->restore(last_step, summary);
    core->set_tags(o.tags);
    core->start_heartbeat();

    install_process_hooks();
    if (o.handle_signals) {
        install_signal_handlers();
    }
    BackgroundWriter::instance().add(core);
    auto handle = std::make_shared<RunHandle>(std::move(core), std::move(store));
    Run run = RunAccess::make(handle);
    if (o.snapshot_code) {
        RUNICORN_RETURN_IF_ERROR(snapshot_at_init(run, o));
    }
    set_active(handle);
    return run;
}

}  // namespace

RunHandle::~RunHandle() {
    if (core_ && core_->settings().finish_on_destroy && !core_->finished()) {
        (void)core_->finish("finished", "", 0, false);
    }
}

void set_test_hooks(TestHooks hooks) {
    auto& g = globals();
    std::lock_guard lock(g.mu);
    g.hooks = std::move(hooks);
}

Result<Run> init_as(InitOptions options, std::string_view language,
                    const std::optional<std::string>& python_version) noexcept {
    try {
        return init_impl(std::move(options), language, python_version);
    } catch (const std::exception& e) {
        return Status::internal(std::string("init: ") + e.what());
    } catch (...) {
        return Status::internal("init: unknown exception");
    }
}

bool enabled_from_env(const std::function<std::optional<std::string>(const std::string&)>& env) {
    if (auto on = env("RUNICORN_ON")) {
        const std::string v = lower(*on);
        if (v == "0" || v == "false" || v == "no" || v == "n" || v == "off") {
            return false;
        }
    }
    if (auto mode = env("RUNICORN_MODE")) {
        if (lower(*mode) == "disabled") {
            return false;
        }
    }
    return true;
}

}  // namespace sdk

// ---- free functions ---------------------------------------------------------------------------

Result<Run> init(InitOptions options) noexcept { return sdk::init_as(std::move(options), "cpp"); }

Run init_or_noop(InitOptions options) noexcept {
    sdk::WarningHandler handler;
    try {
        handler = options.on_warning;
    } catch (...) {
        // Out of memory copying the handler: warn on stderr instead.
    }
    auto r = sdk::init_as(std::move(options), "cpp");
    if (r.has_value()) {
        return std::move(*r);
    }
    try {
        // Not rate-limited: each failed init is its own event.
        Warning w;
        w.code = r.error().code();
        w.kind = "init";
        w.message = "init failed, logging is disabled for this run: " + r.error().to_string();
        sdk::deliver_warning(handler, w);
    } catch (...) {
        // Nothing more to do.
    }
    return Run();
}

bool is_enabled() noexcept {
    const int o = sdk::g_enabled_override.load();
    if (o >= 0) {
        return o == 1;
    }
    try {
        return sdk::enabled_from_env(kernel::process_env());
    } catch (...) {
        return true;
    }
}

void set_enabled(bool enabled) noexcept { sdk::g_enabled_override.store(enabled ? 1 : 0); }
void reset_enabled() noexcept { sdk::g_enabled_override.store(-1); }

std::optional<Run> active_run() noexcept {
    std::shared_ptr<sdk::RunHandle> h;
    {
        auto& g = sdk::globals();
        std::lock_guard lock(g.mu);
        h = g.active.lock();
    }
    if (h == nullptr || h->core().finished()) {
        return std::nullopt;
    }
    return sdk::RunAccess::make(std::move(h));
}

std::string_view version() noexcept { return kernel::kVersion; }
std::string_view compat_version() noexcept { return kernel::kCompatVersion; }

// ---- Run ---------------------------------------------------------------------------------------

Run::Run() noexcept : uncaught_(std::uncaught_exceptions()) {}

Run::Run(std::shared_ptr<sdk::RunHandle> handle) noexcept
    : handle_(std::move(handle)), uncaught_(std::uncaught_exceptions()) {}

Run::~Run() {
    // The last handle decides how an unfinished run ends (SDK.md §2.5); a race between two
    // last handles falls back to RunHandle's destructor, which finishes it as "finished".
    if (handle_ && handle_.use_count() == 1 && std::uncaught_exceptions() > uncaught_) {
        auto& core = handle_->core();
        if (core.settings().finish_on_destroy && !core.finished()) {
            (void)core.finish("failed", "exception", 0, false);
        }
    }
}

Run::Run(const Run& other) noexcept
    : handle_(other.handle_), uncaught_(std::uncaught_exceptions()) {}

Run& Run::operator=(const Run& other) noexcept {
    if (this != &other) {
        handle_ = other.handle_;
        uncaught_ = std::uncaught_exceptions();
    }
    return *this;
}

Run::Run(Run&& other) noexcept
    : handle_(std::move(other.handle_)), uncaught_(std::uncaught_exceptions()) {}

Run& Run::operator=(Run&& other) noexcept {
    if (this != &other) {
        handle_ = std::move(other.handle_);
        uncaught_ = std::uncaught_exceptions();
    }
    return *this;
}

void Run::log(std::initializer_list<Field> fields, const LogOptions& options) noexcept {
    if (handle_) {
        (void)handle_->core().log(std::span<const Field>(fields.begin(), fields.size()),
                                  options.step, options.stage);
    }
}

void Run::log(std::span<const Field> fields, const LogOptions& options) noexcept {
    if (handle_) {
        (void)handle_->core().log(fields, options.step, options.stage);
    }
}

void Run::log(const std::map<std::string, MetricValue, std::less<>>& values,
              std::optional<std::int64_t> step, std::optional<std::string_view> stage) noexcept {
    if (!handle_) {
        return;
    }
    try {
        std::vector<Field> fields;
        fields.reserve(values.size());
        for (const auto& [k, v] : values) {
            fields.push_back(Field{k, v});
        }
        (void)handle_->core().log(fields, step, stage);
    } catch (...) {
        // Out of memory building the field list: the record is lost, like any dropped record.
    }
}

void Run::log_text(std::string_view text) noexcept {
    if (handle_) {
        (void)handle_->core().log_text(text);
    }
}

std::string Run::log_image(std::string_view key, std::span<const std::byte> encoded,
                           const ImageOptions& options) noexcept {
    if (!handle_) {
        return {};
    }
    auto& core = handle_->core();
    auto r = core.log_image(key, encoded, options);
    if (r.has_value()) {
        return std::move(*r);
    }
    return {};
}

std::string Run::log_image_file(std::string_view key, const std::filesystem::path& file,
                                const ImageOptions& options) noexcept {
    if (!handle_) {
        return {};
    }
    try {
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            return {};
        }
        std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                std::istreambuf_iterator<char>());
        return log_image(key, std::as_bytes(std::span<const char>(bytes)), options);
    } catch (...) {
        return {};
    }
}

Status Run::set_primary_metric(std::string_view name, Mode mode) noexcept {
    return handle_ ? handle_->core().set_primary_metric(name, mode) : Status::ok();
}

Status Run::summary(const Json& object) noexcept {
    return handle_ ? handle_->core().summary(object) : Status::ok();
}

Status Run::log_config(const ConfigOptions& options) noexcept {
    return handle_ ? handle_->core().log_config(options) : Status::ok();
}

Status Run::add_tags(std::span<const std::string> tags) noexcept {
    return handle_ ? handle_->core().add_tags(tags) : Status::ok();
}

Status Run::flush(std::chrono::milliseconds timeout) noexcept {
    return handle_ ? handle_->core().flush(timeout) : Status::ok();
}

Status Run::finish(std::string_view status) noexcept {
    return handle_ ? handle_->core().finish(status, "", 0, true) : Status::ok();
}

const std::string& Run::id() const noexcept {
    return handle_ ? handle_->core().identity().id : sdk::disabled_id();
}
const std::string& Run::path() const noexcept {
    return handle_ ? handle_->core().identity().path : sdk::empty_string();
}
const std::string& Run::alias() const noexcept {
    return handle_ ? handle_->core().identity().alias : sdk::empty_string();
}
const std::filesystem::path& Run::run_dir() const noexcept {
    return handle_ ? handle_->core().identity().run_dir : sdk::empty_path();
}
const std::filesystem::path& Run::storage_root() const noexcept {
    return handle_ ? handle_->core().identity().storage_root : sdk::empty_path();
}
const std::filesystem::path& Run::media_dir() const noexcept {
    return handle_ ? handle_->core().identity().media_dir : sdk::empty_path();
}
const std::filesystem::path& Run::workspace_root() const noexcept {
    return handle_ ? handle_->core().identity().workspace_root : sdk::empty_path();
}
bool Run::enabled() const noexcept { return handle_ != nullptr; }
bool Run::finished() const noexcept { return handle_ && handle_->core().finished(); }
RunStats Run::stats() const noexcept { return handle_ ? handle_->core().stats() : RunStats{}; }

}  // namespace runicorn
