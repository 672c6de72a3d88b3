#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

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
/// Keys are "<namespace>:<dotted.key>". Thread safety: safe for concurrent use.
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
    /// Translates `key` into `locale` with {{var}} interpolation from `vars`; falls back to "en",
    /// then to the key itself.
    virtual std::string translate(std::string_view locale, std::string_view key,
                                  const boost::json::object& vars) const = 0;
    /// The merged catalog of one locale: {"<namespace>": {...}}. NOT_FOUND for an unknown locale.
    virtual Result<boost::json::object> catalog(std::string_view locale) const = 0;

protected:
    Locales() = default;
};

}  // namespace runicorn::plugin
