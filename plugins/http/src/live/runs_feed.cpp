#include "runs_feed.hpp"

#include <chrono>
#include <utility>

#include <boost/json/serialize.hpp>

#include "../api/run_json.hpp"

namespace runicorn::http_plugin::live {
namespace {

namespace json = boost::json;

std::string make_epoch() {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(ns));
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0U);
}

std::string event_data(const plugin::RunChange& change, double now) {
    json::object data;
    const bool removed = change.kind == plugin::RunChange::Kind::kRemoved;
    const bool deleted =
        removed || change.run.location.deleted || change.run.deleted_at.has_value();
    data["op"] = deleted ? "delete" : "upsert";
    if (deleted) {
        data["reason"] = removed ? "removed" : "soft_deleted";
    }
    data["run"] = api::run_list_item(change.run, api::ItemIncludes{}, now);
    return json::serialize(data);
}

}  // namespace

RunsFeed::RunsFeed(std::shared_ptr<plugin::RunStore> runs, std::size_t keep)
    : runs_(std::move(runs)), keep_(keep == 0 ? 1 : keep), epoch_(make_epoch()) {}

std::shared_ptr<RunsFeed> RunsFeed::start(std::shared_ptr<plugin::RunStore> runs,
                                          std::size_t keep) {
    if (runs == nullptr) {
        return nullptr;
    }
    std::shared_ptr<RunsFeed> feed(new RunsFeed(runs, keep));
    std::weak_ptr<RunsFeed> weak = feed;
    const std::uint64_t id =
        runs->subscribe_changes([weak](const std::vector<plugin::RunChange>& changes) {
            if (auto self = weak.lock()) {
                self->on_changes(changes);
            }
        });
    if (id == 0) {
        return nullptr;
    }
    const std::lock_guard lock(feed->mu_);
    feed->subscription_ = id;
    return feed;
}

RunsFeed::~RunsFeed() { stop(); }

void RunsFeed::stop() noexcept {
    std::uint64_t id = 0;
    {
        const std::lock_guard lock(mu_);
        id = std::exchange(subscription_, 0);
        wakers_.clear();
    }
    if (id != 0) {
        runs_->unsubscribe_changes(id);
    }
}

std::uint64_t RunsFeed::last_seq() const {
    const std::lock_guard lock(mu_);
    return last_seq_;
}

std::vector<RunsFeed::Event> RunsFeed::since(std::uint64_t seq, bool& gap) const {
    const std::lock_guard lock(mu_);
    std::vector<Event> out;
    gap =
        seq > last_seq_ || (seq < last_seq_ && (events_.empty() || events_.front().seq > seq + 1));
    for (const Event& e : events_) {
        if (e.seq > seq) {
            out.push_back(e);
        }
    }
    return out;
}

std::uint64_t RunsFeed::add_waker(std::function<void()> wake) {
    const std::lock_guard lock(mu_);
    const std::uint64_t id = next_waker_++;
    wakers_.emplace(id, std::move(wake));
    return id;
}

void RunsFeed::remove_waker(std::uint64_t id) noexcept {
    const std::lock_guard lock(mu_);
    wakers_.erase(id);
}

void RunsFeed::on_changes(const std::vector<plugin::RunChange>& changes) {
    if (changes.empty()) {
        return;
    }
    const double now = api::unix_now();
    std::vector<std::string> data;
    data.reserve(changes.size());
    for (const plugin::RunChange& c : changes) {
        data.push_back(event_data(c, now));
    }
    std::vector<std::function<void()>> wake;
    {
        const std::lock_guard lock(mu_);
        for (std::string& d : data) {
            events_.push_back({++last_seq_, std::move(d)});
            if (events_.size() > keep_) {
                events_.pop_front();
            }
        }
        wake.reserve(wakers_.size());
        for (const auto& [id, w] : wakers_) {
            wake.push_back(w);
        }
    }
    for (const auto& w : wake) {
        w();
    }
}

}  // namespace runicorn::http_plugin::live
