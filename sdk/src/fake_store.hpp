#pragma once

// An in-memory run store for SDK tests (STYLE.md rule 17: fakes over mocks), with fault
// injection: failing appends or merges, and a stall that blocks the writer thread inside
// append_events until the test releases it.

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include <runicorn/plugin/run_store.hpp>

#include "run_opener.hpp"

namespace runicorn::test {

/// What a MemoryRunWriter holds, copied out for assertions.
struct MemoryFiles {
    std::string events;
    std::string logs;
    boost::json::object meta;
    boost::json::object status;
    boost::json::object summary;
    boost::json::object assets;
    std::map<std::string, std::string> media;
    int appends = 0;
    int merges = 0;
    int heartbeats = 0;
    int syncs = 0;
    int closes = 0;
    bool closed = false;
};

/// A RunWriter over memory. Thread safety: safe for concurrent use (the SDK's writer thread and
/// the test thread).
class MemoryRunWriter final : public plugin::RunWriter {
public:
    MemoryRunWriter(std::string id, std::filesystem::path dir)
        : id_(std::move(id)), dir_(std::move(dir)) {
        files_.status = {{"status", "running"}, {"started_at", 1.0}};
        files_.assets = boost::json::parse(
                            R"({"code":{},"config":{},"datasets":[],"pretrained":[],"outputs":[]})")
                            .as_object();
    }

    const std::string& run_id() const override { return id_; }
    const std::optional<std::string>& path() const override { return path_; }
    const std::filesystem::path& run_dir() const override { return dir_; }
    const std::filesystem::path& workspace_root() const override { return workspace_; }
    bool resumed() const override { return last_step_ > 0; }
    std::int64_t last_step() const override { return last_step_; }
    std::optional<boost::json::object> resumed_summary() const override { return resumed_summary_; }

    Status append_events(std::string_view lines) override {
        return append(files_.events, lines, true);
    }
    Status append_logs(std::string_view lines) override {
        return append(files_.logs, lines, false);
    }
    Status merge_json(plugin::RunJsonFile file, const boost::json::object& patch) override {
        std::lock_guard lock(mu_);
        if (!merge_error_.is_ok()) {
            return merge_error_;
        }
        if (files_.closed) {
            return Status::failed_precondition("closed");
        }
        ++files_.merges;
        boost::json::object* target = nullptr;
        switch (file) {
            case plugin::RunJsonFile::kMeta:
                target = &files_.meta;
                break;
            case plugin::RunJsonFile::kStatus:
                target = &files_.status;
                break;
            case plugin::RunJsonFile::kSummary:
                target = &files_.summary;
                break;
            case plugin::RunJsonFile::kAssets:
                target = &files_.assets;
                break;
        }
        for (const auto& kv : patch) {
            if (file == plugin::RunJsonFile::kStatus && kv.value().is_null()) {
                target->erase(kv.key());
            } else {
                (*target)[kv.key()] = kv.value();
            }
        }
        return Status::ok();
    }
    Status write_media(std::string_view name, std::span<const std::byte> bytes) override {
        std::lock_guard lock(mu_);
        if (!media_error_.is_ok()) {
            return media_error_;
        }
        files_.media[std::string(name)] =
            std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        return Status::ok();
    }
    Status heartbeat(std::chrono::seconds /*interval*/) override {
        std::lock_guard lock(mu_);
        ++files_.heartbeats;
        return Status::ok();
    }
    Status sync() override {
        std::lock_guard lock(mu_);
        ++files_.syncs;
        return Status::ok();
    }
    Status close() override {
        std::lock_guard lock(mu_);
        ++files_.closes;
        files_.closed = true;
        return Status::ok();
    }

    // ---- test controls ----
    void set_path(std::optional<std::string> p) { path_ = std::move(p); }
    void set_resumed(std::int64_t last_step, std::optional<boost::json::object> summary) {
        last_step_ = last_step;
        resumed_summary_ = std::move(summary);
    }
    /// Every append returns `s` until called again with OK.
    void fail_appends(Status s) {
        std::lock_guard lock(mu_);
        append_error_ = std::move(s);
    }
    void fail_merges(Status s) {
        std::lock_guard lock(mu_);
        merge_error_ = std::move(s);
    }
    void fail_media(Status s) {
        std::lock_guard lock(mu_);
        media_error_ = std::move(s);
    }
    /// The next append_events blocks until release().
    void stall() {
        std::lock_guard lock(mu_);
        gate_closed_ = true;
    }
    void release() {
        {
            std::lock_guard lock(mu_);
            gate_closed_ = false;
        }
        cv_.notify_all();
    }
    /// Waits until the writer thread is blocked inside append_events.
    void wait_until_stalled() {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return inside_; });
    }
    MemoryFiles files() const {
        std::lock_guard lock(mu_);
        return files_;
    }

private:
    Status append(std::string& file, std::string_view lines, bool events) {
        std::unique_lock lock(mu_);
        if (events && gate_closed_) {
            inside_ = true;
            cv_.notify_all();
            cv_.wait(lock, [this] { return !gate_closed_; });
            inside_ = false;
        }
        if (!append_error_.is_ok()) {
            return append_error_;
        }
        if (files_.closed) {
            return Status::failed_precondition("closed");
        }
        ++files_.appends;
        file.append(lines);
        return Status::ok();
    }

    const std::string id_;
    const std::filesystem::path dir_;
    std::optional<std::string> path_ = std::string("default");
    std::filesystem::path workspace_ = "/work";
    std::int64_t last_step_ = 0;
    std::optional<boost::json::object> resumed_summary_;

    mutable std::mutex mu_;
    std::condition_variable cv_;
    MemoryFiles files_;
    Status append_error_;
    Status merge_error_;
    Status media_error_;
    bool gate_closed_ = false;
    bool inside_ = false;
};

/// A run store whose open_run hands out MemoryRunWriters. Thread safety: safe for concurrent use.
class MemoryRunStore final : public sdk::RunOpener {
public:
    std::filesystem::path root() const override { return "/mem/root"; }
    Result<std::shared_ptr<plugin::RunWriter>> open_run(
        const plugin::RunCreateOptions& options) const override {
        std::lock_guard lock(mu_);
        if (!open_error_.is_ok()) {
            return open_error_;
        }
        opened_.push_back(options);
        std::string id = options.run_id.empty()
                             ? "20260101_000000_" + std::to_string(100000 + opened_.size())
                             : options.run_id;
        auto w = std::make_shared<MemoryRunWriter>(id, "/mem/root/runs/default/" + id);
        if (next_setup_) {
            next_setup_(*w);
            next_setup_ = nullptr;
        }
        last_ = w;
        return std::shared_ptr<plugin::RunWriter>(w);
    }

    void fail_open(Status s) {
        std::lock_guard lock(mu_);
        open_error_ = std::move(s);
    }
    /// Runs on the next writer before open_run returns it.
    void setup_next(std::function<void(MemoryRunWriter&)> f) {
        std::lock_guard lock(mu_);
        next_setup_ = std::move(f);
    }
    std::shared_ptr<MemoryRunWriter> last_writer() const {
        std::lock_guard lock(mu_);
        return last_;
    }
    std::vector<plugin::RunCreateOptions> opened() const {
        std::lock_guard lock(mu_);
        return opened_;
    }

private:
    mutable std::mutex mu_;
    Status open_error_;
    mutable std::vector<plugin::RunCreateOptions> opened_;
    mutable std::shared_ptr<MemoryRunWriter> last_;
    mutable std::function<void(MemoryRunWriter&)> next_setup_;
};

}  // namespace runicorn::test
