#include "auth_routes.hpp"

#include <chrono>
#include <string>
#include <utility>

#include <boost/json/object.hpp>

#include "../http_router.hpp"
#include "../responses.hpp"

namespace runicorn::http_plugin {
namespace {

std::string host_of(const plugin::HttpRequest& request) {
    return request.header("host").value_or("127.0.0.1");
}

std::string session_cookie(const std::string& name, const std::string& value) {
    return name + "=" + value + "; HttpOnly; SameSite=Strict; Path=/";
}

// The raw target without the query parameters named login and token.
std::string without_credentials(std::string_view target) {
    const std::size_t question = target.find('?');
    if (question == std::string_view::npos) {
        return std::string(target);
    }
    std::string out(target.substr(0, question));
    std::string query;
    std::string_view rest = target.substr(question + 1);
    while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        const std::string_view key = pair.substr(0, pair.find('='));
        if (pair.empty() || key == "login" || key == "token") {
            continue;
        }
        query += query.empty() ? "" : "&";
        query += pair;
    }
    if (!query.empty()) {
        out += "?" + query;
    }
    return out;
}

}  // namespace

Status add_auth_routes(RouteTable& routes, std::shared_ptr<TokenAuth> auth) {
    plugin::RouteSpec status{"GET", "/api/auth/status", "Whether a token is required and sent"};
    status.tags = {"auth"};
    status.response_schema =
        R"({"type":"object","properties":{"auth_required":{"type":"boolean"},)"
        R"("authenticated":{"type":"boolean"}},"required":["auth_required","authenticated"]})";
    RUNICORN_RETURN_IF_ERROR(
        routes.add_route(std::move(status), make_handler([auth](const plugin::HttpRequest& r) {
                             boost::json::object body;
                             body["auth_required"] = auth->required();
                             body["authenticated"] = auth->authenticated(r);
                             return json_response(200, body);
                         })));

    plugin::RouteSpec codes{"POST", "/api/auth/login-codes",
                            "Mint a one-time login link (15 minutes, single use)"};
    codes.tags = {"auth"};
    codes.response_schema =
        R"({"type":"object","properties":{"url":{"type":"string"},)"
        R"("expires_at":{"type":["number","null"]}},"required":["url","expires_at"]})";
    RUNICORN_RETURN_IF_ERROR(routes.add_route(
        std::move(codes), make_handler([auth](const plugin::HttpRequest& r) {
            boost::json::object body;
            const std::string base = "http://" + host_of(r) + "/";
            if (!auth->required()) {
                body["url"] = base;
                body["expires_at"] = nullptr;
                return json_response(200, body);
            }
            auto code = auth->mint_login_code();
            if (!code) {
                return error_response(code.error());
            }
            const auto expires = std::chrono::system_clock::now() + TokenAuth::kLoginCodeLifetime;
            body["url"] = base + "?login=" + *code;
            body["expires_at"] =
                std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch())
                    .count();
            return json_response(200, body);
        })));

    plugin::RouteSpec logout{"POST", "/api/auth/logout", "End the browser session"};
    logout.tags = {"auth"};
    logout.response_schema =
        R"({"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]})";
    return routes.add_route(std::move(logout), make_handler([auth](const plugin::HttpRequest& r) {
                                const std::string name = TokenAuth::cookie_name(host_of(r));
                                if (auto value = TokenAuth::cookie_value(r, name)) {
                                    auth->close_session(*value);
                                }
                                boost::json::object body;
                                body["ok"] = true;
                                plugin::HttpResponse response = json_response(200, body);
                                response.headers.emplace_back(
                                    "Set-Cookie",
                                    name + "=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
                                return response;
                            }));
}

std::optional<plugin::HttpResponse> handle_login_link(const plugin::HttpRequest& request,
                                                      TokenAuth& auth) {
    const auto code = request.query_value("login");
    const auto token = request.query_value("token");
    if (!auth.required() || (!code && !token)) {
        return std::nullopt;
    }
    const bool ok = code ? auth.consume_login_code(*code) : auth.token_matches(*token);
    if (!ok) {
        plugin::HttpResponse refused = error_response(401, "Login link invalid or expired");
        refused.headers.emplace_back("WWW-Authenticate", "Bearer");
        return refused;
    }
    auto session = auth.open_session();
    if (!session) {
        return error_response(session.error());
    }
    plugin::HttpResponse response;
    response.status = 303;
    response.content_type = "text/plain; charset=utf-8";
    response.body = "Signed in.\n";
    response.headers.emplace_back("Location", without_credentials(request.target));
    response.headers.emplace_back(
        "Set-Cookie", session_cookie(TokenAuth::cookie_name(host_of(request)), *session));
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
}

}  // namespace runicorn::http_plugin
