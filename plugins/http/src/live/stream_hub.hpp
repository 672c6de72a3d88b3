#pragma once

#include <memory>
#include <mutex>

#include <runicorn/plugin/http_routes.hpp>
#include <runicorn/status.hpp>

#include "live_common.hpp"
#include "stream_session.hpp"
#include "stream_upgrader.hpp"

namespace runicorn::http_plugin::live {

/// The live streams of API.md §3: WS /api/runs/{id}/logs/ws, WS /api/runs/{id}/metrics/ws and
/// GET /api/events (SSE). The server hands the connections over after admission; the hub starts
/// the file watcher (one inotify thread) on the first stream and stops it in stop().
///
/// Thread safety: safe for concurrent use.
class StreamHub final : public StreamUpgrader {
public:
    StreamHub(LiveServices services, StreamOptions options);
    ~StreamHub() override;
    StreamHub(const StreamHub&) = delete;
    StreamHub& operator=(const StreamHub&) = delete;
    StreamHub(StreamHub&&) = delete;
    StreamHub& operator=(StreamHub&&) = delete;

    bool wants(const plugin::HttpRequest& request) const override;
    void take(boost::asio::ip::tcp::socket socket,
              boost::beast::http::request<boost::beast::http::string_body> raw,
              plugin::HttpRequest request) noexcept override;
    void stop() noexcept override;

    /// Streams open now (tests).
    std::size_t open_streams() const { return sessions_->size(); }

private:
    /// `events`: the stream is an SSE stream (which gets the runs feed, started on first use).
    StreamEnv env(bool events);

    const LiveServices services_;
    const StreamOptions options_;
    const std::shared_ptr<SessionSet> sessions_ = std::make_shared<SessionSet>();
    std::mutex mu_;
    std::shared_ptr<FileWatchHub> watch_;  // guarded by mu_; started on first use
    std::shared_ptr<RunsFeed> runs_feed_;  // guarded by mu_; started with the first SSE stream
    bool runs_feed_tried_ = false;         // guarded by mu_
    bool watch_failed_ = false;            // guarded by mu_
    bool stopped_ = false;                 // guarded by mu_
};

/// Registers the stream paths as GET routes so that they appear in the OpenAPI document; reached
/// without a WebSocket upgrade they answer 426 {"detail": "WebSocket upgrade required"}
/// (/api/events is always taken over by the hub before routing).
Status add_stream_routes(plugin::HttpRoutes& routes);

}  // namespace runicorn::http_plugin::live
