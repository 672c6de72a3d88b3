#include "connection_limiter.hpp"

#include "rate_limiter.hpp"

namespace runicorn::http_plugin {

ConnectionLimiter::ConnectionLimiter(std::size_t max_total, std::size_t max_per_peer)
    : max_total_(max_total), max_per_peer_(max_per_peer) {}

ConnectionLimiter::Verdict ConnectionLimiter::acquire(const std::string& peer_address, bool force) {
    const bool loopback = is_loopback_peer(peer_address);
    const std::string key = loopback ? std::string() : peer_key(peer_address);
    const std::lock_guard lock(mutex_);
    if (!loopback) {
        auto it = per_peer_.find(key);
        if (it != per_peer_.end() && it->second >= max_per_peer_) {
            return Verdict::kPeerFull;
        }
    }
    if (total_ >= max_total_ && !force) {
        return Verdict::kTotalFull;
    }
    ++total_;
    if (!loopback) {
        ++per_peer_[key];
    }
    return Verdict::kAdmit;
}

void ConnectionLimiter::release(const std::string& peer_address) {
    const bool loopback = is_loopback_peer(peer_address);
    const std::lock_guard lock(mutex_);
    if (total_ > 0) {
        --total_;
    }
    if (!loopback) {
        auto it = per_peer_.find(peer_key(peer_address));
        if (it != per_peer_.end() && --it->second == 0) {
            per_peer_.erase(it);
        }
    }
}

std::size_t ConnectionLimiter::total() const {
    const std::lock_guard lock(mutex_);
    return total_;
}

}  // namespace runicorn::http_plugin
