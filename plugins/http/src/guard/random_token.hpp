#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <runicorn/result.hpp>

namespace runicorn::http_plugin {

/// `bytes` random bytes from the kernel's CSPRNG (getrandom), base64url-encoded without padding.
/// UNAVAILABLE when the kernel cannot supply them.
Result<std::string> random_base64url(std::size_t bytes);

/// base64url (RFC 4648 §5) of `data`, without padding.
std::string base64url(std::string_view data);

/// True when `a` equals `b`. The time taken depends only on the length of `b` (pass the secret
/// as `b`), never on where the two differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace runicorn::http_plugin
