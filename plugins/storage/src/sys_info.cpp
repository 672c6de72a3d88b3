#include "sys_info.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>
#include <string_view>

#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace runicorn::storage {
namespace fs = std::filesystem;

namespace {

std::string read_small_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        return {};
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    return buf.str();
}

/// Fields 3.. of /proc/<pid>/stat (after the parenthesised command name, which may itself hold
/// spaces and parentheses).
std::optional<std::string> stat_fields(pid_t pid) {
    const std::string text = read_small_file("/proc/" + std::to_string(pid) + "/stat");
    const auto close = text.rfind(')');
    if (close == std::string::npos || close + 2 > text.size()) {
        return std::nullopt;
    }
    return text.substr(close + 2);
}

double clock_seconds(clockid_t id) {
    timespec ts{};
    ::clock_gettime(id, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

double wall_now() noexcept {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(now).count()) /
           1e6;
}

std::string local_hostname() {
    std::array<char, 256> buf{};
    if (::gethostname(buf.data(), buf.size() - 1) != 0) {
        return {};
    }
    return std::string(buf.data());
}

std::string local_boot_id() {
    std::string id = read_small_file("/proc/sys/kernel/random/boot_id");
    while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) {
        id.pop_back();
    }
    return id;
}

std::string platform_string() {
    utsname u{};
    if (::uname(&u) != 0) {
        return "unknown";
    }
    return std::string(u.sysname) + " " + u.release + " (" + u.machine + ")";
}

std::optional<double> process_start_time(pid_t pid) {
    const auto fields = stat_fields(pid);
    if (!fields) {
        return std::nullopt;
    }
    // starttime is field 22 of stat; `fields` begins at field 3 (state).
    std::istringstream in(*fields);
    std::string token;
    for (int field = 3; field <= 22; ++field) {
        if (!(in >> token)) {
            return std::nullopt;
        }
    }
    std::uint64_t ticks = 0;
    try {
        ticks = static_cast<std::uint64_t>(std::stoull(token));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    const auto hz = ::sysconf(_SC_CLK_TCK);
    if (hz <= 0) {
        return std::nullopt;
    }
    // starttime counts clock ticks since boot on the boot-time clock; map it to the wall clock.
    const double since_boot = static_cast<double>(ticks) / static_cast<double>(hz);
    return clock_seconds(CLOCK_REALTIME) - (clock_seconds(CLOCK_BOOTTIME) - since_boot);
}

bool pid_alive(pid_t pid) {
    if (pid <= 0) {
        return false;
    }
    if (const auto fields = stat_fields(pid)) {
        return !fields->empty() && (*fields)[0] != 'Z' && (*fields)[0] != 'X';
    }
    if (::kill(pid, 0) == 0) {
        return true;
    }
    return errno == EPERM;
}

std::string random_hex(std::size_t n) {
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string bytes((n + 1) / 2, '\0');
    std::size_t got = 0;
    while (got < bytes.size()) {
        const ssize_t r = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        got += static_cast<std::size_t>(r);
    }
    if (got < bytes.size()) {
        // No getrandom (very old kernel): std::random_device reads the kernel CSPRNG as well.
        std::random_device rd;
        for (; got < bytes.size(); ++got) {
            bytes[got] = static_cast<char>(rd() & 0xFF);
        }
    }
    std::string out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const auto b = static_cast<unsigned char>(bytes[i / 2]);
        out += kHex[(i % 2 == 0) ? (b >> 4) : (b & 0xF)];
    }
    return out;
}

fs::path detect_workspace_root() {
    std::error_code ec;
    fs::path cwd = fs::current_path(ec);
    if (ec) {
        return {};
    }
    for (fs::path dir = cwd;; dir = dir.parent_path()) {
        if (fs::exists(dir / ".git", ec)) {
            return dir;
        }
        if (dir == dir.parent_path()) {
            break;
        }
    }
    return cwd;
}

}  // namespace runicorn::storage
