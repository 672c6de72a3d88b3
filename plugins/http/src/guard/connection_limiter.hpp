#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace runicorn::http_plugin {

/// Counts open connections against the caps of API.md §1.3: a total, and a cap per peer key
/// (see peer_key(); IPv6 grouped by /64) that loopback peers are exempt from.
///
/// Thread safety: safe for concurrent use.
class ConnectionLimiter {
public:
    enum class Verdict {
        kAdmit,      ///< Counted; call release() when the connection ends.
        kTotalFull,  ///< Not counted: the total cap is reached (the caller may evict one).
        kPeerFull,   ///< Not counted: this peer has its share.
    };

    ConnectionLimiter(std::size_t max_total, std::size_t max_per_peer);
    ConnectionLimiter(const ConnectionLimiter&) = delete;
    ConnectionLimiter& operator=(const ConnectionLimiter&) = delete;
    ConnectionLimiter(ConnectionLimiter&&) = delete;
    ConnectionLimiter& operator=(ConnectionLimiter&&) = delete;
    ~ConnectionLimiter() = default;

    /// Counts a connection from `peer_address` unless a cap is reached. With `force`, the total
    /// cap is ignored (the caller has just evicted a connection that is still closing).
    Verdict acquire(const std::string& peer_address, bool force = false);
    /// Uncounts a connection acquire() admitted.
    void release(const std::string& peer_address);

    std::size_t total() const;

private:
    const std::size_t max_total_;
    const std::size_t max_per_peer_;
    mutable std::mutex mutex_;
    std::size_t total_ = 0;
    std::unordered_map<std::string, std::size_t> per_peer_;  // non-loopback peers only
};

}  // namespace runicorn::http_plugin
