#include "error_locale.hpp"

#include <optional>
#include <string>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace runicorn::http_plugin {
namespace {

namespace json = boost::json;

/// Reads the values of `tpl`'s {{variables}} out of `text`, which must be `tpl` with each
/// variable replaced by some text. Literal parts must match exactly; a variable takes the
/// shortest text after which the next literal part matches (the last one takes the rest).
std::optional<json::object> match_template(std::string_view tpl, std::string_view text) {
    json::object vars;
    std::size_t t = 0;  // position in tpl
    std::size_t x = 0;  // position in text
    while (t <= tpl.size()) {
        const std::size_t open = tpl.find("{{", t);
        const std::string_view literal =
            tpl.substr(t, open == std::string_view::npos ? std::string_view::npos : open - t);
        if (text.substr(x, literal.size()) != literal) {
            return std::nullopt;
        }
        x += literal.size();
        if (open == std::string_view::npos) {
            break;
        }
        const std::size_t close = tpl.find("}}", open + 2);
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view name = tpl.substr(open + 2, close - open - 2);
        while (!name.empty() && name.front() == ' ') {
            name.remove_prefix(1);
        }
        while (!name.empty() && name.back() == ' ') {
            name.remove_suffix(1);
        }
        t = close + 2;
        const std::size_t next_open = tpl.find("{{", t);
        const std::string_view next_literal = tpl.substr(
            t, next_open == std::string_view::npos ? std::string_view::npos : next_open - t);
        std::size_t end = 0;
        if (next_literal.empty()) {
            if (next_open != std::string_view::npos) {
                return std::nullopt;  // two variables in a row cannot be told apart
            }
            end = text.size();
        } else {
            end = text.find(next_literal, x);
            if (end == std::string_view::npos) {
                return std::nullopt;
            }
        }
        vars[name] = text.substr(x, end - x);
        x = end;
    }
    if (x != text.size()) {
        return std::nullopt;
    }
    return vars;
}

}  // namespace

void localize_error(plugin::HttpResponse& response, const plugin::Locales* locales,
                    std::string_view lng, std::string_view accept_language) {
    if (locales == nullptr || response.status < 400 ||
        !response.content_type.starts_with("application/json")) {
        return;
    }
    const std::string locale = locales->negotiate(lng, accept_language);
    if (locale == "en") {
        return;
    }
    boost::system::error_code ec;
    json::value body = json::parse(response.body, ec);
    if (ec || !body.is_object()) {
        return;
    }
    json::object& obj = body.get_object();
    const auto* detail = obj.if_contains("detail");
    const auto* code = obj.if_contains("code");
    if (detail == nullptr || code == nullptr || !detail->is_string() || !code->is_string()) {
        return;
    }
    const std::string key = "errors:" + std::string(code->get_string());
    const std::string english = locales->translate("en", key, {});
    if (english == key) {
        return;
    }
    const auto vars = match_template(english, detail->get_string());
    if (!vars) {
        return;
    }
    std::string text = locales->translate(locale, key, *vars);
    if (text == key || text.find("{{") != std::string::npos) {
        return;
    }
    obj["detail"] = std::move(text);
    response.body = json::serialize(body);
    response.headers.emplace_back("Content-Language", locale);
}

}  // namespace runicorn::http_plugin
