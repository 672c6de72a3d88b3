#include "paths_routes.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/json/array.hpp>

#include "../archive/archive_routes.hpp"
#include "../responses.hpp"
#include "api_common.hpp"
#include "api_json.hpp"
#include "run_json.hpp"

namespace runicorn::http_plugin::api {
namespace {

using plugin::HttpRequest;
using plugin::HttpResponse;

/// Every non-deleted run matching `path` (prefix rule; `exact` for equality), or all runs.
Result<plugin::RunPage> runs_under(const ApiState& state, std::optional<std::string> path,
                                   bool exact) {
    plugin::RunQuery q;
    q.count = false;
    q.path = std::move(path);
    q.exact_path = exact;
    return state.store()->list_runs(q);
}

/// Sorted distinct run paths of `runs` (root-path runs left out).
std::vector<std::string> distinct_paths(const plugin::RunPage& runs) {
    std::set<std::string> set;
    for (const plugin::RunInfo& run : runs.runs) {
        if (run.location.path && !run.location.path->empty()) {
            set.insert(*run.location.path);
        }
    }
    return {set.begin(), set.end()};
}

boost::json::array string_array(const std::vector<std::string>& items) {
    boost::json::array out;
    for (const std::string& s : items) {
        out.emplace_back(s);
    }
    return out;
}

HttpResponse get_paths(ApiState& state, const HttpRequest& request) {
    bool include_stats = false;
    if (auto err = query_bool(request, "include_stats", include_stats)) {
        return err.value();
    }
    Result<plugin::RunPage> runs = runs_under(state, std::nullopt, false);
    if (!runs) {
        return store_failure(state, "listing runs", runs.error());
    }
    const std::vector<std::string> paths = distinct_paths(*runs);
    boost::json::object out;
    if (!include_stats) {
        out["paths"] = string_array(paths);
        out["tree"] = path_tree(paths);
        return cached_json(request, out);
    }
    Result<std::vector<plugin::PathStats>> stats = state.store()->path_stats();
    if (!stats) {
        return store_failure(state, "computing path statistics", stats.error());
    }
    std::set<std::string> keys;
    boost::json::object stats_json;
    for (const plugin::PathStats& s : *stats) {
        if (s.path.empty()) {
            continue;
        }
        keys.insert(s.path);
        boost::json::object entry;
        entry["total"] = s.total;
        entry["running"] = s.running;
        entry["finished"] = s.finished;
        entry["failed"] = s.failed;
        stats_json[s.path] = std::move(entry);
    }
    out["paths"] = string_array({keys.begin(), keys.end()});
    out["tree"] = path_tree(paths);
    out["stats"] = std::move(stats_json);
    return cached_json(request, out);
}

HttpResponse get_tree(ApiState& state, const HttpRequest& request) {
    Result<plugin::RunPage> runs = runs_under(state, std::nullopt, false);
    if (!runs) {
        return store_failure(state, "listing runs", runs.error());
    }
    boost::json::object out;
    out["tree"] = path_tree(distinct_paths(*runs));
    return cached_json(request, out);
}

HttpResponse get_path_runs(ApiState& state, const HttpRequest& request) {
    bool exact = false;
    if (auto err = query_bool(request, "exact", exact)) {
        return err.value();
    }
    Result<plugin::RunPage> runs = runs_under(state, request.query_value("path"), exact);
    if (!runs) {
        return store_failure(state, "listing runs", runs.error());
    }
    const double now = unix_now();
    boost::json::array items;
    for (const plugin::RunInfo& run : runs->runs) {
        items.emplace_back(run_list_item(run, {}, now));
    }
    return cached_json(request, items);
}

HttpResponse soft_delete_path(ApiState& state, const HttpRequest& request) {
    boost::json::object body;
    if (auto err = object_body(request, body)) {
        return err.value();
    }
    const boost::json::value* path = body.if_contains("path");
    if (path == nullptr) {
        return validation_error({"body", "path"}, "field required", "value_error.missing");
    }
    if (!path->is_string()) {
        return validation_error({"body", "path"}, "str type expected", "type_error.str");
    }
    bool exact = false;
    if (const boost::json::value* e = body.if_contains("exact")) {
        if (!e->is_bool()) {
            return validation_error({"body", "exact"}, "value could not be parsed to a boolean",
                                    "type_error.bool");
        }
        exact = e->as_bool();
    }
    const std::string p(path->as_string());
    if (p.empty()) {
        return error_response(400, "Path is required");
    }
    Result<plugin::RunPage> runs = runs_under(state, p, exact);
    if (!runs) {
        return store_failure(state, "listing runs", runs.error());
    }
    std::size_t deleted = 0;
    boost::json::array errors;
    for (const plugin::RunInfo& run : runs->runs) {
        const Status s = state.store()->soft_delete(run.location.run_id, "path_batch_delete");
        if (s.is_ok()) {
            ++deleted;
        } else {
            errors.emplace_back(run.location.run_id + ": " + s.message());
        }
    }
    boost::json::object out;
    out["path"] = p;
    out["deleted_count"] = deleted;
    if (errors.empty()) {
        out["errors"] = nullptr;
    } else {
        out["errors"] = std::move(errors);
    }
    out["message"] = "Moved " + std::to_string(deleted) + " runs to recycle bin";
    return json_response(200, out);
}

HttpResponse export_path(ApiState& state, const HttpRequest& request) {
    const std::optional<std::string> path = request.query_value("path");
    if (!path) {
        return validation_error({"query", "path"}, "field required", "value_error.missing");
    }
    bool exact = false;
    if (auto err = query_bool(request, "exact", exact)) {
        return err.value();
    }
    const std::string format = request.query_value("format").value_or("json");
    const bool archive_format = format == "zip" || format == "tar.gz";
    if (!archive_format && format != "json") {
        return error_response(400, "Unsupported format: " + format);
    }
    Result<plugin::RunPage> runs = runs_under(state, *path, exact);
    if (!runs) {
        return store_failure(state, "listing runs", runs.error());
    }
    boost::json::array items;
    for (const plugin::RunInfo& run : runs->runs) {
        boost::json::object item;
        item["run_id"] = run.location.run_id;
        item["path"] = run.location.path ? boost::json::value(*run.location.path)
                                         : boost::json::value(nullptr);
        item["alias"] = run.alias ? boost::json::value(*run.alias) : boost::json::value(nullptr);
        item["status"] = run.status;
        item["created_time"] = compat_number(created_time(run));
        boost::json::value summary = run.summary;
        null_non_finite(summary);
        item["summary"] = std::move(summary);
        boost::json::value meta = run.meta;
        null_non_finite(meta);
        item["meta"] = std::move(meta);
        items.emplace_back(std::move(item));
    }
    if (archive_format) {
        return archive::path_export_archive(state.storage_root(), state.version(), runs->runs,
                                            std::move(items), *path, format);
    }
    boost::json::object out;
    out["path"] = *path;
    out["exact"] = exact;
    out["total_runs"] = items.size();
    out["runs"] = std::move(items);
    return json_response(200, out);
}

HttpResponse get_projects(ApiState& state, const HttpRequest& request) {
    Result<plugin::RunPage> runs = runs_under(state, std::nullopt, false);
    if (!runs) {
        return store_failure(state, "listing runs", runs.error());
    }
    std::set<std::string> projects;
    for (const std::string& p : distinct_paths(*runs)) {
        projects.insert(p.substr(0, p.find('/')));
    }
    boost::json::object out;
    out["projects"] = string_array({projects.begin(), projects.end()});
    return cached_json(request, out);
}

HttpResponse get_names(ApiState& state, const HttpRequest& request) {
    const std::string project = request.param("project").value_or("");
    Result<plugin::RunPage> runs = runs_under(state, project, false);
    if (!runs) {
        return store_failure(state, "listing runs", runs.error());
    }
    std::set<std::string> names;
    for (const std::string& p : distinct_paths(*runs)) {
        if (p.size() <= project.size() + 1) {
            continue;  // runs directly in the project have no name segment
        }
        const std::string rest = p.substr(project.size() + 1);
        names.insert(rest.substr(0, rest.find('/')));
    }
    boost::json::object out;
    out["names"] = string_array({names.begin(), names.end()});
    return cached_json(request, out);
}

HttpResponse get_name_runs(ApiState& state, const HttpRequest& request) {
    const std::string prefix =
        request.param("project").value_or("") + "/" + request.param("name").value_or("");
    Result<plugin::RunPage> runs = runs_under(state, prefix, false);
    if (!runs) {
        return store_failure(state, "listing runs", runs.error());
    }
    boost::json::array items;
    for (const plugin::RunInfo& run : runs->runs) {
        boost::json::object item;
        item["run_id"] = run.location.run_id;
        item["path"] = run.location.path ? boost::json::value(*run.location.path)
                                         : boost::json::value(nullptr);
        item["alias"] = run.alias ? boost::json::value(*run.alias) : boost::json::value(nullptr);
        item["status"] = run.status;
        item["start_time"] = compat_number(created_time(run));
        items.emplace_back(std::move(item));
    }
    return cached_json(request, items);
}

}  // namespace

boost::json::object path_tree(const std::vector<std::string>& paths) {
    boost::json::object tree;
    for (const std::string& path : paths) {
        boost::json::object* node = &tree;
        std::size_t pos = 0;
        while (pos <= path.size()) {
            std::size_t slash = path.find('/', pos);
            if (slash == std::string::npos) {
                slash = path.size();
            }
            const std::string seg = path.substr(pos, slash - pos);
            if (!seg.empty()) {
                boost::json::value& child = (*node)[seg];
                if (!child.is_object()) {
                    child = boost::json::object();
                }
                node = &child.as_object();
            }
            pos = slash + 1;
        }
    }
    return tree;
}

Status add_path_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state) {
    RUNICORN_RETURN_IF_ERROR(add_route(routes, {"GET", "/api/paths", "Run paths and tree", true},
                                       with_store(state, get_paths)));
    RUNICORN_RETURN_IF_ERROR(add_route(routes, {"GET", "/api/paths/tree", "Run path tree", true},
                                       with_store(state, get_tree)));
    RUNICORN_RETURN_IF_ERROR(add_route(routes,
                                       {"GET", "/api/paths/runs", "Runs under a path", true},
                                       with_store(state, get_path_runs)));
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"POST", "/api/paths/soft-delete", "Soft-delete every run under a path", true},
        with_store(state, soft_delete_path)));
    RUNICORN_RETURN_IF_ERROR(
        add_route(routes, {"GET", "/api/paths/export", "Export the runs under a path", true},
                  with_store(state, export_path)));
    RUNICORN_RETURN_IF_ERROR(add_route(routes, {"GET", "/api/projects", "Projects", true},
                                       with_store(state, get_projects)));
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"GET", "/api/projects/:project/names", "Experiment names of a project", true},
        with_store(state, get_names)));
    RUNICORN_RETURN_IF_ERROR(add_route(
        routes, {"GET", "/api/projects/:project/names/:name/runs", "Runs of an experiment", true},
        with_store(state, get_name_runs)));
    return Status::ok();
}

}  // namespace runicorn::http_plugin::api
