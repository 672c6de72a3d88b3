#pragma once

#include <memory>
#include <optional>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "../route_table.hpp"
#include "token_auth.hpp"

namespace runicorn::http_plugin {

/// Adds the auth routes of API.md §4.11:
///   GET  /api/auth/status       {"auth_required": bool, "authenticated": bool} (no token needed)
///   POST /api/auth/login-codes  {"url": "http://<Host>/?login=<code>", "expires_at": <unix s>};
///                               without a required token {"url": "http://<Host>/",
///                               "expires_at": null}
///   POST /api/auth/logout       closes the session and expires its cookie -> {"ok": true}
/// `auth` must not be null. Returns the first failure of RouteTable::add_route.
Status add_auth_routes(RouteTable& routes, std::shared_ptr<TokenAuth> auth);

/// The login link (API.md §1.4) for a parsed GET/HEAD request outside /api: with `?login=<code>`
/// (a live code, consumed) or `?token=<token>`, opens a session and answers 303 to the same URL
/// without that parameter, setting `runicorn_session_<port>=<value>; HttpOnly; SameSite=Strict;
/// Path=/`; a bad code or token gets 401 {"detail": "Login link invalid or expired"}. nullopt when
/// the request carries neither parameter or no token is required.
std::optional<plugin::HttpResponse> handle_login_link(const plugin::HttpRequest& request,
                                                      TokenAuth& auth);

}  // namespace runicorn::http_plugin
