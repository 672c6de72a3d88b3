#include "job_registry.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <exception>

#include <boost/json.hpp>

#include "file_ops.hpp"

namespace runicorn::dedup {
namespace json = boost::json;

namespace {

constexpr std::size_t kKeptJobs = 100;

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

bool finished(const json::object& job) {
    const auto& state = job.at("state").as_string();
    return state == "done" || state == "failed";
}

}  // namespace

JobRegistry::~JobRegistry() { stop(); }

Result<std::string> JobRegistry::submit(std::string kind, Work work) {
    std::lock_guard lock(mutex_);
    if (stopped_) {
        return Status::unavailable("the dedup plugin is stopping");
    }
    // Forget the oldest finished jobs beyond the cap.
    while (order_.size() >= kKeptJobs) {
        auto it = std::find_if(order_.begin(), order_.end(),
                               [&](const std::string& id) { return finished(jobs_.at(id)); });
        if (it == order_.end()) {
            return Status::unavailable("too many maintenance jobs are running");
        }
        jobs_.erase(*it);
        order_.erase(it);
    }
    const auto id = random_hex(32);
    jobs_[id] = json::object{{"id", id},
                             {"kind", kind},
                             {"state", "running"},
                             {"progress", json::object{{"done", 0}, {"total", 1}}},
                             {"result", nullptr},
                             {"error", nullptr},
                             {"started_at", now_seconds()},
                             {"ended_at", nullptr}};
    order_.push_back(id);
    threads_.emplace_back([this, id, work = std::move(work)]() noexcept {
        json::value result;
        json::value error;
        try {
            auto r = work();
            if (r) {
                result = std::move(*r);
            } else {
                error = r.error().message();
            }
        } catch (const std::exception& e) {
            error = std::string("internal error: ") + e.what();
        } catch (...) {
            error = "internal error";
        }
        std::lock_guard done_lock(mutex_);
        auto& job = jobs_[id];
        job["state"] = error.is_null() ? "done" : "failed";
        job["progress"] = json::object{{"done", 1}, {"total", 1}};
        job["result"] = std::move(result);
        job["error"] = std::move(error);
        job["ended_at"] = now_seconds();
        done_.notify_all();
    });
    return id;
}

std::optional<json::object> JobRegistry::get(const std::string& id) const {
    std::lock_guard lock(mutex_);
    const auto it = jobs_.find(id);
    if (it == jobs_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void JobRegistry::wait(const std::string& id) const {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [&] {
        const auto it = jobs_.find(id);
        return it == jobs_.end() || finished(it->second);
    });
}

void JobRegistry::stop() noexcept {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        stopped_ = true;
        threads.swap(threads_);
    }
    for (auto& t : threads) {
        if (t.joinable()) {
            t.join();
        }
    }
}

}  // namespace runicorn::dedup
