// WS /api/runs/{run_id}/metrics/ws (API.md §3.2): new metric records as they are written.

#include <set>
#include <utility>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../responses.hpp"
#include "stream_session.hpp"

namespace runicorn::http_plugin::live {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace json = boost::json;
using tcp = net::ip::tcp;

/// One §3.2 row: {"global_step", "time", "stage", "values"} with only the keys in `filter`
/// (all when empty); nullopt when the filter leaves no value.
std::optional<json::object> row_json(const plugin::MetricRecord& r,
                                     const std::set<std::string>& filter) {
    json::object values;
    for (const auto& kv : r.values) {
        if (filter.empty() || filter.count(std::string(kv.key())) != 0) {
            values.emplace(kv.key(), kv.value());
        }
    }
    if (!filter.empty() && values.empty()) {
        return std::nullopt;
    }
    json::object row;
    row["global_step"] = r.global_step ? json::value(*r.global_step) : json::value(nullptr);
    if (r.time && std::isfinite(*r.time)) {
        row["time"] = *r.time;
    } else {
        row["time"] = nullptr;
    }
    row["stage"] = r.stage ? json::value(*r.stage) : json::value(nullptr);
    row["values"] = std::move(values);
    return row;
}

/// Thread safety: strand-bound.
class MetricSession final : public WsSession {
public:
    MetricSession(tcp::socket&& socket, StreamEnv env, plugin::RunInfo run,
                  std::set<std::string> keys, std::string cursor)
        : WsSession(std::move(socket), std::move(env)),
          run_(std::move(run)),
          filter_(std::move(keys)),
          cursor_(std::move(cursor)) {}

private:
    void on_open() override {
        auto mk = env_.services.series->metric_keys(run_.location.run_id);
        if (!mk) {
            error(mk.error().message());
            return finish();
        }
        json::array keys;
        for (const auto& k : mk->at("keys").as_array()) {
            const std::string name(k.at("key").as_string());
            // `time` and `stage` are row fields of their own here, not values (§3.2).
            if (name != "time" && name != "stage" && known_.insert(name).second) {
                keys.emplace_back(name);
            }
        }
        if (cursor_.empty()) {
            cursor_ = std::string(mk->at("cursor").as_string());
        }
        status_ = status_fields(run_);
        json::object hello;
        hello["type"] = "hello";
        hello["run_id"] = run_.location.run_id;
        hello["status"] = run_.status;
        hello["cursor"] = cursor_;
        hello["keys"] = std::move(keys);
        hello["last_step"] = mk->at("last_step");
        send(json::serialize(hello));
        watch_dir(run_.location.dir);
        pump();
    }

    void on_wake(unsigned bits) override {
        if ((bits & kWakeData) != 0) {
            pump();
        }
        if ((bits & kWakeStatus) != 0) {
            check_status();
        }
    }

    void on_drained() override { pump(); }

    std::string slow_consumer_frame() const override {
        return R"({"type":"reset","reason":"slow_consumer"})";
    }

    void on_text(std::string_view text) override {
        boost::system::error_code ec;
        const json::value v = json::parse(text, ec);
        const json::object* o = !ec && v.is_object() ? &v.as_object() : nullptr;
        const json::value* type = o != nullptr ? o->if_contains("type") : nullptr;
        if (type == nullptr || !type->is_string() || type->as_string() != "subscribe") {
            return error_frame("expected {\"type\": \"subscribe\", \"keys\": [...]}");
        }
        const json::value* keys = o->if_contains("keys");
        std::set<std::string> filter;
        if (keys != nullptr && !keys->is_null()) {
            if (!keys->is_array()) {
                return error_frame("keys: Input should be a valid list");
            }
            for (const json::value& k : keys->as_array()) {
                if (!k.is_string()) {
                    return error_frame("keys: Input should be a valid string");
                }
                filter.emplace(k.as_string());
            }
        }
        filter_ = std::move(filter);
        // An acknowledgement (an addition to §3.2): rows after it use the new key set.
        json::object ack;
        ack["type"] = "subscribed";
        json::array list;
        for (const std::string& k : filter_) {
            list.emplace_back(k);
        }
        ack["keys"] = std::move(list);
        send(json::serialize(ack));
    }

    void pump() {
        bool at_end = false;
        while (!at_end && !above_high_water() && !finishing()) {
            auto batch = env_.services.series->read_records(run_.location.dir, cursor_,
                                                            env_.options.read_chunk_bytes, false);
            if (!batch || batch->reset) {
                if (run_gone(env_.services.runs->read_run(run_.location))) {
                    error("run deleted");
                    return finish();
                }
            }
            if (!batch) {
                error(batch.error().message());
                return finish();
            }
            if (batch->reset) {
                send(R"({"type":"reset","reason":"file_rewritten"})");
                return finish();
            }
            at_end = batch->at_end;
            json::array added;
            json::array rows;
            for (const plugin::MetricRecord& r : batch->records) {
                for (const auto& kv : r.values) {
                    if (known_.emplace(kv.key()).second) {
                        added.emplace_back(kv.key());
                    }
                }
                if (auto row = row_json(r, filter_)) {
                    rows.emplace_back(std::move(*row));
                }
            }
            cursor_ = batch->cursor;
            if (!added.empty()) {
                json::object k;
                k["type"] = "keys";
                k["added"] = std::move(added);
                send(json::serialize(k));
            }
            if (!rows.empty()) {
                json::object frame;
                frame["type"] = "rows";
                frame["cursor"] = cursor_;
                frame["rows"] = std::move(rows);
                send(json::serialize(frame));
            }
        }
    }

    void check_status() {
        auto run = env_.services.runs->read_run(run_.location);
        if (run_gone(run)) {
            error("run deleted");
            return finish();
        }
        if (!run) {
            return;
        }
        json::object now = status_fields(*run);
        if (now == status_) {
            return;
        }
        status_ = now;
        json::object frame;
        frame["type"] = "status";
        for (auto& kv : now) {
            frame.emplace(kv.key(), kv.value());
        }
        send(json::serialize(frame));
    }

    void error_frame(const std::string& detail) {
        json::object o;
        o["type"] = "error";
        o["detail"] = detail;
        send(json::serialize(o));
    }

    void error(const std::string& detail) { error_frame(detail); }

    plugin::RunInfo run_;
    std::set<std::string> filter_;
    std::string cursor_;
    std::set<std::string> known_;
    json::object status_;
};

}  // namespace

void start_metric_stream(tcp::socket socket, http::request<http::string_body> raw,
                         plugin::HttpRequest request, std::string run_id, const StreamEnv& env) {
    const unsigned version = raw.version();
    if (env.services.runs == nullptr || env.services.series == nullptr) {
        return send_plain_response(std::move(socket), storage_missing(), version);
    }
    auto run = env.services.runs->find_run(run_id, false);
    if (!run) {
        return send_plain_response(std::move(socket), run_not_found(), version);
    }
    std::set<std::string> keys;
    if (auto k = request.query_value("keys")) {
        for (std::string& key : split_list(*k)) {
            keys.insert(std::move(key));
        }
    }
    std::string since = request.query_value("since").value_or("");
    if (!since.empty()) {
        // Validates the cursor before the upgrade, so a bad one is a plain 422.
        auto probe = env.services.series->read_records(run->location.dir, since, 1, false);
        if (!probe && probe.error().code() == StatusCode::kInvalidArgument) {
            return send_plain_response(
                std::move(socket),
                validation_error({"query", "since"}, "Invalid cursor", "value_error"), version);
        }
    }
    auto session = std::make_shared<MetricSession>(std::move(socket), env, std::move(*run),
                                                   std::move(keys), std::move(since));
    session->run(std::move(raw));
}

}  // namespace runicorn::http_plugin::live
