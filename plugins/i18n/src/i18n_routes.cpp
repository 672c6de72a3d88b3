#include "i18n_routes.hpp"

#include <cstdio>

#include <boost/json.hpp>

namespace runicorn::i18n {
namespace json = boost::json;
using plugin::HttpRequest;
using plugin::HttpResponse;

namespace {

/// A route handler over a std::function (plugin-internal: never crosses the ABI as a function).
class FunctionHandler final : public plugin::RouteHandler {
public:
    explicit FunctionHandler(std::function<HttpResponse(const HttpRequest&)> fn)
        : fn_(std::move(fn)) {}
    HttpResponse handle(const HttpRequest& request) override { return fn_(request); }

private:
    std::function<HttpResponse(const HttpRequest&)> fn_;
};

/// FNV-1a 64 of the text, as 16 hex digits: a stable content version.
std::string content_hash(std::string_view text) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

std::vector<std::string> split_commas(std::string_view text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        const auto comma = std::min(text.find(',', pos), text.size());
        if (comma > pos) {
            out.emplace_back(text.substr(pos, comma - pos));
        }
        pos = comma + 1;
    }
    return out;
}

}  // namespace

json::object locales_body(const plugin::Locales& locales, const HttpRequest& request) {
    json::array list;
    for (const auto& l : locales.locales()) {
        list.push_back(json::object{{"code", l.code},
                                    {"name", l.name},
                                    {"native_name", l.native_name},
                                    {"completeness", l.completeness}});
    }
    return json::object{
        {"default", "en"},
        {"negotiated", locales.negotiate(request.query_value("lng").value_or(""),
                                         request.header("accept-language").value_or(""))},
        {"locales", std::move(list)}};
}

HttpResponse catalog_response(const CatalogSet& catalogs, const HttpRequest& request) {
    const std::string locale = catalogs.resolve(request.param("locale").value_or("en"));
    const auto ns = split_commas(request.query_value("ns").value_or(""));
    json::object messages = catalogs.flat_messages(locale, ns);
    const std::string version = content_hash(json::serialize(messages));
    const std::string etag = "\"" + version + "\"";
    HttpResponse response;
    response.headers.emplace_back("ETag", etag);
    response.headers.emplace_back("Cache-Control", "no-cache");
    if (request.header("if-none-match") == etag) {
        response.status = 304;
        return response;
    }
    response.body = json::serialize(json::object{{"locale", locale},
                                                 {"fallback", "en"},
                                                 {"version", version},
                                                 {"messages", std::move(messages)}});
    return response;
}

Status add_i18n_routes(plugin::HttpRoutes& routes, std::shared_ptr<const plugin::Locales> locales,
                       std::function<const CatalogSet&()> catalogs) {
    RUNICORN_RETURN_IF_ERROR(routes.add_route(
        {"GET", "/api/i18n/locales", "The shipped locales and the one this request gets", false},
        std::make_shared<FunctionHandler>([locales](const HttpRequest& request) {
            HttpResponse r;
            r.body = json::serialize(locales_body(*locales, request));
            return r;
        })));
    return routes.add_route(
        {"GET", "/api/i18n/:locale", "One locale's merged catalog, keys flattened", false},
        std::make_shared<FunctionHandler>([locales, catalogs](const HttpRequest& request) {
            return catalog_response(catalogs(), request);
        }));
}

}  // namespace runicorn::i18n
