#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include <runicorn/plugin/locales.hpp>
#include <runicorn/result.hpp>

namespace runicorn::i18n {

/// Catalogs of every locale, by namespace, merged from several locales/ directories
/// (locales/<lang>/<namespace>.json, i18next JSON). Where two directories define the same key, the
/// first one added wins.
///
/// Thread safety: externally synchronized while adding; const methods are safe for concurrent use.
class CatalogSet {
public:
    /// Merges `<dir>/<lang>/<ns>.json`. Files that are not a JSON object are skipped; each problem
    /// is returned as a message naming the file (the caller logs them).
    std::vector<std::string> add_locales_dir(const std::filesystem::path& dir);

    std::vector<plugin::LocaleInfo> locales() const;
    /// The shipped locale for a tag: case-insensitive, `_` as `-`, an encoding suffix dropped,
    /// Chinese variants mapped (API.md §4.8), subtags dropped until one is known; nullopt if none.
    std::optional<std::string> match(std::string_view requested) const;
    /// match(), or "en".
    std::string resolve(std::string_view requested) const;
    /// The best shipped locale of an Accept-Language header by q-value; nullopt when none fits.
    std::optional<std::string> best_of(std::string_view accept_language) const;
    /// Every string of a locale (en filling its gaps), keys flattened "<namespace>.<key>"; only
    /// the given namespaces when `namespaces` is not empty.
    boost::json::object flat_messages(std::string_view locale,
                                      const std::vector<std::string>& namespaces) const;
    /// `key` is "<namespace>:<dotted.key>" (namespace "common" when omitted); plurals and
    /// fallback as plugin::Locales::translate says.
    std::string translate(std::string_view locale, std::string_view key,
                          const boost::json::object& vars) const;
    Result<boost::json::object> catalog(std::string_view locale) const;

private:
    std::optional<std::string> lookup(const std::string& locale, std::string_view key) const;
    /// lookup() of the plural form vars["count"] selects in `locale`, then of `key` itself.
    std::optional<std::string> lookup_plural(const std::string& locale, std::string_view key,
                                             const boost::json::object& vars) const;

    std::map<std::string, boost::json::object, std::less<>> catalogs_;  // locale -> {ns: {...}}
};

}  // namespace runicorn::i18n
