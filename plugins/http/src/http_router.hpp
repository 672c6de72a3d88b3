#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/result.hpp>
#include <runicorn/status.hpp>

namespace runicorn::http_plugin {

/// A request target split into what the router and the handlers need.
struct ParsedTarget {
    std::string path;                   ///< Percent-decoded path.
    std::vector<std::string> segments;  ///< The path's segments, each percent-decoded on its own.
    plugin::HeaderList query;           ///< Percent-decoded pairs in order ('+' is a space).
};

/// Percent-decodes `in`; with `plus_as_space` a '+' becomes a space (query strings). Returns
/// nullopt for a malformed escape ('%' not followed by two hex digits) or an escaped NUL.
std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space = false);

/// Splits an origin-form request target ("/a/b%20c?x=1&y") into path, segments and query.
/// Segments are split before decoding, so "%2F" stays inside its segment. "/" has no segments;
/// "/a/" has the segments "a" and "". INVALID_ARGUMENT when the target does not start with '/' or
/// holds a malformed escape.
Result<ParsedTarget> parse_target(std::string_view target);

/// What the router found for a method and a path.
struct RouteMatch {
    enum class Kind { kFound, kNotFound, kMethodNotAllowed };

    Kind kind = Kind::kNotFound;
    std::shared_ptr<plugin::RouteHandler> handler;  ///< Set when kFound.
    plugin::RouteSpec spec;                         ///< The matched route when kFound.
    plugin::HeaderList params;                      ///< `:name` values when kFound.
    /// The methods the path accepts when kMethodNotAllowed, in the order GET, HEAD, POST, PUT,
    /// PATCH, DELETE (HEAD whenever GET is there).
    std::vector<std::string> allow;
};

/// The route table: `:name` segments match one non-empty path segment; everything else matches
/// literally. No std::regex (it can overflow the stack on long input). When several routes fit a
/// path, the one with a literal segment where the others have a parameter wins, leftmost first.
/// HEAD is answered by the GET route of a path.
///
/// Thread safety: externally synchronized (RouteTable adds the locking).
class Router {
public:
    Router() = default;
    Router(const Router&) = delete;
    Router& operator=(const Router&) = delete;
    Router(Router&&) = delete;
    Router& operator=(Router&&) = delete;
    ~Router() = default;

    /// Adds a route. INVALID_ARGUMENT for a method other than GET, POST, PUT, PATCH or DELETE, a
    /// malformed pattern (not starting with '/', an empty segment, a trailing '/', a bad or
    /// repeated parameter name, a character that is not allowed in a path) or a null handler;
    /// ALREADY_EXISTS when the method and the pattern's shape (parameter names aside) are taken.
    Status add(plugin::RouteSpec spec, std::shared_ptr<plugin::RouteHandler> handler);

    /// Finds the route for `method` and the decoded path `segments` (ParsedTarget::segments).
    RouteMatch match(std::string_view method, const std::vector<std::string>& segments) const;

    /// The registered routes in the order they were added.
    std::vector<plugin::RouteSpec> routes() const;

    /// Removes every route (dropping the handlers).
    void clear() noexcept { routes_.clear(); }

private:
    struct Segment {
        std::string text;  ///< The literal, or the parameter's name.
        bool param = false;
    };
    struct Route {
        plugin::RouteSpec spec;
        std::vector<Segment> segments;
        std::shared_ptr<plugin::RouteHandler> handler;
    };

    static bool path_matches(const Route& route, const std::vector<std::string>& segments);
    /// True when `a` is more specific than `b` (both match the same path).
    static bool more_specific(const Route& a, const Route& b);

    std::vector<Route> routes_;
};

/// Wraps a function as a RouteHandler (for built-in routes and tests). The function must be safe
/// for concurrent use.
std::shared_ptr<plugin::RouteHandler> make_handler(
    std::function<plugin::HttpResponse(const plugin::HttpRequest&)> fn);

}  // namespace runicorn::http_plugin
