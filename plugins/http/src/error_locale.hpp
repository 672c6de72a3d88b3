#pragma once

#include <string_view>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/locales.hpp>

namespace runicorn::http_plugin {

/// Puts the `detail` of an error response into the request's language (API.md §1.2, §4.8).
///
/// Applies to a JSON response with status >= 400 whose body is an object with a string `detail`
/// and a string `code`. The language is negotiated from `lng` (the request's ?lng=) and
/// `accept_language`; for "en", or without `locales`, nothing changes. The English catalog text
/// "errors:<code>" is the template the detail was built from: its {{variables}} are read back
/// from the detail (a detail that does not match the template is left alone), and the target
/// language's text is interpolated with them. `code` and every other field are kept.
///
/// Thread safety: safe for concurrent use (pure function of its arguments).
void localize_error(plugin::HttpResponse& response, const plugin::Locales* locales,
                    std::string_view lng, std::string_view accept_language);

}  // namespace runicorn::http_plugin
