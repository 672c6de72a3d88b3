#include "cli_language.hpp"

#include <algorithm>

#include <runicorn/plugin/locales.hpp>

#include "cli_messages.hpp"
#include "config.hpp"

namespace runicorn::cli {

MessagesScope::~MessagesScope() {
    if (session_) {
        messages().reset();  // before the host below unloads the plugin
    }
}

MessagesScope setup_messages(const GlobalOptions& g, const std::string& lang_flag) {
    if (means_english(requested_language(lang_flag))) {
        return MessagesScope();
    }
    auto cfg = kernel::load_config(g.overrides, kernel::process_env());
    if (!cfg) {
        return MessagesScope();  // the command itself reports the configuration error
    }
    if (cfg->enabled_plugins &&
        std::find(cfg->enabled_plugins->begin(), cfg->enabled_plugins->end(), "i18n") ==
            cfg->enabled_plugins->end()) {
        return MessagesScope();
    }
    GlobalOptions only_i18n = g;
    only_i18n.overrides.plugins = "i18n";
    auto session = open_session(only_i18n, spdlog::level::off);
    if (!session) {
        return MessagesScope();
    }
    session->host->load();
    session->host->init();  // the i18n plugin starts no threads; start() is not needed
    auto locales = session->host->find<plugin::Locales>();
    if (locales == nullptr) {
        return MessagesScope();
    }
    const std::string locale = locales->negotiate(lang_flag, "");
    messages().use(std::move(locales), locale);
    return MessagesScope(std::move(*session));
}

}  // namespace runicorn::cli
