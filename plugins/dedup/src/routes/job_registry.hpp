#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/json/object.hpp>

#include <runicorn/result.hpp>

namespace runicorn::dedup {

/// Background maintenance jobs (API.md §4.6 /api/jobs/{id}): each submitted job runs on its own
/// thread; its state is kept for polling (the newest 100 jobs).
/// Thread safety: safe for concurrent use. stop() joins every thread; submit() after stop() is
/// refused with UNAVAILABLE.
class JobRegistry {
public:
    /// The job's work: returns its result object, or a failure whose message becomes "error".
    using Work = std::function<Result<boost::json::object>()>;

    JobRegistry() = default;
    ~JobRegistry();
    JobRegistry(const JobRegistry&) = delete;
    JobRegistry& operator=(const JobRegistry&) = delete;
    JobRegistry(JobRegistry&&) = delete;
    JobRegistry& operator=(JobRegistry&&) = delete;

    /// Queues `work` as a job of `kind` ("gc", "verify") and returns its id (32 hex).
    Result<std::string> submit(std::string kind, Work work);
    /// The job as API.md §4.6 shows it: {"id", "kind", "state", "progress", "result", "error",
    /// "started_at", "ended_at"}; nullopt for an unknown id.
    std::optional<boost::json::object> get(const std::string& id) const;
    /// Blocks until job `id` is done or failed (tests and shutdown).
    void wait(const std::string& id) const;
    /// Waits for every running job and refuses new ones.
    void stop() noexcept;

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable done_;
    std::map<std::string, boost::json::object> jobs_;
    std::vector<std::string> order_;
    std::vector<std::thread> threads_;
    bool stopped_ = false;
};

}  // namespace runicorn::dedup
