#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <runicorn/export.hpp>
#include <runicorn/status.hpp>

namespace runicorn::plugin {

class Locales;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request as a route handler sees it. The body has been read completely (within the
/// route's body limit); header names are lower-case.
struct HttpRequest {
    std::string method;  ///< "GET", "POST", ...
    std::string path;    ///< Percent-decoded path, no query string.
    std::string target;  ///< The raw request target.
    HeaderList path_params;
    HeaderList query;  ///< Percent-decoded, in order; a repeated key appears repeatedly.
    HeaderList headers;
    std::string body;
    std::string peer_address;  ///< The socket peer, never X-Forwarded-For.
    /// Set instead of `body` when the route accepts bodies above the in-memory limit
    /// (RouteSpec::max_body_bytes) and the body was spooled to disk: a complete file the handler
    /// may read or rename within its filesystem; the server removes it after the handler returns.
    std::filesystem::path body_file = {};

    /// The first value named `name` in `list`, or nullopt.
    static std::optional<std::string> find(const HeaderList& list, std::string_view name) {
        for (const auto& [k, v] : list) {
            if (k == name) {
                return v;
            }
        }
        return std::nullopt;
    }
    std::optional<std::string> param(std::string_view name) const {
        return find(path_params, name);
    }
    std::optional<std::string> query_value(std::string_view name) const {
        return find(query, name);
    }
    std::optional<std::string> header(std::string_view lower_name) const {
        return find(headers, lower_name);
    }
};

/// Where a streamed response body goes (HttpResponse::stream). Thread safety: used by one
/// producer thread at a time.
class RUNICORN_PLUGIN_API BodySink {
public:
    virtual ~BodySink() = default;
    BodySink(const BodySink&) = delete;
    BodySink& operator=(const BodySink&) = delete;
    BodySink(BodySink&&) = delete;
    BodySink& operator=(BodySink&&) = delete;

    /// Sends the next piece of the body. Blocks while the client is slow (bounded buffering,
    /// so a producer never runs ahead of the socket by more than a few MiB); false once the
    /// client has gone or the server is stopping, after which the producer should return.
    virtual bool write(std::string_view bytes) = 0;

protected:
    BodySink() = default;
};

/// Produces a streamed body: called once, on a thread that may block (never an I/O thread),
/// after the status and headers were sent. Returning an error (or throwing) after bytes went out
/// aborts the connection, so the client sees a truncated transfer rather than a valid file.
using BodyProducer = std::function<Status(BodySink&)>;

/// A complete response. Errors use status 4xx/5xx and a JSON body {"detail": "..."}.
/// A streamed response sets `stream` (then `body` is ignored): the server sends the headers,
/// then runs the producer; with `content_length` the body is sent with that Content-Length
/// (the producer must write exactly that many bytes), without it with chunked encoding.
struct HttpResponse {
    unsigned status = 200;
    std::string content_type = "application/json";
    std::string body;
    HeaderList headers;
    BodyProducer stream = {};
    std::optional<std::uint64_t> content_length = {};
};

/// A route's code. Thread safety: safe for concurrent use (handlers run on the server's threads).
/// Exceptions are caught by the server and become a 500 with a request id.
class RUNICORN_PLUGIN_API RouteHandler {
public:
    virtual ~RouteHandler() = default;
    RouteHandler(const RouteHandler&) = delete;
    RouteHandler& operator=(const RouteHandler&) = delete;
    RouteHandler(RouteHandler&&) = delete;
    RouteHandler& operator=(RouteHandler&&) = delete;

    virtual HttpResponse handle(const HttpRequest& request) = 0;

protected:
    RouteHandler() = default;
};

/// One parameter of a route, for the OpenAPI document (API.md §4.9).
struct RouteParameter {
    std::string name;
    std::string in = "query";     ///< "query", "path" or "header".
    bool required = false;        ///< Path parameters are always required.
    std::string type = "string";  ///< JSON Schema type: "string", "integer", "number", "boolean".
    std::string description;
};

/// How a route appears in the router and the OpenAPI document. Only the first three fields are
/// needed; the rest are optional and only feed /openapi.json, so `RouteSpec{"GET", "/api/x",
/// "summary", true}` stays valid.
struct RouteSpec {
    std::string method;   ///< "GET", "POST", "PUT", "PATCH", "DELETE".
    std::string pattern;  ///< "/api/runs/:run_id"; `:name` matches one path segment.
    std::string summary;  ///< One line for the OpenAPI document.
    bool compat = false;  ///< A Runicorn v0.6 endpoint (x-runicorn-compat).
    /// Query and header parameters (path parameters come from `:name` in the pattern; list one
    /// here only to describe it).
    std::vector<RouteParameter> parameters = {};
    /// JSON Schema (as JSON text) of the success response body; "" says nothing about it.
    std::string response_schema = {};
    /// JSON Schema (as JSON text) of the request body; "" for routes without a JSON body.
    std::string request_schema = {};
    /// OpenAPI tags; empty derives one from the path ("/api/runs/..." -> "runs").
    std::vector<std::string> tags = {};
    /// "websocket" or "sse" for a live-stream route (described in x-runicorn-stream); "" otherwise.
    std::string stream = {};
    /// Longer text for the OpenAPI document.
    std::string description = {};
    /// The largest request body the route accepts; 0 keeps the server's 1 MiB (API.md §1.3).
    /// A larger limit (uploads) makes the server spool the body to a file
    /// (HttpRequest::body_file) instead of memory; over the limit → 413 before or while reading.
    std::uint64_t max_body_bytes = 0;
};

/// The HTTP server's route table; other plugins add their /api routes here during init().
/// Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API HttpRoutes {
public:
    static constexpr std::string_view kServiceId = "runicorn.http_routes/1";

    virtual ~HttpRoutes() = default;
    HttpRoutes(const HttpRoutes&) = delete;
    HttpRoutes& operator=(const HttpRoutes&) = delete;
    HttpRoutes(HttpRoutes&&) = delete;
    HttpRoutes& operator=(HttpRoutes&&) = delete;

    /// Adds a route. INVALID_ARGUMENT for a malformed pattern or method, ALREADY_EXISTS when the
    /// same method and pattern are taken.
    virtual Status add_route(RouteSpec spec, std::shared_ptr<RouteHandler> handler) = 0;
    /// "http://127.0.0.1:23300" once the server listens (the real port when 0 was asked for);
    /// "" before start() and after stop().
    virtual std::string base_url() const = 0;
    /// Hands the server the locales service, so that the `detail` of its error responses follows
    /// the request's language (?lng=, Accept-Language) while `code` stays stable (API.md §1.2,
    /// §4.8). The i18n plugin calls it from init(); the server keeps the pointer until stop().
    /// The default implementation ignores it.
    virtual void set_locales(std::shared_ptr<const Locales> locales) { (void)locales; }

protected:
    HttpRoutes() = default;
};

}  // namespace runicorn::plugin
