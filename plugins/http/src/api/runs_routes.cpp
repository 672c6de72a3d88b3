#include "runs_routes.hpp"

#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <runicorn/filter/filter.hpp>

#include "../responses.hpp"
#include "api_common.hpp"
#include "run_json.hpp"
#include "run_list_params.hpp"

namespace runicorn::http_plugin::api {
namespace {

namespace fs = std::filesystem;
using plugin::HttpRequest;
using plugin::HttpResponse;

constexpr std::size_t kMaxSoftDelete = 100;
constexpr std::size_t kMaxRestore = 100;
constexpr std::size_t kMaxPermanentDelete = 50;

/// The `run_ids` list of a batch body (API.md §2.2): 1..max entries, each a valid run id.
std::optional<HttpResponse> parse_run_ids(const boost::json::object& body, std::size_t max,
                                          std::string_view too_many,
                                          std::vector<std::string>& out) {
    const boost::json::value* ids = body.if_contains("run_ids");
    if (ids == nullptr || !ids->is_array() || ids->as_array().empty()) {
        return error_response(400, "run_ids is required and must be a list");
    }
    if (ids->as_array().size() > max) {
        return error_response(400, too_many);
    }
    for (const boost::json::value& id : ids->as_array()) {
        if (!id.is_string()) {
            return invalid_run_id(boost::json::serialize(id));
        }
        const std::string s(id.as_string());
        if (!valid_run_id(s)) {
            return invalid_run_id(s);
        }
        out.push_back(s);
    }
    return std::nullopt;
}

std::string count_message(std::string_view verb, std::size_t done, std::size_t total) {
    return std::string(verb) + " " + std::to_string(done) + " of " + std::to_string(total) +
           " runs";
}

/// The outcome of one permanent deletion.
struct PurgeResult {
    boost::json::object body;
    bool found = true;
    bool success = false;
    std::uint64_t bytes_freed = 0;
    std::string first_error;
};

PurgeResult permanent_delete(const ApiState& state, const std::string& run_id, bool dry_run) {
    PurgeResult r;
    plugin::RunStore& store = *state.store();
    boost::json::array errors;
    bool run_dir_deleted = false;
    std::uint64_t outputs_deleted = 0;
    Result<plugin::RunInfo> found = store.find_run(run_id, /*include_deleted=*/true);
    if (!found) {
        r.found = found.error().code() != StatusCode::kNotFound;
        r.first_error = r.found ? found.error().message() : "run not found";
        errors.emplace_back(r.first_error);
    } else {
        const fs::path run_dir = found->location.dir;
        const fs::path rolling = state.storage_root() / "archive" / "outputs" / "rolling" / run_id;
        const TreeTally dir_tally = tally_tree(run_dir);
        const TreeTally rolling_tally = tally_tree(rolling);
        if (dry_run) {
            r.success = true;
            r.bytes_freed = dir_tally.bytes + rolling_tally.bytes;
            outputs_deleted = rolling_tally.files;
        } else {
            bool soft_deleted_here = false;
            Status s = Status::ok();
            if (!found->location.deleted) {
                s = store.soft_delete(run_id, "permanent_delete");
                soft_deleted_here = s.is_ok();
            }
            if (s.is_ok()) {
                s = store.purge(run_id);
            }
            if (!s.is_ok()) {
                if (soft_deleted_here) {
                    (void)store.restore(run_id);
                }
                r.first_error = s.message();
                errors.emplace_back(r.first_error);
            } else {
                r.success = true;
                std::error_code ec;
                run_dir_deleted = !fs::exists(run_dir, ec);
                const bool rolling_gone = !fs::exists(rolling, ec);
                if (run_dir_deleted) {
                    r.bytes_freed += dir_tally.bytes;
                }
                if (rolling_gone) {
                    r.bytes_freed += rolling_tally.bytes;
                    outputs_deleted = rolling_tally.files;
                }
            }
        }
    }
    boost::json::object& b = r.body;
    b["success"] = r.success;
    b["run_id"] = run_id;
    b["run_dir_deleted"] = run_dir_deleted;
    b["orphaned_assets"] = boost::json::array();
    b["kept_assets"] = boost::json::array();
    b["blobs_deleted"] = 0;
    b["manifests_deleted"] = 0;
    b["outputs_deleted"] = outputs_deleted;
    b["bytes_freed"] = r.bytes_freed;
    b["errors"] = std::move(errors);
    if (dry_run) {
        b["dry_run"] = true;
    }
    return r;
}

HttpResponse list_runs(ApiState& state, const HttpRequest& request) {
    RunListParams params;
    if (auto err = parse_run_list_params(request, params)) {
        return err.value();
    }
    Result<plugin::RunPage> page = state.store()->list_runs(params.query);
    if (!page) {
        if (std::optional<filter::Error> bad = filter::error_from_status(page.error())) {
            boost::json::object detail;
            detail["code"] = filter::error_code_name(bad->code);
            detail["message"] = bad->message;
            detail["position"] = bad->position;
            return structured_error_response(400, filter::error_code_name(bad->code), detail);
        }
        if (page.error().code() == StatusCode::kInvalidArgument) {
            return error_response(400, "INVALID_CURSOR", page.error().message());
        }
        return store_failure(state, "listing runs", page.error());
    }
    const double now = unix_now();
    boost::json::array items;
    items.reserve(page->runs.size());
    for (const plugin::RunInfo& run : page->runs) {
        items.emplace_back(run_list_item(run, params.includes, now));
    }
    plugin::HeaderList headers;
    if (params.query.count) {
        headers.emplace_back("X-Total-Count", std::to_string(page->total));
    }
    if (!page->next_cursor.empty()) {
        headers.emplace_back("X-Next-Cursor", page->next_cursor);
        headers.emplace_back(
            "Link", "<" + link_with_cursor(request.path, request.query, page->next_cursor) +
                        ">; rel=\"next\"");
    }
    return cached_json(request, items, std::move(headers));
}

HttpResponse get_run(ApiState& state, const HttpRequest& request) {
    const std::string id = request.param("run_id").value_or("");
    Result<plugin::RunInfo> run = state.store()->find_run(id, false);
    if (!run) {
        return store_failure(state, "reading run " + id, run.error());
    }
    boost::json::object body = run_detail(*run, unix_now());
    // last_step comes from the series cache (parsed once, then read incrementally); a run whose
    // events cannot be read keeps null rather than failing the whole detail.
    if (const auto& series = state.series()) {
        if (auto keys = series->metric_keys(run->location.run_id)) {
            if (const auto* last = keys->if_contains("last_step");
                last != nullptr && last->is_int64()) {
                body["last_step"] = last->get_int64();
            }
        }
    }
    return json_response(200, body);
}

HttpResponse patch_run(ApiState& state, const HttpRequest& request) {
    const std::string id = request.param("run_id").value_or("");
    if (!valid_run_id(id)) {
        return invalid_run_id(id);
    }
    boost::json::object body;
    if (auto err = object_body(request, body)) {
        return err.value();
    }
    plugin::RunUpdate update;
    if (const boost::json::value* alias = body.if_contains("alias")) {
        if (alias->is_null()) {
            update.alias = std::optional<std::string>();
        } else if (alias->is_string()) {
            update.alias = std::optional<std::string>(std::string(alias->as_string()));
        } else {
            return validation_error({"body", "alias"}, "str type expected", "type_error.str");
        }
    }
    if (const boost::json::value* tags = body.if_contains("tags")) {
        if (tags->is_array()) {
            std::vector<std::string> list;
            std::size_t i = 0;
            for (const boost::json::value& t : tags->as_array()) {
                if (!t.is_string()) {
                    return validation_error({"body", "tags", std::to_string(i)},
                                            "str type expected", "type_error.str");
                }
                list.emplace_back(t.as_string());
                ++i;
            }
            update.tags = std::move(list);
        } else if (!tags->is_null()) {
            return validation_error({"body", "tags"}, "value is not a valid list",
                                    "type_error.list");
        }
    }
    Result<plugin::RunInfo> run = state.store()->update_run(id, update);
    if (!run) {
        return store_failure(state, "updating run " + id, run.error());
    }
    boost::json::object out;
    out["ok"] = true;
    out["alias"] = run->alias ? boost::json::value(*run->alias) : boost::json::value(nullptr);
    boost::json::array tags;
    for (const std::string& t : run->tags) {
        tags.emplace_back(t);
    }
    out["tags"] = std::move(tags);
    return json_response(200, out);
}

HttpResponse run_assets_route(ApiState& state, const HttpRequest& request) {
    const std::string id = request.param("run_id").value_or("");
    Result<plugin::RunInfo> run = state.store()->find_run(id, false);
    if (!run) {
        return store_failure(state, "reading run " + id, run.error());
    }
    boost::json::object out;
    out["run_id"] = id;
    out["assets"] = run_assets(*run);
    out["assets_count"] = run->assets_count;
    return json_response(200, out);
}

/// Runs `op` on each id and reports each as v0.6 does (API.md §2.2): {"success": true}, or
/// {"success": false, "error": "run not found" | `precondition_error` (FAILED_PRECONDITION) |
/// the store's message}. `succeeded` counts the successes.
boost::json::object per_run_results(const std::vector<std::string>& ids,
                                    const std::function<Status(const std::string&)>& op,
                                    std::string_view precondition_error, std::size_t& succeeded) {
    boost::json::object results;
    for (const std::string& id : ids) {
        boost::json::object r;
        const Status s = op(id);
        r["success"] = s.is_ok();
        if (s.is_ok()) {
            ++succeeded;
        } else if (s.code() == StatusCode::kNotFound) {
            r["error"] = "run not found";
        } else if (s.code() == StatusCode::kFailedPrecondition) {
            r["error"] = precondition_error;
        } else {
            r["error"] = s.message();
        }
        results[id] = std::move(r);
    }
    return results;
}

HttpResponse soft_delete(ApiState& state, const HttpRequest& request) {
    boost::json::object body;
    if (auto err = object_body(request, body)) {
        return err.value();
    }
    std::vector<std::string> ids;
    if (auto err =
            parse_run_ids(body, kMaxSoftDelete, "Cannot delete more than 100 runs at once", ids)) {
        return err.value();
    }
    std::size_t done = 0;
    boost::json::object results = per_run_results(
        ids, [&](const std::string& id) { return state.store()->soft_delete(id, "user_deleted"); },
        "already deleted", done);
    boost::json::object out;
    out["deleted_count"] = done;
    out["results"] = std::move(results);
    out["message"] = count_message("Soft deleted", done, ids.size());
    return json_response(200, out);
}

HttpResponse recycle_bin(ApiState& state, const HttpRequest& request) {
    plugin::RunQuery q;
    q.deleted = plugin::DeletedFilter::kOnly;
    q.count = false;
    Result<plugin::RunPage> page = state.store()->list_runs(q);
    if (!page) {
        return store_failure(state, "listing deleted runs", page.error());
    }
    boost::json::array runs;
    for (const plugin::RunInfo& run : page->runs) {
        runs.emplace_back(recycle_bin_entry(run));
    }
    boost::json::object out;
    out["deleted_runs"] = std::move(runs);
    return cached_json(request, out);
}

HttpResponse restore(ApiState& state, const HttpRequest& request) {
    boost::json::object body;
    if (auto err = object_body(request, body)) {
        return err.value();
    }
    std::vector<std::string> ids;
    if (auto err =
            parse_run_ids(body, kMaxRestore, "Cannot restore more than 100 runs at once", ids)) {
        return err.value();
    }
    std::size_t done = 0;
    boost::json::object results = per_run_results(
        ids, [&](const std::string& id) { return state.store()->restore(id); }, "run not deleted",
        done);
    boost::json::object out;
    out["restored_count"] = done;
    out["results"] = std::move(results);
    out["message"] = count_message("Restored", done, ids.size());
    return json_response(200, out);
}

HttpResponse empty_bin(ApiState& state, const HttpRequest& request) {
    boost::json::object body;
    if (auto err = object_body(request, body)) {
        return err.value();
    }
    const boost::json::value* confirm = body.if_contains("confirm");
    if (confirm == nullptr || !confirm->is_bool() || !confirm->as_bool()) {
        return error_response(400, "CONFIRM_REQUIRED",
                              "Must set confirm=true to permanently delete");
    }
    plugin::RunQuery q;
    q.deleted = plugin::DeletedFilter::kOnly;
    q.count = false;
    Result<plugin::RunPage> page = state.store()->list_runs(q);
    if (!page) {
        return store_failure(state, "listing deleted runs", page.error());
    }
    std::size_t done = 0;
    std::uint64_t bytes = 0;
    boost::json::array errors;
    for (const plugin::RunInfo& run : page->runs) {
        PurgeResult r = permanent_delete(state, run.location.run_id, false);
        if (r.success) {
            ++done;
            bytes += r.bytes_freed;
        } else {
            errors.emplace_back(run.location.run_id + ": " + r.first_error);
        }
    }
    boost::json::object out;
    out["permanently_deleted"] = done;
    out["message"] = "Permanently deleted " + std::to_string(done) + " runs";
    out["blobs_deleted"] = 0;
    out["bytes_freed"] = bytes;
    out["errors"] = std::move(errors);
    return json_response(200, out);
}

HttpResponse delete_permanent(ApiState& state, const HttpRequest& request) {
    const std::string id = request.param("run_id").value_or("");
    if (!valid_run_id(id)) {
        return invalid_run_id(id);
    }
    bool dry_run = false;
    if (auto err = query_bool(request, "dry_run", dry_run)) {
        return err.value();
    }
    PurgeResult r = permanent_delete(state, id, dry_run);
    if (!r.found) {
        return run_not_found();
    }
    if (!r.success) {
        return error_response(500, "DELETE_FAILED", r.first_error);
    }
    return json_response(200, r.body);
}

HttpResponse batch_permanent(ApiState& state, const HttpRequest& request) {
    boost::json::object body;
    if (auto err = object_body(request, body)) {
        return err.value();
    }
    std::vector<std::string> ids;
    if (auto err = parse_run_ids(body, kMaxPermanentDelete,
                                 "Cannot delete more than 50 runs at once", ids)) {
        return err.value();
    }
    bool dry_run = false;
    if (const boost::json::value* d = body.if_contains("dry_run")) {
        if (!d->is_bool()) {
            return validation_error({"body", "dry_run"}, "value could not be parsed to a boolean",
                                    "type_error.bool");
        }
        dry_run = d->as_bool();
    }
    boost::json::object results;
    std::size_t done = 0;
    std::uint64_t bytes = 0;
    for (const std::string& id : ids) {
        PurgeResult r = permanent_delete(state, id, dry_run);
        if (r.success) {
            ++done;
            bytes += r.bytes_freed;
        }
        results[id] = std::move(r.body);
    }
    boost::json::object out;
    out["deleted_count"] = done;
    out["total_runs"] = ids.size();
    out["total_blobs_deleted"] = 0;
    out["total_bytes_freed"] = bytes;
    out["dry_run"] = dry_run;
    out["results"] = std::move(results);
    return json_response(200, out);
}

}  // namespace

Status add_run_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state) {
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"GET", "/api/runs", "List runs", true}, with_store(state, list_runs)));
    RUNICORN_RETURN_IF_ERROR(add_route(routes, {"GET", "/api/runs/:run_id", "One run", true},
                                       with_store(state, get_run)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"PATCH", "/api/runs/:run_id", "Change a run's alias and tags", true},
                  with_store(state, patch_run)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"GET", "/api/runs/:run_id/assets", "A run's assets.json", true},
                  with_store(state, run_assets_route)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"GET", "/api/runs/:run_id/progress", "Progress (stub, as v0.6)", true},
                  [](const HttpRequest& /*request*/) {
                      boost::json::object out;
                      out["available"] = false;
                      out["status"] = "unknown";
                      return json_response(200, out);
                  }));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"POST", "/api/runs/soft-delete", "Move runs to the recycle bin", true},
                  with_store(state, soft_delete)));
    RUNICORN_RETURN_IF_ERROR(add_route(routes,
                                       {"GET", "/api/recycle-bin", "Soft-deleted runs", true},
                                       with_store(state, recycle_bin)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"POST", "/api/recycle-bin/restore", "Restore soft-deleted runs", true},
                  with_store(state, restore)));
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes,
        {"POST", "/api/recycle-bin/empty", "Permanently delete every soft-deleted run", true},
        with_store(state, empty_bin)));
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"DELETE", "/api/runs/:run_id/permanent", "Permanently delete a run", true},
        with_store(state, delete_permanent)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"POST", "/api/runs/permanent-delete", "Permanently delete runs", true},
                  with_store(state, batch_permanent)));
    return Status::ok();
}

}  // namespace runicorn::http_plugin::api
