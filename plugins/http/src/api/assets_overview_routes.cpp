#include "assets_overview_routes.hpp"

#include <charconv>
#include <cstdint>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <runicorn/plugin/run_store.hpp>

#include "../responses.hpp"
#include "api_common.hpp"
#include "run_list_params.hpp"

namespace runicorn::http_plugin::api {
namespace {
using plugin::HttpRequest;
using plugin::HttpResponse;

boost::json::value opt(const std::optional<std::string>& s) {
    return s ? boost::json::value(*s) : boost::json::value(nullptr);
}

boost::json::value opt(const std::optional<std::int64_t>& i) {
    return i ? boost::json::value(*i) : boost::json::value(nullptr);
}

HttpResponse list_assets(ApiState& state, const HttpRequest& request) {
    plugin::AssetQuery q;
    if (auto types = request.query_value("type")) {
        for (std::string& t : split_comma_list(*types)) {
            if (t != "code_snapshot" && t != "dataset" && t != "pretrained" && t != "output") {
                return validation_error(
                    {"query", "type"},
                    "value is not a valid enumeration member; permitted: code_snapshot, dataset, "
                    "pretrained, output",
                    "type_error.enum");
            }
            q.types.push_back(std::move(t));
        }
    }
    if (auto path = request.query_value("path")) {
        q.path = *path == "/" ? std::string() : *path;
    }
    if (auto err = query_bool(request, "exact", q.exact_path)) {
        return *err;
    }
    if (request.query_value("archived")) {
        bool archived = false;
        if (auto err = query_bool(request, "archived", archived)) {
            return *err;
        }
        q.archived = archived;
    }
    if (auto text = request.query_value("q")) {
        q.text = *text;
    }
    if (auto limit = request.query_value("limit")) {
        std::int64_t value = 0;
        const char* end = limit->data() + limit->size();
        auto [ptr, ec] = std::from_chars(limit->data(), end, value);
        if (limit->empty() || ec != std::errc() || ptr != end) {
            return validation_error({"query", "limit"}, "value is not a valid integer",
                                    "type_error.integer");
        }
        if (value < 1 || value > 1000) {
            return validation_error(
                {"query", "limit"},
                value < 1 ? "ensure this value is greater than or equal to 1"
                          : "ensure this value is less than or equal to 1000",
                value < 1 ? "value_error.number.not_ge" : "value_error.number.not_le");
        }
        q.limit = static_cast<std::size_t>(value);
    }
    if (auto cursor = request.query_value("cursor")) {
        q.cursor = *cursor;
    }
    Result<plugin::AssetPage> page = state.store()->list_assets(q);
    if (!page) {
        if (page.error().code() == StatusCode::kInvalidArgument) {
            return error_response(400, "INVALID_CURSOR", page.error().message());
        }
        if (page.error().code() == StatusCode::kUnimplemented) {
            return error_response(503, "NOT_SUPPORTED", "The run store cannot list assets");
        }
        return store_failure(state, "listing assets", page.error());
    }
    boost::json::array items;
    items.reserve(page->assets.size());
    for (const plugin::AssetGroup& g : page->assets) {
        boost::json::object item;
        item["asset_type"] = g.asset_type;
        item["fingerprint_kind"] = opt(g.fingerprint_kind);
        item["fingerprint"] = opt(g.fingerprint);
        item["archive_path"] = opt(g.archive_path);
        item["name"] = opt(g.name);
        item["source"] = opt(g.source);
        item["archived"] = g.archived;
        item["size_bytes"] = opt(g.size_bytes);
        item["file_count"] = opt(g.file_count);
        item["run_count"] = g.run_count;
        item["last_used_at"] =
            g.last_used_at ? boost::json::value(*g.last_used_at) : boost::json::value(nullptr);
        item["last_run_id"] = g.last_run_id;
        items.emplace_back(std::move(item));
    }
    boost::json::object body;
    body["assets"] = std::move(items);
    body["next_cursor"] = page->next_cursor.empty() ? boost::json::value(nullptr)
                                                    : boost::json::value(page->next_cursor);
    plugin::HeaderList headers;
    headers.emplace_back("X-Total-Count", std::to_string(page->total));
    if (!page->next_cursor.empty()) {
        headers.emplace_back("X-Next-Cursor", page->next_cursor);
    }
    return cached_json(request, body, std::move(headers));
}

}  // namespace

Status add_assets_overview_routes(plugin::HttpRoutes& routes,
                                  const std::shared_ptr<ApiState>& state) {
    return add_route(routes, {"GET", "/api/assets", "Assets across runs", false},
                     with_store(state, list_assets));
}

}  // namespace runicorn::http_plugin::api
