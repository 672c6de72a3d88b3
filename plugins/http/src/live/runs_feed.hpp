#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <runicorn/plugin/run_store.hpp>

namespace runicorn::http_plugin::live {

/// The source of the SSE `runs` channel (API.md §3.3): it subscribes to the run store's change
/// notifications (RunStore::subscribe_changes(); no polling), turns each change into the event
/// data `{"op": "upsert"|"delete", "run": RunListItem}`, numbers the events and keeps the last
/// `keep` of them so that a reconnecting client (Last-Event-ID) gets what it missed.
///
/// "delete" is sent for a soft delete (with `"reason": "soft_deleted"`) and for a removed run
/// (`"reason": "removed"`: purge, or the folder vanished); every other change, a restore
/// included, is an "upsert".
///
/// Thread safety: safe for concurrent use. Wakers are called on the store's notifying thread,
/// without the feed's lock held.
class RunsFeed final : public std::enable_shared_from_this<RunsFeed> {
public:
    struct Event {
        std::uint64_t seq = 0;
        std::string data;  ///< compact JSON, no newline
    };

    /// Subscribes to `runs`. nullptr when the store cannot report changes.
    static std::shared_ptr<RunsFeed> start(std::shared_ptr<plugin::RunStore> runs,
                                           std::size_t keep = 1024);
    ~RunsFeed();
    RunsFeed(const RunsFeed&) = delete;
    RunsFeed& operator=(const RunsFeed&) = delete;
    RunsFeed(RunsFeed&&) = delete;
    RunsFeed& operator=(RunsFeed&&) = delete;

    /// Unsubscribes from the store; when it returns no waker is called any more. Idempotent.
    void stop() noexcept;

    /// Identifies this feed's numbering (changes with every server start), for event ids.
    const std::string& epoch() const { return epoch_; }
    /// The number of the newest event (0 before the first).
    std::uint64_t last_seq() const;
    /// The events numbered after `seq`, oldest first. `gap` is set when some of them are no
    /// longer kept (the caller should tell its client to refetch).
    std::vector<Event> since(std::uint64_t seq, bool& gap) const;

    /// Calls `wake` after each batch of new events until remove_waker(id).
    std::uint64_t add_waker(std::function<void()> wake);
    void remove_waker(std::uint64_t id) noexcept;

    /// Turns store changes into events (the store's listener; public for tests).
    void on_changes(const std::vector<plugin::RunChange>& changes);

private:
    RunsFeed(std::shared_ptr<plugin::RunStore> runs, std::size_t keep);

    const std::shared_ptr<plugin::RunStore> runs_;
    const std::size_t keep_;
    const std::string epoch_;
    mutable std::mutex mu_;
    std::deque<Event> events_;                               // guarded by mu_
    std::uint64_t last_seq_ = 0;                             // guarded by mu_
    std::map<std::uint64_t, std::function<void()>> wakers_;  // guarded by mu_
    std::uint64_t next_waker_ = 1;                           // guarded by mu_
    std::uint64_t subscription_ = 0;                         // guarded by mu_
};

}  // namespace runicorn::http_plugin::live
