#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "api_state.hpp"

namespace runicorn::http_plugin::api {

/// Decodes a Runicorn v0.6 `ENC:<base64>` value of config.json (FORMAT.md §1.3): standard base64
/// of the UTF-8 plaintext XORed with the 32-byte `<config_dir>/.credential_key`, the key repeated.
/// nullopt when `value` is not an ENC: value, is not valid base64, or the key file is missing or
/// not 32 bytes. Read only, to migrate: nothing here ever writes an ENC: value or the key file.
std::optional<std::string> decode_legacy_secret(std::string_view value,
                                                const std::filesystem::path& config_dir);

/// The saved-connection routes of API.md §2.5 over config.json's `ssh_connections` (FORMAT.md
/// §1.3; read-modify-write under config.json.lock, unknown keys kept):
///   GET    /api/config/ssh_connections               {"connections": [item]}
///   POST   /api/config/ssh_connections               upsert by key "host:port@username", newest
///                                                    first, 10 kept → {"ok": true, "message":
///                                                    "SSH connection saved", "secret_stored",
///                                                    "secret_store", "secret_note"}
///   GET    /api/config/ssh_connections/:key/details  {"ok": true, "connection": item}; 404
///   DELETE /api/config/ssh_connections/:key          {"ok": true, "message": "SSH connection
///                                                    removed"}
/// item = {"host", "port", "username", "name", "remember_password", "auth_method",
/// "private_key_path"? (when set), "key", "has_password", "has_private_key", "has_passphrase"}.
/// No answer ever carries a password, passphrase or private key. Secrets are stored only in an OS
/// keyring or under a user-supplied key; this build has neither, so a POST stores no secret
/// (entries keep "password": null, "passphrase": null, "private_key": null, and a v0.6 secret of
/// a re-saved entry is dropped) and says so in secret_stored / secret_store (null) / secret_note.
/// has_password is true for a stored secret: a readable v0.6 ENC: value (decode_legacy_secret())
/// or a `secret_ref`.
Status add_ssh_config_routes(plugin::HttpRoutes& routes, const std::shared_ptr<ApiState>& state);

}  // namespace runicorn::http_plugin::api
