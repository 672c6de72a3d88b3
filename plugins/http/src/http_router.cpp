#include "http_router.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace runicorn::http_plugin {
namespace {

constexpr std::array<std::string_view, 6> kMethodOrder = {"GET", "HEAD",  "POST",
                                                          "PUT", "PATCH", "DELETE"};

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool is_route_method(std::string_view m) {
    return m == "GET" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

bool is_name_char(char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }

// RFC 3986 pchar without '%' (a pattern names decoded text, so escapes have no meaning in it).
bool is_literal_char(char c) {
    if (is_name_char(c)) {
        return true;
    }
    constexpr std::string_view kAllowed = "-.~!$&'()*+,;=:@";
    return kAllowed.find(c) != std::string_view::npos;
}

std::vector<std::string_view> split_slash(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = s.find('/', start);
        if (slash == std::string_view::npos) {
            out.push_back(s.substr(start));
            return out;
        }
        out.push_back(s.substr(start, slash - start));
        start = slash + 1;
    }
}

class FunctionHandler final : public plugin::RouteHandler {
public:
    explicit FunctionHandler(std::function<plugin::HttpResponse(const plugin::HttpRequest&)> fn)
        : fn_(std::move(fn)) {}
    plugin::HttpResponse handle(const plugin::HttpRequest& request) override {
        return fn_(request);
    }

private:
    std::function<plugin::HttpResponse(const plugin::HttpRequest&)> fn_;
};

}  // namespace

std::optional<std::string> percent_decode(std::string_view in, bool plus_as_space) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        const char c = in[i];
        if (c == '%') {
            if (in.size() - i < 3) {
                return std::nullopt;
            }
            const int hi = hex_value(in[i + 1]);
            const int lo = hex_value(in[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>((hi << 4) | lo));
            i += 2;
        } else if (c == '+' && plus_as_space) {
            out.push_back(' ');
        } else {
            out.push_back(c);
        }
    }
    return out;
}

Result<ParsedTarget> parse_target(std::string_view target) {
    if (target.empty() || target.front() != '/') {
        return Status::invalid_argument("the request target must start with '/'");
    }
    const std::size_t question = target.find('?');
    const std::string_view raw_path = target.substr(0, question);
    ParsedTarget out;
    auto path = percent_decode(raw_path);
    if (!path) {
        return Status::invalid_argument("the request path holds a malformed percent-escape");
    }
    out.path = std::move(*path);
    if (raw_path.size() > 1) {
        for (std::string_view raw : split_slash(raw_path.substr(1))) {
            // Cannot fail: the whole path decoded above.
            out.segments.push_back(percent_decode(raw).value_or(std::string()));
        }
    }
    if (question != std::string_view::npos) {
        std::string_view query = target.substr(question + 1);
        std::size_t start = 0;
        while (start <= query.size()) {
            std::size_t amp = query.find('&', start);
            if (amp == std::string_view::npos) {
                amp = query.size();
            }
            const std::string_view pair = query.substr(start, amp - start);
            start = amp + 1;
            if (pair.empty()) {
                continue;
            }
            const std::size_t eq = pair.find('=');
            auto key = percent_decode(pair.substr(0, eq), true);
            auto value = percent_decode(
                eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
            if (!key || !value) {
                return Status::invalid_argument(
                    "the query string holds a malformed percent-escape");
            }
            out.query.emplace_back(std::move(*key), std::move(*value));
        }
    }
    return out;
}

Status Router::add(plugin::RouteSpec spec, std::shared_ptr<plugin::RouteHandler> handler) {
    const std::string name = "route '" + spec.method + " " + spec.pattern + "'";
    if (!is_route_method(spec.method)) {
        return Status::invalid_argument(
            name + ": the method must be one of GET, POST, PUT, PATCH, DELETE");
    }
    if (handler == nullptr) {
        return Status::invalid_argument(name + " has no handler");
    }
    const std::string_view pattern = spec.pattern;
    if (pattern.empty() || pattern.front() != '/') {
        return Status::invalid_argument(name + ": the pattern must start with '/'");
    }
    Route route;
    if (pattern.size() > 1) {
        for (std::string_view seg : split_slash(pattern.substr(1))) {
            if (seg.empty()) {
                return Status::invalid_argument(name + ": the pattern has an empty segment");
            }
            Segment s;
            if (seg.front() == ':') {
                const std::string_view param = seg.substr(1);
                if (param.empty() || !is_name_start(param.front()) ||
                    !std::all_of(param.begin(), param.end(), is_name_char)) {
                    return Status::invalid_argument(name + ": '" + std::string(seg) +
                                                    "' is not a valid parameter");
                }
                for (const Segment& earlier : route.segments) {
                    if (earlier.param && earlier.text == param) {
                        return Status::invalid_argument(name + ": the parameter '" +
                                                        std::string(param) + "' is repeated");
                    }
                }
                s.text = std::string(param);
                s.param = true;
            } else {
                if (!std::all_of(seg.begin(), seg.end(), is_literal_char)) {
                    return Status::invalid_argument(name + ": the segment '" + std::string(seg) +
                                                    "' holds a character not allowed in a path");
                }
                s.text = std::string(seg);
            }
            route.segments.push_back(std::move(s));
        }
    }
    for (const Route& existing : routes_) {
        if (existing.spec.method != spec.method ||
            existing.segments.size() != route.segments.size()) {
            continue;
        }
        bool same_shape = true;
        for (std::size_t i = 0; i < route.segments.size() && same_shape; ++i) {
            const Segment& a = existing.segments[i];
            const Segment& b = route.segments[i];
            same_shape = a.param == b.param && (a.param || a.text == b.text);
        }
        if (same_shape) {
            if (existing.spec.pattern == spec.pattern) {
                return Status::already_exists(name + " is already registered");
            }
            return Status::already_exists(name + " conflicts with '" + existing.spec.method + " " +
                                          existing.spec.pattern + "'");
        }
    }
    route.spec = std::move(spec);
    route.handler = std::move(handler);
    routes_.push_back(std::move(route));
    return Status::ok();
}

bool Router::path_matches(const Route& route, const std::vector<std::string>& segments) {
    if (route.segments.size() != segments.size()) {
        return false;
    }
    for (std::size_t i = 0; i < segments.size(); ++i) {
        const Segment& s = route.segments[i];
        if (s.param ? segments[i].empty() : s.text != segments[i]) {
            return false;
        }
    }
    return true;
}

bool Router::more_specific(const Route& a, const Route& b) {
    for (std::size_t i = 0; i < a.segments.size() && i < b.segments.size(); ++i) {
        if (a.segments[i].param != b.segments[i].param) {
            return !a.segments[i].param;
        }
    }
    return false;
}

RouteMatch Router::match(std::string_view method, const std::vector<std::string>& segments) const {
    const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
    const Route* best = nullptr;
    std::array<bool, kMethodOrder.size()> allowed{};
    bool any = false;
    for (const Route& route : routes_) {
        if (!path_matches(route, segments)) {
            continue;
        }
        any = true;
        for (std::size_t i = 0; i < kMethodOrder.size(); ++i) {
            if (kMethodOrder[i] == route.spec.method) {
                allowed[i] = true;
            }
        }
        if (route.spec.method == wanted && (best == nullptr || more_specific(route, *best))) {
            best = &route;
        }
    }
    RouteMatch out;
    if (best != nullptr) {
        out.kind = RouteMatch::Kind::kFound;
        out.handler = best->handler;
        out.spec = best->spec;
        for (std::size_t i = 0; i < segments.size(); ++i) {
            if (best->segments[i].param) {
                out.params.emplace_back(best->segments[i].text, segments[i]);
            }
        }
        return out;
    }
    if (!any) {
        return out;
    }
    out.kind = RouteMatch::Kind::kMethodNotAllowed;
    allowed[1] = allowed[1] || allowed[0];  // HEAD comes with GET.
    for (std::size_t i = 0; i < kMethodOrder.size(); ++i) {
        if (allowed[i]) {
            out.allow.emplace_back(kMethodOrder[i]);
        }
    }
    return out;
}

std::vector<plugin::RouteSpec> Router::routes() const {
    std::vector<plugin::RouteSpec> out;
    out.reserve(routes_.size());
    for (const Route& r : routes_) {
        out.push_back(r.spec);
    }
    return out;
}

std::shared_ptr<plugin::RouteHandler> make_handler(
    std::function<plugin::HttpResponse(const plugin::HttpRequest&)> fn) {
    return std::make_shared<FunctionHandler>(std::move(fn));
}

}  // namespace runicorn::http_plugin
