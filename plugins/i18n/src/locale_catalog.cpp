#include "locale_catalog.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

namespace runicorn::i18n {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

void merge_missing(json::object& into, const json::object& from) {
    for (const auto& kv : from) {
        auto* existing = into.if_contains(kv.key());
        if (existing == nullptr) {
            into.emplace(kv.key(), kv.value());
        } else if (existing->is_object() && kv.value().is_object()) {
            merge_missing(existing->get_object(), kv.value().get_object());
        }
    }
}

/// Appends the dotted path of every string leaf of `obj` to `out`, each after `prefix` ("" or
/// "<namespace>:" at the top, the parent's path below).
void collect_leaves(const json::object& obj, const std::string& prefix,
                    std::vector<std::string>& out) {
    for (const auto& kv : obj) {
        const bool top = prefix.empty() || prefix.back() == ':';
        std::string key = prefix + (top ? "" : ".") + std::string(kv.key());
        if (kv.value().is_object()) {
            collect_leaves(kv.value().get_object(), key, out);
        } else if (kv.value().is_string()) {
            out.push_back(std::move(key));
        }
    }
}

/// The string at "<namespace>:<dotted.key>" (namespace "common" when omitted) in one locale's
/// {namespace: {...}} object.
std::optional<std::string> lookup_in(const json::object& namespaces, std::string_view key) {
    std::string_view ns = "common";
    std::string_view path = key;
    if (auto colon = key.find(':'); colon != std::string_view::npos) {
        ns = key.substr(0, colon);
        path = key.substr(colon + 1);
    }
    const json::value* cur = namespaces.if_contains(ns);
    while (cur != nullptr && !path.empty()) {
        if (!cur->is_object()) {
            return std::nullopt;
        }
        const auto dot = path.find('.');
        cur = cur->get_object().if_contains(path.substr(0, dot));
        path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
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

/// The integral value of vars["count"], if it has one (i18next plurals).
std::optional<std::int64_t> count_of(const json::object& vars) {
    const auto* v = vars.if_contains("count");
    if (v == nullptr) {
        return std::nullopt;
    }
    if (v->is_int64()) {
        return v->get_int64();
    }
    if (v->is_uint64()) {
        return static_cast<std::int64_t>(v->get_uint64());
    }
    if (v->is_double() && std::floor(v->get_double()) == v->get_double()) {
        return static_cast<std::int64_t>(v->get_double());
    }
    return std::nullopt;
}

constexpr std::array<std::string_view, 6> kPluralSuffixes = {"_zero", "_one",  "_two",
                                                             "_few",  "_many", "_other"};

/// "<key>" for "<key>_one", "<key>_other", ...; nullopt for a key without a plural suffix.
std::optional<std::string_view> plural_base(std::string_view key) {
    for (auto suffix : kPluralSuffixes) {
        if (key.size() > suffix.size() && key.ends_with(suffix)) {
            return key.substr(0, key.size() - suffix.size());
        }
    }
    return std::nullopt;
}

}  // namespace

std::vector<std::string> CatalogSet::add_locales_dir(const fs::path& dir) {
    std::vector<std::string> problems;
    std::error_code ec;
    for (fs::directory_iterator langs(dir, ec); !ec && langs != fs::directory_iterator();
         langs.increment(ec)) {
        std::error_code type_ec;
        if (!langs->is_directory(type_ec)) {
            continue;
        }
        const std::string lang = langs->path().filename().string();
        for (fs::directory_iterator files(langs->path(), type_ec);
             !type_ec && files != fs::directory_iterator(); files.increment(type_ec)) {
            const auto& p = files->path();
            if (p.extension() != ".json") {
                continue;
            }
            std::ifstream in(p, std::ios::binary);
            std::stringstream buf;
            buf << in.rdbuf();
            boost::system::error_code jec;
            json::value v = json::parse(buf.str(), jec);
            if (jec || !v.is_object()) {
                problems.push_back("skipping catalog '" + p.string() + "': " +
                                   (jec ? jec.message() : "the top level must be an object"));
                continue;
            }
            auto& ns = catalogs_[lang][p.stem().string()];
            if (!ns.is_object()) {
                ns = json::object{};
            }
            merge_missing(ns.get_object(), v.get_object());
        }
    }
    return problems;
}

std::vector<plugin::LocaleInfo> CatalogSet::locales() const {
    static const std::map<std::string, std::string, std::less<>> native_names = {
        {"en", "English"}, {"zh-CN", "简体中文"}};
    static const std::map<std::string, std::string, std::less<>> english_names = {
        {"en", "English"}, {"zh-CN", "Chinese (Simplified)"}};
    std::vector<std::string> en_leaves;
    if (auto it = catalogs_.find("en"); it != catalogs_.end()) {
        for (const auto& ns : it->second) {
            collect_leaves(ns.value().get_object(), std::string(ns.key()) + ":", en_leaves);
        }
    }
    std::vector<plugin::LocaleInfo> out;
    for (const auto& [code, namespaces] : catalogs_) {
        std::size_t have = 0;
        for (const auto& key : en_leaves) {
            // A plural form en has and this language does not use (zh has no "_one") is
            // covered by the language's "_other".
            const auto base = plural_base(key);
            if (lookup(code, key) || (base && lookup(code, std::string(*base) + "_other"))) {
                ++have;
            }
        }
        auto name = native_names.find(code);
        auto english = english_names.find(code);
        out.push_back({code, english != english_names.end() ? english->second : code,
                       name != native_names.end() ? name->second : code,
                       en_leaves.empty()
                           ? 1.0
                           : static_cast<double>(have) / static_cast<double>(en_leaves.size())});
    }
    std::stable_partition(out.begin(), out.end(), [](const auto& l) { return l.code == "en"; });
    return out;
}

std::optional<std::string> CatalogSet::match(std::string_view requested) const {
    std::string want = lower(requested);
    std::replace(want.begin(), want.end(), '_', '-');
    if (const auto dot = want.find('.'); dot != std::string::npos) {
        want.resize(dot);  // "zh_CN.UTF-8" (LANG)
    }
    const auto shipped = [&](std::string_view tag) -> std::optional<std::string> {
        for (const auto& [code, ns] : catalogs_) {
            if (lower(code) == tag) {
                return code;
            }
        }
        return std::nullopt;
    };
    // Simplified Chinese spellings, then Traditional until a zh-TW catalog exists (API.md §4.8).
    if (want == "zh" || want.starts_with("zh-hans") || want == "zh-sg" || want == "zh-cn") {
        return shipped("zh-cn");
    }
    if (want.starts_with("zh-hant") || want == "zh-tw" || want == "zh-hk") {
        if (auto tw = shipped("zh-tw")) {
            return tw;
        }
        return shipped("zh-cn");
    }
    // Drop subtags until one is known: de-AT → de.
    for (std::string tag = want; !tag.empty();) {
        if (auto code = shipped(tag)) {
            return code;
        }
        const auto dash = tag.rfind('-');
        tag = dash == std::string::npos ? std::string() : tag.substr(0, dash);
    }
    return std::nullopt;
}

std::string CatalogSet::resolve(std::string_view requested) const {
    return match(requested).value_or("en");
}

std::optional<std::string> CatalogSet::best_of(std::string_view accept_language) const {
    // "zh-CN,zh;q=0.9,en;q=0.8": highest q first, ties in the order given; q=0 means "not this".
    std::vector<std::pair<double, std::string>> tags;
    std::size_t pos = 0;
    while (pos <= accept_language.size()) {
        const auto comma = std::min(accept_language.find(',', pos), accept_language.size());
        std::string_view item = accept_language.substr(pos, comma - pos);
        pos = comma + 1;
        double q = 1.0;
        if (const auto semi = item.find(';'); semi != std::string_view::npos) {
            std::string_view param = item.substr(semi + 1);
            item = item.substr(0, semi);
            while (!param.empty() && param.front() == ' ') {
                param.remove_prefix(1);
            }
            if (param.starts_with("q=")) {
                q = std::strtod(std::string(param.substr(2)).c_str(), nullptr);
            }
        }
        while (!item.empty() && item.front() == ' ') {
            item.remove_prefix(1);
        }
        while (!item.empty() && item.back() == ' ') {
            item.remove_suffix(1);
        }
        if (!item.empty() && item != "*" && q > 0) {
            tags.emplace_back(q, std::string(item));
        }
    }
    std::stable_sort(tags.begin(), tags.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [q, tag] : tags) {
        if (auto code = match(tag)) {
            return code;
        }
    }
    return std::nullopt;
}

std::optional<std::string> CatalogSet::lookup(const std::string& locale,
                                              std::string_view key) const {
    auto it = catalogs_.find(locale);
    if (it == catalogs_.end()) {
        return std::nullopt;
    }
    return lookup_in(it->second, key);
}

std::optional<std::string> CatalogSet::lookup_plural(const std::string& locale,
                                                     std::string_view key,
                                                     const json::object& vars) const {
    if (const auto n = count_of(vars)) {
        const std::string k(key);
        if (auto text =
                lookup(locale, k + "_" + std::string(plugin::plural_category(locale, *n)))) {
            return text;
        }
        if (auto text = lookup(locale, k + "_other")) {
            return text;
        }
    }
    return lookup(locale, key);
}

std::string CatalogSet::translate(std::string_view locale, std::string_view key,
                                  const json::object& vars) const {
    auto text = lookup_plural(resolve(locale), key, vars);
    if (!text) {
        text = lookup_plural("en", key, vars);
    }
    return text ? plugin::interpolate(*text, vars) : std::string(key);
}

json::object CatalogSet::flat_messages(std::string_view locale,
                                       const std::vector<std::string>& namespaces) const {
    json::object out;
    auto merged = catalog(locale);
    if (!merged) {
        return out;
    }
    std::vector<std::string> leaves;
    for (const auto& ns : *merged) {
        if (!namespaces.empty() &&
            std::find(namespaces.begin(), namespaces.end(), ns.key()) == namespaces.end()) {
            continue;
        }
        if (ns.value().is_object()) {
            leaves.clear();
            collect_leaves(ns.value().get_object(), std::string(ns.key()) + ":", leaves);
            for (const auto& key : leaves) {
                // "<ns>:<a.b>" → "<ns>.<a.b>", the flattened form of API.md §4.8.
                std::string flat = key;
                flat[flat.find(':')] = '.';
                if (auto text = lookup_in(*merged, key)) {
                    out[flat] = *text;
                }
            }
        }
    }
    return out;
}

Result<json::object> CatalogSet::catalog(std::string_view locale) const {
    auto it = catalogs_.find(locale);
    if (it == catalogs_.end()) {
        return Status::not_found("locale '" + std::string(locale) + "' is not available");
    }
    json::object merged = it->second;
    if (auto en = catalogs_.find("en"); en != catalogs_.end() && locale != "en") {
        merge_missing(merged, en->second);  // per-key fallback to en
    }
    return merged;
}

}  // namespace runicorn::i18n
