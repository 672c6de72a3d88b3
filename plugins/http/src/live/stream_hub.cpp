#include "stream_hub.hpp"

#include <algorithm>
#include <utility>

#include "../http_router.hpp"
#include "../responses.hpp"

namespace runicorn::http_plugin::live {
namespace {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

enum class Kind { kNone, kLogs, kMetrics, kEvents };

bool has_token(const std::optional<std::string>& header, std::string_view token) {
    if (!header) {
        return false;
    }
    std::string lower(*header);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return lower.find(token) != std::string::npos;
}

Kind classify(const plugin::HttpRequest& req, std::string* run_id) {
    if (req.method != "GET") {
        return Kind::kNone;
    }
    auto parsed = parse_target(req.target);
    if (!parsed) {
        return Kind::kNone;
    }
    const auto& seg = parsed->segments;
    if (seg.size() == 2 && seg[0] == "api" && seg[1] == "events") {
        return Kind::kEvents;
    }
    const bool upgrade = has_token(req.header("upgrade"), "websocket") &&
                         has_token(req.header("connection"), "upgrade");
    if (!upgrade || seg.size() != 5 || seg[0] != "api" || seg[1] != "runs" || seg[4] != "ws" ||
        seg[2].empty()) {
        return Kind::kNone;
    }
    if (run_id != nullptr) {
        *run_id = seg[2];
    }
    if (seg[3] == "logs") {
        return Kind::kLogs;
    }
    if (seg[3] == "metrics") {
        return Kind::kMetrics;
    }
    return Kind::kNone;
}

}  // namespace

StreamHub::StreamHub(LiveServices services, StreamOptions options)
    : services_(std::move(services)), options_(options) {}

StreamHub::~StreamHub() { stop(); }

bool StreamHub::wants(const plugin::HttpRequest& request) const {
    return classify(request, nullptr) != Kind::kNone;
}

StreamEnv StreamHub::env(bool events) {
    StreamEnv e;
    e.services = services_;
    e.options = options_;
    e.sessions = sessions_;
    const std::lock_guard lock(mu_);
    if (events && !runs_feed_tried_ && !stopped_) {
        runs_feed_tried_ = true;
        runs_feed_ = RunsFeed::start(services_.runs);
        if (runs_feed_ == nullptr && services_.runs != nullptr) {
            services_.logger->warn("the run store reports no changes; the SSE runs channel is off");
        }
    }
    e.runs_feed = runs_feed_;
    if (watch_ == nullptr && !watch_failed_ && !stopped_) {
        auto hub = FileWatchHub::start(services_.logger);
        if (hub) {
            watch_ = std::move(*hub);
        } else {
            watch_failed_ = true;
            services_.logger->warn("{}; live streams will only replay", hub.error().message());
        }
    }
    e.watch = watch_;
    return e;
}

void StreamHub::take(tcp::socket socket, http::request<http::string_body> raw,
                     plugin::HttpRequest request) noexcept {
    try {
        if (auto parsed = parse_target(request.target)) {
            request.path = parsed->path;
            request.query = parsed->query;
        }
        {
            const std::lock_guard lock(mu_);
            if (stopped_) {
                send_plain_response(std::move(socket),
                                    error_response(503, "UNAVAILABLE", "Server is stopping"),
                                    raw.version());
                return;
            }
        }
        std::string run_id;
        const Kind kind = classify(request, &run_id);
        const StreamEnv e = env(kind == Kind::kEvents);
        switch (kind) {
            case Kind::kLogs:
                return start_log_stream(std::move(socket), std::move(raw), std::move(request),
                                        std::move(run_id), e);
            case Kind::kMetrics:
                return start_metric_stream(std::move(socket), std::move(raw), std::move(request),
                                           std::move(run_id), e);
            case Kind::kEvents:
                return start_event_stream(std::move(socket), std::move(raw), std::move(request), e);
            case Kind::kNone:
                break;
        }
        send_plain_response(std::move(socket), error_response(404, "Not Found"), raw.version());
    } catch (const std::exception& e) {
        services_.logger->error("starting a live stream failed: {}", e.what());
    } catch (...) {
        services_.logger->error("starting a live stream failed");
    }
}

void StreamHub::stop() noexcept {
    std::shared_ptr<FileWatchHub> watch;
    std::shared_ptr<RunsFeed> feed;
    {
        const std::lock_guard lock(mu_);
        if (stopped_) {
            return;
        }
        stopped_ = true;
        watch = watch_;
        feed = std::move(runs_feed_);
    }
    // After this the store's notifications post nothing to the sessions' strands.
    if (feed != nullptr) {
        feed->stop();
    }
    sessions_->close_all(std::chrono::seconds(2));
    // After this no callback posts to a strand of the server's io_context.
    if (watch != nullptr) {
        watch->stop();
    }
}

Status add_stream_routes(plugin::HttpRoutes& routes) {
    const auto upgrade_required = [](const plugin::HttpRequest&) {
        plugin::HttpResponse r =
            error_response(426, "UPGRADE_REQUIRED", "WebSocket upgrade required");
        r.headers.emplace_back("Upgrade", "websocket");
        return r;
    };
    plugin::RouteSpec logs{"GET", "/api/runs/:run_id/logs/ws", "Log lines as they are written",
                           true};
    logs.stream = "websocket";
    logs.tags = {"streams"};
    logs.parameters = {{"tail", "query", false, "integer", "0..100000 lines replayed"},
                       {"since", "query", false, "integer", "byte offset to resume from"},
                       {"format", "query", false, "string", "json for JSON frames"}};
    RUNICORN_RETURN_IF_ERROR(routes.add_route(logs, make_handler(upgrade_required)));
    plugin::RouteSpec metrics{"GET", "/api/runs/:run_id/metrics/ws",
                              "Metric records as they are written", false};
    metrics.stream = "websocket";
    metrics.tags = {"streams"};
    metrics.parameters = {{"keys", "query", false, "string", "comma list"},
                          {"since", "query", false, "string", "cursor"}};
    RUNICORN_RETURN_IF_ERROR(routes.add_route(metrics, make_handler(upgrade_required)));
    plugin::RouteSpec events{"GET", "/api/events", "Server-Sent Events of several runs", false};
    events.stream = "sse";
    events.tags = {"streams"};
    events.parameters = {{"runs", "query", false, "string", "comma list, at most 50"},
                         {"channels", "query", false, "string", "metrics,logs,status,runs"}};
    return routes.add_route(events, make_handler([](const plugin::HttpRequest&) {
                                return error_response(503, "UNAVAILABLE",
                                                      "Event streams are not available");
                            }));
}

}  // namespace runicorn::http_plugin::live
