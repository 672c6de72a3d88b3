#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <runicorn/export.hpp>
#include <runicorn/result.hpp>

namespace runicorn::plugin {

struct LocaleInfo {
    std::string code;         ///< BCP 47, e.g. "en", "zh-CN".
    std::string name;         ///< In English, e.g. "Chinese (Simplified)".
    std::string native_name;  ///< e.g. "English", "简体中文".
    double completeness = 0;  ///< Fraction 0..1 of the en keys this locale has.
};

/// Translation catalogs in the i18next format, merged from every plugin's locales/<lang>/ folder.
/// Keys are "<namespace>:<dotted.key>" ("common" when there is no colon), e.g.
/// "cli:ls.no_runs" or "errors:RUN_NOT_FOUND" (the `errors` namespace is keyed by the stable
/// error codes of API.md §1.2). Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API Locales {
public:
    static constexpr std::string_view kServiceId = "runicorn.locales/1";

    virtual ~Locales() = default;
    Locales(const Locales&) = delete;
    Locales& operator=(const Locales&) = delete;
    Locales(Locales&&) = delete;
    Locales& operator=(Locales&&) = delete;

    /// The shipped locales, "en" first.
    virtual std::vector<LocaleInfo> locales() const = 0;
    /// Maps a requested tag ("zh", "zh-Hans", "en-US") to a shipped locale; "en" when none fits.
    virtual std::string resolve(std::string_view requested) const = 0;
    /// The locale of a request (API.md §4.8): `explicit_choice` (?lng=, --lang) when it names a
    /// shipped locale, else the best of `accept_language` by q-value, else the server default
    /// (RUNICORN_LANG / LC_ALL / LANG, read once at init), else "en".
    virtual std::string negotiate(std::string_view explicit_choice,
                                  std::string_view accept_language) const = 0;
    /// Translates `key` into `locale` with {{var}} interpolation from `vars` (see interpolate());
    /// falls back to "en", then to the key itself (so a result equal to `key` means "no text").
    /// Plurals as i18next: when `vars` holds an integral number `count`, `<key>_<category>`
    /// (plural_category() of the locale the text comes from) is tried first, then `<key>_other`,
    /// then `<key>`.
    virtual std::string translate(std::string_view locale, std::string_view key,
                                  const boost::json::object& vars) const = 0;
    /// The merged catalog of one locale: {"<namespace>": {...}}. NOT_FOUND for an unknown locale.
    virtual Result<boost::json::object> catalog(std::string_view locale) const = 0;

protected:
    Locales() = default;
};

/// The i18next plural suffix ("one" or "other") of `count` in `locale`, by the CLDR cardinal
/// rules: Chinese, Japanese, Korean, Vietnamese, Thai and Indonesian have only "other"; French
/// and Portuguese say "one" for 0 and 1; every other language "one" for 1 only.
inline std::string_view plural_category(std::string_view locale, std::int64_t count) {
    const std::string_view lang = locale.substr(0, locale.find_first_of("-_"));
    for (std::string_view other_only : {"zh", "ja", "ko", "vi", "th", "id"}) {
        if (lang == other_only) {
            return "other";
        }
    }
    if (lang == "fr" || lang == "pt") {
        return count == 0 || count == 1 ? "one" : "other";
    }
    return count == 1 ? "one" : "other";
}

/// Replaces each {{name}} (spaces inside the braces allowed) in `text` by `vars[name]`: a string
/// as is, a double in its shortest form (1.0 as "1"), any other JSON value serialized. A
/// placeholder without a value stays as written.
inline std::string interpolate(std::string_view text, const boost::json::object& vars) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto open = text.find("{{", pos);
        const auto close = open == std::string_view::npos ? open : text.find("}}", open + 2);
        if (close == std::string_view::npos) {
            break;
        }
        out.append(text.substr(pos, open - pos));
        std::string_view name = text.substr(open + 2, close - open - 2);
        name.remove_prefix(std::min(name.find_first_not_of(' '), name.size()));
        name.remove_suffix(name.size() - std::min(name.find_last_not_of(' ') + 1, name.size()));
        if (const auto* v = vars.if_contains(name)) {
            if (v->is_string()) {
                out += v->get_string();
            } else if (v->is_double()) {
                char buf[32];  // shortest round-trip form: 1.0 -> "1", 0.25 -> "0.25"
                const auto r = std::to_chars(buf, buf + sizeof(buf), v->get_double());
                out.append(buf, r.ptr);
            } else {
                out += boost::json::serialize(*v);
            }
        } else {
            out.append(text.substr(open, close + 2 - open));
        }
        pos = close + 2;
    }
    out.append(text.substr(pos));
    return out;
}

/// The `detail` text of an HTTP error (API.md §1.2) in the language of a request: the catalog
/// text "errors:<code>" in negotiate(`explicit_choice`, `accept_language`) (pass the request's
/// ?lng= and Accept-Language header), interpolated from `vars`. Returns `english` (the caller's
/// own, already formatted en text) when `locales` is null (the i18n plugin is not loaded), when
/// the catalog has no text for `code`, or when the text names a variable `vars` lacks.
inline std::string error_detail(const Locales* locales, std::string_view code,
                                std::string_view english, std::string_view explicit_choice,
                                std::string_view accept_language,
                                const boost::json::object& vars = {}) {
    if (locales == nullptr) {
        return std::string(english);
    }
    const std::string key = "errors:" + std::string(code);
    std::string text =
        locales->translate(locales->negotiate(explicit_choice, accept_language), key, vars);
    if (text == key || text.find("{{") != std::string::npos) {
        return std::string(english);
    }
    return text;
}

}  // namespace runicorn::plugin
