#include "random_token.hpp"

#include <cerrno>
#include <string>
#include <system_error>

#include <sys/random.h>

namespace runicorn::http_plugin {

std::string base64url(std::string_view data) {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve((data.size() * 4 + 2) / 3);
    std::size_t i = 0;
    const auto byte = [&data](std::size_t k) { return static_cast<unsigned char>(data[k]); };
    for (; i + 3 <= data.size(); i += 3) {
        const unsigned v = (byte(i) << 16U) | (byte(i + 1) << 8U) | byte(i + 2);
        out.push_back(kAlphabet[(v >> 18U) & 63U]);
        out.push_back(kAlphabet[(v >> 12U) & 63U]);
        out.push_back(kAlphabet[(v >> 6U) & 63U]);
        out.push_back(kAlphabet[v & 63U]);
    }
    if (data.size() - i == 1) {
        const unsigned v = byte(i) << 16U;
        out.push_back(kAlphabet[(v >> 18U) & 63U]);
        out.push_back(kAlphabet[(v >> 12U) & 63U]);
    } else if (data.size() - i == 2) {
        const unsigned v = (byte(i) << 16U) | (byte(i + 1) << 8U);
        out.push_back(kAlphabet[(v >> 18U) & 63U]);
        out.push_back(kAlphabet[(v >> 12U) & 63U]);
        out.push_back(kAlphabet[(v >> 6U) & 63U]);
    }
    return out;
}

Result<std::string> random_base64url(std::size_t bytes) {
    std::string raw(bytes, '\0');
    std::size_t filled = 0;
    while (filled < bytes) {
        const ssize_t n = getrandom(raw.data() + filled, bytes - filled, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return Status::unavailable("cannot read random bytes: " +
                                       std::error_code(errno, std::generic_category()).message());
        }
        filled += static_cast<std::size_t>(n);
    }
    return base64url(raw);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    // Walk the secret's length whatever `a` is, folding the length difference into the result.
    unsigned diff = a.size() == b.size() ? 0U : 1U;
    for (std::size_t i = 0; i < b.size(); ++i) {
        const unsigned char x = a.empty() ? 0 : static_cast<unsigned char>(a[i % a.size()]);
        diff |= static_cast<unsigned>(x ^ static_cast<unsigned char>(b[i]));
    }
    return diff == 0;
}

}  // namespace runicorn::http_plugin
