#include "system_routes.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <utility>

#include "../responses.hpp"
#include "api_common.hpp"
#include "api_json.hpp"
#include "run_json.hpp"
#include <unistd.h>

#ifndef RUNICORN_BUILD_COMMIT
#define RUNICORN_BUILD_COMMIT ""
#endif
#ifndef RUNICORN_BUILD_DATE
#define RUNICORN_BUILD_DATE ""
#endif
#ifndef RUNICORN_BUILD_PLATFORM
#define RUNICORN_BUILD_PLATFORM ""
#endif

namespace runicorn::http_plugin::api {
namespace {

using plugin::HttpRequest;
using plugin::HttpResponse;

constexpr std::string_view kCompatVersion = "0.6.0";
constexpr std::string_view kApiVersion = "1.0";
constexpr std::string_view kImplementation = "runicorn-cpp";
constexpr int kFormatVersion = 1;

boost::json::value string_or_null(std::string_view s) {
    if (s.empty()) {
        return nullptr;
    }
    return boost::json::value(s);
}

HttpResponse status_check(ApiState& state, const HttpRequest& /*request*/) {
    plugin::RunQuery q;
    q.statuses = {"running"};
    q.count = false;
    Result<plugin::RunPage> running = state.store()->list_runs(q);
    if (!running) {
        return store_failure(state, "listing running runs", running.error());
    }
    std::size_t updated = 0;
    for (const plugin::RunInfo& run : running->runs) {
        // read_run() runs the liveness check and records a dead run as failed.
        Result<plugin::RunInfo> now = state.store()->read_run(run.location);
        if (now && now->status != "running") {
            ++updated;
        }
    }
    if (updated > 0) {
        (void)state.store()->refresh();
    }
    const std::size_t checked = running->runs.size();
    boost::json::object out;
    out["checked"] = checked;
    out["updated"] = updated;
    out["message"] = "Checked " + std::to_string(checked) + " running experiments, updated " +
                     std::to_string(updated) + " statuses";
    return json_response(200, out);
}

HttpResponse storage_stats(ApiState& state, const HttpRequest& /*request*/) {
    Result<boost::json::object> stats = state.stats()->get();
    if (!stats) {
        return store_failure(state, "computing storage statistics", stats.error());
    }
    return json_response(200, *stats);
}

HttpResponse environment(ApiState& state, const HttpRequest& request) {
    const std::string id = request.param("run_id").value_or("");
    Result<plugin::RunInfo> run = state.store()->find_run(id, false);
    if (!run) {
        return store_failure(state, "reading run " + id, run.error());
    }
    std::optional<boost::json::value> env = read_json_file(run->location.dir / "environment.json");
    boost::json::object out;
    if (!env || !env->is_object()) {
        out["available"] = false;
        return json_response(200, out);
    }
    null_non_finite(*env);
    out["available"] = true;
    out["environment"] = std::move(*env);
    return json_response(200, out);
}

std::string hit_rate(std::uint64_t hits, std::uint64_t misses) {
    const std::uint64_t total = hits + misses;
    const double pct =
        total == 0 ? 0.0 : 100.0 * static_cast<double>(hits) / static_cast<double>(total);
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%.1f%%", pct);
    return std::string(buf.data());
}

}  // namespace

void add_health_fields(const ApiState& state, boost::json::object& body) {
    if (state.series() != nullptr) {
        const plugin::SeriesCacheStats stats = state.series()->cache_stats();
        boost::json::object cache;
        cache["enabled"] = true;
        cache["type"] = "incremental";
        cache["hit_rate"] = hit_rate(stats.hits, stats.misses);
        cache["hits"] = stats.hits;
        cache["misses"] = stats.misses;
        cache["incremental_updates"] = stats.incremental_updates;
        cache["size"] = stats.size;
        cache["max_size"] = stats.max_size;
        body["cache"] = std::move(cache);
    }
    std::optional<boost::json::value> marker =
        read_json_file(state.storage_root() / "runicorn-store.json");
    const boost::json::value* store_id = nullptr;
    if (marker && marker->is_object()) {
        store_id = marker->as_object().if_contains("store_id");
    }
    body["store_id"] =
        (store_id != nullptr && store_id->is_string()) ? *store_id : boost::json::value();
    body["read_only"] = ::access(state.storage_root().c_str(), W_OK) != 0;
    boost::json::object catalog;
    catalog["runs"] = nullptr;
    if (state.store() != nullptr) {
        plugin::RunQuery q;
        q.limit = 1;
        if (Result<plugin::RunPage> page = state.store()->list_runs(q)) {
            catalog["runs"] = page->total;
        }
    }
    catalog["lag_ms"] = nullptr;
    body["catalog"] = std::move(catalog);
}

namespace {

/// The last add_health_fields() answer, reused for a second. Thread safety: safe for concurrent
/// use (one mutex).
class HealthCache {
public:
    void fill(const ApiState& state, boost::json::object& body) {
        constexpr auto kMaxAge = std::chrono::seconds(1);
        const auto now = std::chrono::steady_clock::now();
        std::lock_guard lock(mu_);
        if (!valid_ || now - taken_at_ >= kMaxAge) {
            fields_ = boost::json::object();
            add_health_fields(state, fields_);
            taken_at_ = now;
            valid_ = true;
        }
        for (const auto& field : fields_) {
            body[field.key()] = field.value();
        }
    }

private:
    std::mutex mu_;
    boost::json::object fields_;
    std::chrono::steady_clock::time_point taken_at_;
    bool valid_ = false;
};

}  // namespace

std::function<void(const plugin::HttpRequest&, boost::json::object&)> health_extension(
    std::weak_ptr<ApiState> state) {
    auto cache = std::make_shared<HealthCache>();
    return [state = std::move(state), cache](const plugin::HttpRequest& /*request*/,
                                             boost::json::object& body) {
        if (std::shared_ptr<ApiState> s = state.lock()) {
            cache->fill(*s, body);
        }
    };
}

boost::json::object version_body(const ApiState& state) {
    boost::json::object build;
    build["commit"] = string_or_null(RUNICORN_BUILD_COMMIT);
    build["date"] = string_or_null(RUNICORN_BUILD_DATE);
#if defined(__clang__)
    build["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    build["compiler"] = std::string("gcc ") + __VERSION__;
#else
    build["compiler"] = nullptr;
#endif
    build["platform"] = string_or_null(RUNICORN_BUILD_PLATFORM);
    boost::json::object out;
    out["version"] = state.version();
    out["compat_version"] = kCompatVersion;
    out["api_version"] = kApiVersion;
    out["implementation"] = kImplementation;
    out["build"] = std::move(build);
    out["format_version"] = kFormatVersion;
    return out;
}

Status add_system_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state) {
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"POST", "/api/status/check", "Run the liveness check of running runs now", true},
        with_store(state, status_check)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"GET", "/api/storage/stats", "Storage usage (at most 60 s old)", true},
                  with_store(state, storage_stats)));
    RUNICORN_RETURN_IF_ERROR(add_route(routes, {"GET", "/api/version", "Version and build", false},
                                       [state](const HttpRequest& /*request*/) {
                                           return json_response(200, version_body(*state));
                                       }));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"GET", "/api/environment/:run_id", "A run's captured environment", true},
                  with_store(state, environment)));
    return Status::ok();
}

}  // namespace runicorn::http_plugin::api
