#pragma once

#include <optional>
#include <string>

#include "commands.hpp"

namespace runicorn::cli {

/// Keeps the i18n plugin loaded for messages() and turns messages() back to built-in English
/// when destroyed (returned as a prvalue, so it is never moved). Thread safety: externally
/// synchronized.
class MessagesScope {
public:
    MessagesScope() = default;
    explicit MessagesScope(Session session) : session_(std::move(session)) {}
    ~MessagesScope();
    MessagesScope(const MessagesScope&) = delete;
    MessagesScope& operator=(const MessagesScope&) = delete;
    MessagesScope(MessagesScope&&) = delete;
    MessagesScope& operator=(MessagesScope&&) = delete;

private:
    std::optional<Session> session_;
};

/// Chooses the CLI's language (API.md §4.8: --lang > RUNICORN_LANG / LC_ALL / LANG > en) and
/// points messages() at it. Unless that is English, or the enabled plugin list (--plugins,
/// RUNICORN_PLUGINS, config.json) leaves the i18n plugin out, it loads only the i18n plugin, in
/// a plugin host of its own built from `g` (so locale packs in --plugin-path count). Any failure
/// leaves messages() in English; this never fails the command.
MessagesScope setup_messages(const GlobalOptions& g, const std::string& lang_flag);

}  // namespace runicorn::cli
