#include "metric_keys_reader.hpp"

#include <utility>

#include "run_series.hpp"

namespace runicorn::storage::catalog {

MetricKeysReader::MetricKeysReader(std::shared_ptr<spdlog::logger> log, std::size_t max_runs)
    : log_(std::move(log)), max_runs_(max_runs == 0 ? 1 : max_runs) {}

MetricKeysReader::~MetricKeysReader() = default;

Result<std::vector<MetricKeyStats>> MetricKeysReader::read(const std::filesystem::path& run_dir) {
    const std::filesystem::path events = run_dir / "events.jsonl";
    const std::string id = events.string();
    std::shared_ptr<series::RunSeries> run;
    {
        std::lock_guard lock(mu_);
        if (const auto it = runs_.find(id); it != runs_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            run = it->second.series;
        } else {
            run = std::make_shared<series::RunSeries>(events, std::filesystem::path(), log_);
            lru_.push_front(id);
            runs_.emplace(id, Entry{run, lru_.begin()});
            while (runs_.size() > max_runs_) {
                runs_.erase(lru_.back());
                lru_.pop_back();
            }
        }
    }
    if (auto refreshed = run->refresh(); !refreshed) {
        return refreshed.error();
    }
    std::vector<MetricKeyStats> out;
    for (const auto& k : run->key_summaries()) {
        MetricKeyStats m;
        m.key = k.key;
        m.count = static_cast<std::int64_t>(k.count);
        m.numeric_count = static_cast<std::int64_t>(k.numeric_count);
        m.nonfinite_count = static_cast<std::int64_t>(k.nonfinite_count);
        m.first_step = k.first_step;
        m.last_step = k.last_step;
        m.last = k.last;
        m.min = k.min;
        m.max = k.max;
        out.push_back(std::move(m));
    }
    return out;
}

void MetricKeysReader::clear() {
    std::lock_guard lock(mu_);
    runs_.clear();
    lru_.clear();
}

}  // namespace runicorn::storage::catalog
