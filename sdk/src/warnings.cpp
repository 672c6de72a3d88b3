#include "warnings.hpp"

#include <cstdlib>

#include <unistd.h>

namespace runicorn::sdk {
namespace {

struct DefaultHandler {
    std::mutex mu;
    WarningHandler handler;
};

DefaultHandler& default_handler() {
    // Leaked on purpose: warnings may come from atexit hooks after static destructors ran.
    static auto* h = new DefaultHandler();
    return *h;
}

void write_stderr(const Warning& w) noexcept {
    if (silenced()) {
        return;
    }
    std::string line = "runicorn: ";
    line += w.message;
    if (w.count > 1) {
        line += " (" + std::to_string(w.count) + " times)";
    }
    line += '\n';
    // One write(2): lines from several threads do not interleave.
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
        const ssize_t n = ::write(STDERR_FILENO, p, left);
        if (n <= 0) {
            return;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
}

}  // namespace

std::uint64_t WarningGate::admit(std::string_view kind, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mu_);
    auto it = kinds_.find(kind);
    if (it == kinds_.end()) {
        kinds_.emplace(std::string(kind), State{now, 0});
        return 1;
    }
    State& s = it->second;
    ++s.pending;
    if (now - s.last < kWarningInterval) {
        return 0;
    }
    const std::uint64_t n = s.pending;
    s.pending = 0;
    s.last = now;
    return n;
}

bool silenced() noexcept {
    static const bool silent = [] {
        // Read once, at the first warning or init, so later calls need no getenv.
        const char* v = std::getenv("RUNICORN_SILENT");  // NOLINT(concurrency-mt-unsafe)
        return v != nullptr && std::string_view(v) == "1";
    }();
    return silent;
}

std::mutex& warning_mutex() { return default_handler().mu; }

void set_default_warning_handler(WarningHandler handler) {
    auto& d = default_handler();
    std::lock_guard lock(d.mu);
    d.handler = std::move(handler);
}

WarningGate& process_warning_gate() {
    static auto* gate = new WarningGate();  // leaked: see default_handler()
    return *gate;
}

void deliver_warning(const WarningHandler& handler, const Warning& w) noexcept {
    try {
        if (handler) {
            handler(w);
            return;
        }
        WarningHandler fallback;
        {
            auto& d = default_handler();
            std::lock_guard lock(d.mu);
            fallback = d.handler;
        }
        if (fallback) {
            fallback(w);
            return;
        }
        write_stderr(w);
    } catch (...) {
        // A warning handler must not break the training program (STYLE.md rule 32).
    }
}

void warn(WarningGate& gate, const WarningHandler& handler, StatusCode code, std::string_view kind,
          std::string message) noexcept {
    try {
        const std::uint64_t n = gate.admit(kind, std::chrono::steady_clock::now());
        if (n == 0) {
            return;
        }
        Warning w;
        w.code = code;
        w.kind = std::string(kind);
        w.message = std::move(message);
        w.count = n;
        deliver_warning(handler, w);
    } catch (...) {
        // Out of memory while warning: nothing more to do.
    }
}

}  // namespace runicorn::sdk
