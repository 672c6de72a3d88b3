#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <runicorn/runicorn.hpp>

namespace runicorn::sdk {

using WarningHandler = std::function<void(const Warning&)>;

/// The rate limit of one warning kind (SDK.md §1.7): once per 30 s.
inline constexpr std::chrono::seconds kWarningInterval{30};

/// Rate-limits warnings per kind: the first of a kind passes, later ones within kWarningInterval
/// are only counted, and the next one after the interval passes with the count of what it stands
/// for. Thread safety: safe for concurrent use.
class WarningGate {
public:
    /// Returns the count to report (≥ 1) when this occurrence should be delivered, else 0.
    std::uint64_t admit(std::string_view kind, std::chrono::steady_clock::time_point now);
    /// Locked around fork() for the process gate.
    std::mutex& mutex() noexcept { return mu_; }

private:
    struct State {
        std::chrono::steady_clock::time_point last;
        std::uint64_t pending = 0;
    };
    std::mutex mu_;
    std::map<std::string, State, std::less<>> kinds_;
};

/// Delivers `w` to `handler` (when set) or else to the process default: a handler installed by
/// set_default_warning_handler, or one "runicorn: <message>" line on stderr unless
/// RUNICORN_SILENT=1. Exceptions from a handler are swallowed. Call it with no SDK lock held.
void deliver_warning(const WarningHandler& handler, const Warning& w) noexcept;

/// Rate-limits through `gate` and delivers.
void warn(WarningGate& gate, const WarningHandler& handler, StatusCode code, std::string_view kind,
          std::string message) noexcept;

/// Replaces the process default handler (the C ABI's rn_set_warning_callback); an empty handler
/// restores stderr.
void set_default_warning_handler(WarningHandler handler);

/// The gate for warnings that belong to no run (init_or_noop failures, plugin messages).
WarningGate& process_warning_gate();

/// Whether RUNICORN_SILENT=1 was set when the SDK first looked (read once).
bool silenced() noexcept;

/// Locked around fork() (the default handler's mutex); see fork handling in writer.cpp.
std::mutex& warning_mutex();

}  // namespace runicorn::sdk
