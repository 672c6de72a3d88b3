#include "cli_messages.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include <boost/json/parse.hpp>

#include "config.hpp"
#include "runicorn_cli_catalog_en.hpp"

namespace runicorn::cli {
namespace json = boost::json;

namespace {

/// The string at a dotted path of a nested catalog object.
std::optional<std::string> lookup(const json::object& catalog, std::string_view key) {
    const json::value* cur = nullptr;
    const json::object* obj = &catalog;
    while (true) {
        const auto dot = key.find('.');
        cur = obj->if_contains(key.substr(0, dot));
        if (cur == nullptr || dot == std::string_view::npos) {
            break;
        }
        if (!cur->is_object()) {
            return std::nullopt;
        }
        obj = &cur->get_object();
        key = key.substr(dot + 1);
    }
    if (cur == nullptr || !cur->is_string()) {
        return std::nullopt;
    }
    return std::string(cur->get_string());
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

}  // namespace

Messages::Messages() {
    // The catalog is our own build input, checked by the i18n catalog test; a broken copy must
    // still not stop the CLI: keys then print as themselves.
    boost::system::error_code ec;
    json::value v = json::parse(kBuiltinCliCatalog, ec);
    if (!ec && v.is_object()) {
        builtin_ = std::move(v.get_object());
    }
}

void Messages::use(std::shared_ptr<const plugin::Locales> locales, std::string locale) {
    locales_ = std::move(locales);
    locale_ = std::move(locale);
}

void Messages::reset() noexcept {
    locales_.reset();
    locale_ = "en";
}

std::optional<std::string> Messages::builtin(std::string_view key, const json::object& vars) const {
    std::optional<std::string> text;
    if (const auto* count = vars.if_contains("count"); count != nullptr && count->is_int64()) {
        const std::string k(key);
        text = lookup(builtin_,
                      k + "_" + std::string(plugin::plural_category("en", count->get_int64())));
        if (!text) {
            text = lookup(builtin_, k + "_other");
        }
    }
    if (!text) {
        text = lookup(builtin_, key);
    }
    if (!text) {
        return std::nullopt;
    }
    return plugin::interpolate(*text, vars);
}

std::string Messages::text(std::string_view key, const json::object& vars) const {
    if (locales_ != nullptr) {
        const std::string full = "cli:" + std::string(key);
        std::string t = locales_->translate(locale_, full, vars);
        if (t != full) {
            return t;
        }
    }
    return builtin(key, vars).value_or(std::string(key));
}

std::string Messages::plural(std::string_view key, std::int64_t count, json::object vars) const {
    vars["count"] = count;
    return text(key, vars);
}

Messages& messages() {
    static Messages instance;
    return instance;
}

std::string tr(std::string_view key, const json::object& vars) {
    return messages().text(key, vars);
}

std::string tr_n(std::string_view key, std::int64_t count, json::object vars) {
    return messages().plural(key, count, std::move(vars));
}

std::string requested_language(const std::string& lang_flag) {
    if (!lang_flag.empty()) {
        return lang_flag;
    }
    const auto env = kernel::process_env();
    for (const char* var : {"RUNICORN_LANG", "LC_ALL", "LANG"}) {
        if (auto v = env(var); v && !v->empty()) {
            return *v;
        }
    }
    return "";
}

bool means_english(std::string_view tag) {
    const std::string t = lower(tag);
    if (t.empty() || t == "c" || t == "posix" || t.starts_with("c.") || t == "en") {
        return true;
    }
    return t.size() > 2 && t.starts_with("en") && (t[2] == '-' || t[2] == '_' || t[2] == '.');
}

std::string scan_message_options(int argc, const char* const* argv, GlobalOptions& g) {
    std::string lang;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--") {
            break;
        }
        for (std::string_view name : {"--lang", "--plugin-path", "--plugins", "--log-level"}) {
            std::optional<std::string> value;
            if (arg == name && i + 1 < argc) {
                value = argv[++i];
            } else if (arg.size() > name.size() && arg.starts_with(name) &&
                       arg[name.size()] == '=') {
                value = std::string(arg.substr(name.size() + 1));
            }
            if (!value) {
                continue;
            }
            if (name == "--lang") {
                lang = *value;
            } else if (name == "--plugin-path") {
                g.overrides.plugin_paths.push_back(*value);
            } else if (name == "--plugins") {
                g.overrides.plugins = *value;
            } else {
                g.overrides.log_level = *value;
            }
            break;
        }
    }
    return lang;
}

}  // namespace runicorn::cli
