#include <memory>

#include <runicorn/plugin/locales.hpp>
#include <runicorn/plugin/plugin.hpp>

#include "locale_catalog.hpp"

namespace runicorn::i18n {
namespace {

/// Thread safety: safe for concurrent use (the catalogs are immutable after init).
class JsonLocales final : public plugin::Locales {
public:
    explicit JsonLocales(CatalogSet catalogs) : catalogs_(std::move(catalogs)) {}
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

private:
    CatalogSet catalogs_;
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
        return ctx.provide<plugin::Locales>(std::make_shared<JsonLocales>(std::move(catalogs)));
    }
    Status start() override { return Status::ok(); }
    void stop() noexcept override {}
};

}  // namespace
}  // namespace runicorn::i18n

RUNICORN_DECLARE_PLUGIN(runicorn::i18n::I18nPlugin)
