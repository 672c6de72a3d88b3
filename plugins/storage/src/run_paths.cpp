#include "run_paths.hpp"

#include <array>
#include <ctime>

#include "sys_info.hpp"

namespace runicorn::storage {
namespace {

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

Status bad_path(std::string_view raw, std::string_view reason) {
    return Status::invalid_argument("invalid run path '" + std::string(raw) +
                                    "': " + std::string(reason));
}

Status bad_id(std::string_view id, std::string_view reason) {
    return Status::invalid_argument("invalid run id '" + std::string(id) +
                                    "': " + std::string(reason));
}

}  // namespace

Result<std::string> normalize_path(std::optional<std::string_view> raw) {
    // Step 1.
    if (!raw) {
        return std::string("default");
    }
    // Step 2.
    std::string p(*raw);
    for (char& c : p) {
        if (c == '\\') {
            c = '/';
        }
    }
    // Step 3.
    if (p.empty() || p == "/") {
        return std::string();
    }
    // Step 4.
    const auto first = p.find_first_not_of('/');
    if (first == std::string::npos) {
        return bad_path(*raw, "nothing is left after removing leading and trailing '/'");
    }
    const auto last = p.find_last_not_of('/');
    p = p.substr(first, last - first + 1);
    // Step 5.
    std::string collapsed;
    collapsed.reserve(p.size());
    for (char c : p) {
        if (c == '/' && !collapsed.empty() && collapsed.back() == '/') {
            continue;
        }
        collapsed += c;
    }
    // Step 6.
    for (char c : collapsed) {
        if (!is_alnum(c) && c != '_' && c != '-' && c != '/') {
            return bad_path(*raw, "only ASCII letters, digits, '_', '-' and '/' are allowed");
        }
    }
    // Step 7 (implied by step 6; kept so a later change of step 6 cannot open a traversal).
    if (collapsed.find("..") != std::string::npos) {
        return bad_path(*raw, "'..' is not allowed");
    }
    // Step 8.
    if (collapsed.size() > kMaxRunPathLength) {
        return bad_path(*raw, "longer than " + std::to_string(kMaxRunPathLength) + " characters");
    }
    return collapsed;
}

Status validate_run_id(std::string_view id) {
    if (id.empty()) {
        return bad_id(id, "empty");
    }
    if (id.size() > kMaxRunIdLength) {
        return bad_id(id, "longer than " + std::to_string(kMaxRunIdLength) + " characters");
    }
    if (!is_alnum(id[0])) {
        return bad_id(id, "must start with an ASCII letter or digit");
    }
    for (char c : id) {
        if (!is_alnum(c) && c != '_' && c != '.' && c != '-') {
            return bad_id(id, "only ASCII letters, digits, '_', '.' and '-' are allowed");
        }
    }
    if (id.find("..") != std::string_view::npos) {
        return bad_id(id, "'..' is not allowed");
    }
    return Status::ok();
}

bool is_generated_run_id(std::string_view id) {
    if (id.size() != 22 || id[8] != '_' || id[15] != '_') {
        return false;
    }
    for (std::size_t i = 0; i < 15; ++i) {
        if (i != 8 && !is_digit(id[i])) {
            return false;
        }
    }
    for (std::size_t i = 16; i < 22; ++i) {
        if (!is_digit(id[i]) && !(id[i] >= 'a' && id[i] <= 'f')) {
            return false;
        }
    }
    return true;
}

std::string generate_run_id(std::chrono::system_clock::time_point when) {
    const std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm local{};
    ::localtime_r(&t, &local);
    std::array<char, 32> buf{};
    const std::size_t n = std::strftime(buf.data(), buf.size(), "%Y%m%d_%H%M%S_", &local);
    return std::string(buf.data(), n) + random_hex(6);
}

}  // namespace runicorn::storage
