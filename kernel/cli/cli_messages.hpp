#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include <runicorn/plugin/locales.hpp>

#include "commands.hpp"

namespace runicorn::cli {

/// The CLI's user-facing texts: the `cli` namespace of the locales service
/// (runicorn.locales/1, the i18n plugin), keys such as "ls.no_runs", {{var}} interpolation and
/// i18next plurals (`_one`/`_other`). Per key, a text the service lacks falls back to the
/// built-in English catalog, a copy of plugins/i18n/locales/en/cli.json compiled into the
/// executable; without the service (the i18n plugin disabled or missing) every text is English.
///
/// Thread safety: use() and reset() are externally synchronized (called before any thread
/// starts and after they end); text() and plural() are safe for concurrent use between them.
class Messages {
public:
    /// English only, from the built-in catalog.
    Messages();

    /// Takes texts from `locales` in `locale` (a shipped locale, e.g. from negotiate()).
    void use(std::shared_ptr<const plugin::Locales> locales, std::string locale);
    /// Back to the built-in English; releases the service (and so the plugin library).
    void reset() noexcept;
    /// The locale texts come from: "en" without the service.
    const std::string& locale() const { return locale_; }

    /// The text of `key` with `vars` interpolated; the key itself when no catalog has it.
    std::string text(std::string_view key, const boost::json::object& vars = {}) const;
    /// text() of the plural form for `count` (vars["count"] is set to it).
    std::string plural(std::string_view key, std::int64_t count,
                       boost::json::object vars = {}) const;

private:
    std::optional<std::string> builtin(std::string_view key, const boost::json::object& vars) const;

    boost::json::object builtin_;  // the en "cli" namespace
    std::shared_ptr<const plugin::Locales> locales_;
    std::string locale_ = "en";
};

/// The process-wide messages every command prints through.
Messages& messages();

/// messages().text(key, vars).
std::string tr(std::string_view key, const boost::json::object& vars = {});
/// messages().plural(key, count, vars).
std::string tr_n(std::string_view key, std::int64_t count, boost::json::object vars = {});

/// The language the CLI was asked for: `lang_flag` (--lang) if not empty, else the first
/// non-empty of RUNICORN_LANG, LC_ALL, LANG; "" when none is set.
std::string requested_language(const std::string& lang_flag);

/// True for a tag that means English: "", "C", "POSIX", "C.UTF-8", "en", "en-US", "en_GB.UTF-8"...
bool means_english(std::string_view tag);

/// The global options setup_messages() needs, read from argv before the full parse: --lang,
/// --plugin-path (repeatable), --plugins and --log-level, as "--x VALUE" or "--x=VALUE";
/// scanning stops at "--". Returns the --lang value ("" when absent) and fills `g`.
std::string scan_message_options(int argc, const char* const* argv, GlobalOptions& g);

}  // namespace runicorn::cli
