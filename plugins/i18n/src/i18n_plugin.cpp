#include <cstdlib>
#include <functional>
#include <memory>

#include <boost/json.hpp>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/plugin/locales.hpp>
#include <runicorn/plugin/plugin.hpp>

#include "i18n_routes.hpp"
#include "locale_catalog.hpp"

namespace runicorn::i18n {
namespace {

/// Thread safety: safe for concurrent use (the catalogs are immutable after init).
class JsonLocales final : public plugin::Locales {
public:
    JsonLocales(CatalogSet catalogs, std::string server_default)
        : catalogs_(std::move(catalogs)), server_default_(std::move(server_default)) {}
    std::vector<plugin::LocaleInfo> locales() const override { return catalogs_.locales(); }
    std::string resolve(std::string_view requested) const override {
        return catalogs_.resolve(requested);
    }
    std::string translate(std::string_view locale, std::string_view key,
                          const boost::json::object& vars) const override {
        return catalogs_.translate(locale, key, vars);
    }
    Result<boost::json::object> catalog(std::string_view locale) const override {
        return catalogs_.catalog(locale);
    }
    std::string negotiate(std::string_view explicit_choice,
                          std::string_view accept_language) const override {
        if (!explicit_choice.empty()) {
            if (auto code = catalogs_.match(explicit_choice)) {
                return *code;
            }
        }
        if (auto code = catalogs_.best_of(accept_language)) {
            return *code;
        }
        return server_default_;
    }
    const CatalogSet& catalogs() const { return catalogs_; }

private:
    CatalogSet catalogs_;
    std::string server_default_;
};

/// Merges its own catalogs first, then those of every other plugin directory (data-only locale
/// packs included), in the kernel's search order.
class I18nPlugin final : public plugin::Plugin {
public:
    Status init(plugin::PluginContext& ctx) override {
        CatalogSet catalogs;
        auto log = ctx.logger();
        const auto add = [&](const std::filesystem::path& dir) {
            for (const auto& problem : catalogs.add_locales_dir(dir)) {
                log->warn("{}", problem);
            }
        };
        add(ctx.plugin_dir() / "locales");
        for (const auto& root : ctx.plugin_dirs()) {
            std::error_code ec;
            for (std::filesystem::directory_iterator it(root, ec);
                 !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
                if (it->path() != ctx.plugin_dir() &&
                    std::filesystem::is_directory(it->path() / "locales", ec)) {
                    add(it->path() / "locales");
                }
            }
        }
        // The server's own language: RUNICORN_LANG > LC_ALL > LANG > en (API.md §4.8).
        std::string server_default = "en";
        for (const char* var : {"RUNICORN_LANG", "LC_ALL", "LANG"}) {
            const char* v = std::getenv(var);  // NOLINT(concurrency-mt-unsafe): init runs first
            if (v != nullptr && *v != '\0') {
                server_default = catalogs.match(v).value_or("en");
                break;
            }
        }
        auto locales = std::make_shared<JsonLocales>(std::move(catalogs), server_default);
        RUNICORN_RETURN_IF_ERROR(ctx.provide<plugin::Locales>(locales));
        if (auto routes = ctx.find<plugin::HttpRoutes>()) {
            RUNICORN_RETURN_IF_ERROR(
                add_i18n_routes(*routes, locales,
                                [locales]() -> const CatalogSet& { return locales->catalogs(); }));
            routes->set_locales(locales);
        }
        return Status::ok();
    }
    Status start() override { return Status::ok(); }
    void stop() noexcept override {}
};

}  // namespace
}  // namespace runicorn::i18n

RUNICORN_DECLARE_PLUGIN(runicorn::i18n::I18nPlugin)
