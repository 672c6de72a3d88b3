#include "series_data.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace runicorn::storage::series {

std::uint32_t SeriesData::key_id(std::string_view name) {
    auto it = key_index_.find(name);
    if (it != key_index_.end()) {
        return it->second;
    }
    const auto id = static_cast<std::uint32_t>(keys.size());
    keys.emplace_back();
    keys.back().name.assign(name);
    key_index_.emplace(std::string(name), id);
    return id;
}

std::uint32_t SeriesData::find_key(std::string_view name) const {
    auto it = key_index_.find(name);
    return it == key_index_.end() ? kNoIndex : it->second;
}

std::uint32_t SeriesData::string_id(std::string_view s) {
    auto it = string_index_.find(s);
    if (it != string_index_.end()) {
        return it->second;
    }
    const auto id = static_cast<std::uint32_t>(strings.size());
    strings.emplace_back(s);
    string_index_.emplace(std::string(s), id);
    return id;
}

std::uint32_t SeriesData::find_string(std::string_view s) const {
    auto it = string_index_.find(s);
    return it == string_index_.end() ? kNoString : it->second;
}

void SeriesData::rebuild_lookup() {
    key_index_.clear();
    string_index_.clear();
    for (std::size_t i = 0; i < keys.size(); ++i) {
        key_index_.emplace(keys[i].name, static_cast<std::uint32_t>(i));
    }
    for (std::size_t i = 0; i < strings.size(); ++i) {
        string_index_.emplace(strings[i], static_cast<std::uint32_t>(i));
    }
}

DeriveMark SeriesData::mark() const {
    DeriveMark m;
    m.points.reserve(keys.size());
    m.sides.reserve(keys.size());
    for (const auto& k : keys) {
        m.points.push_back(k.value.size());
        m.sides.push_back(k.side.size());
    }
    m.records = record_time.size();
    return m;
}

void SeriesData::rebuild_merged(KeyData& k) const {
    struct Entry {
        std::int64_t step;
        std::uint32_t ordinal;
        std::uint32_t ref;
    };
    std::vector<Entry> all;
    all.reserve(k.value.size() + k.side.size());
    for (std::size_t i = 0; i < k.value.size(); ++i) {
        if (k.step[i] != kNoStep) {
            all.push_back({k.step[i], k.ordinal[i], static_cast<std::uint32_t>(i)});
        }
    }
    for (std::size_t i = 0; i < k.side.size(); ++i) {
        if (k.side[i].step != kNoStep) {
            all.push_back({k.side[i].step, k.side[i].ordinal,
                           static_cast<std::uint32_t>(i) | KeyData::kSideBit});
        }
    }
    std::sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.step, a.ordinal) < std::tie(b.step, b.ordinal);
    });
    k.merged_step.clear();
    k.merged_ref.clear();
    for (const Entry& e : all) {
        // Sorted by (step, ordinal): the last entry of a step is the one written last.
        if (!k.merged_step.empty() && k.merged_step.back() == e.step) {
            k.merged_ref.back() = e.ref;
        } else {
            k.merged_step.push_back(e.step);
            k.merged_ref.push_back(e.ref);
        }
    }
    k.merged_dirty = false;
}

void SeriesData::derive_key(KeyData& k, std::size_t old_points, std::size_t old_sides) {
    const std::size_t n = k.value.size();
    const double* vals = k.value.data();
    const std::int64_t* steps = k.step.data();
    const std::uint32_t* ords = k.ordinal.data();
    const double* times = record_time.data();

    // Summary and sortedness, in locals so the loop stays in registers.
    double mn = k.min;
    double mx = k.max;
    std::uint64_t finite = k.finite_count;
    std::uint64_t no_step = k.no_step_points;
    std::int64_t last_step = k.last_point_step;
    double last_time = k.last_point_time;
    bool step_sorted = k.step_sorted;
    bool time_sorted = k.time_sorted;
    bool dense = k.dense;
    for (std::size_t i = old_points; i < n; ++i) {
        const double v = vals[i];
        if (std::isfinite(v)) {
            if (finite == 0) {
                mn = v;
                mx = v;
            } else {
                mn = v < mn ? v : mn;
                mx = v > mx ? v : mx;
            }
            ++finite;
        } else {
            k.nonfinite.push_back(static_cast<std::uint32_t>(i));
        }
        const std::int64_t s = steps[i];
        if (s == kNoStep) {
            ++no_step;
        } else {
            step_sorted = step_sorted && (last_step == kNoStep || s >= last_step);
            last_step = s;
        }
        dense = dense && ords[i] == i;
        const double t = times[ords[i]];
        if (!(t >= last_time)) {  // also false for NaN
            time_sorted = false;
        } else {
            last_time = t;
        }
    }
    k.min = mn;
    k.max = mx;
    k.finite_count = finite;
    k.nonfinite_count = k.nonfinite.size();
    k.no_step_points = no_step;
    k.last_point_step = last_step;
    k.last_point_time = last_time;
    k.step_sorted = step_sorted;
    k.time_sorted = time_sorted;
    k.dense = dense;
    k.pyramid.update(vals, n, old_points);

    // The COMPAT merged column: walk the new entries in log (ordinal) order.
    std::size_t pi = old_points;
    std::size_t si = old_sides;
    const std::size_t sn = k.side.size();
    if (k.strict && si == sn) {
        // Common case: only numeric points were added to a strict column.
        std::int64_t last = k.last_entry_step;
        while (pi < n) {
            const std::int64_t s = steps[pi];
            if (s == kNoStep || (last != kNoStep && s <= last)) {
                break;
            }
            last = s;
            ++pi;
        }
        k.entries_with_step += pi - old_points;
        k.last_entry_step = last;
    }
    while (pi < n || si < sn) {
        const bool take_point = si >= sn || (pi < n && ords[pi] < k.side[si].ordinal);
        const std::int64_t s = take_point ? steps[pi] : k.side[si].step;
        const std::uint32_t ref = take_point ? static_cast<std::uint32_t>(pi)
                                             : (static_cast<std::uint32_t>(si) | KeyData::kSideBit);
        if (take_point) {
            ++pi;
        } else {
            ++si;
        }
        if (s == kNoStep) {
            if (k.strict) {
                k.strict = false;
                k.merged_dirty = true;
            }
            continue;
        }
        ++k.entries_with_step;
        if (k.strict) {
            if (k.last_entry_step == kNoStep || s > k.last_entry_step) {
                k.last_entry_step = s;
                continue;
            }
            k.strict = false;
            k.merged_dirty = true;
            continue;
        }
        if (k.merged_dirty) {
            continue;  // rebuilt below from every entry
        }
        if (k.merged_step.empty() || s > k.merged_step.back()) {
            k.merged_step.push_back(s);
            k.merged_ref.push_back(ref);
        } else if (s == k.merged_step.back()) {
            k.merged_ref.back() = ref;
        } else {
            k.merged_dirty = true;
        }
    }
    if (k.merged_dirty) {
        rebuild_merged(k);
    }
}

void SeriesData::derive(const DeriveMark& from) {
    for (std::size_t id = 0; id < keys.size(); ++id) {
        const std::size_t op = id < from.points.size() ? from.points[id] : 0;
        const std::size_t os = id < from.sides.size() ? from.sides[id] : 0;
        derive_key(keys[id], op, os);
    }
    const std::size_t n = record_step.size();
    bool dirty = false;
    for (std::size_t i = from.records; i < n; ++i) {
        const std::int64_t s = record_step[i];
        if (s != kNoStep) {
            if (last_record_step != kNoStep && s <= last_record_step) {
                rows_strict = false;
            }
            last_record_step = s;
            if (row_steps.empty() || s > row_steps.back()) {
                row_steps.push_back(s);
            } else if (s < row_steps.back()) {
                dirty = true;
            }
        }
        const std::uint32_t st = record_stage[i];
        const std::uint32_t prev = i == 0 ? kNoString : record_stage[i - 1];
        if ((i == 0 && st != kNoString) || (i > 0 && st != prev)) {
            stage_changes.emplace_back(static_cast<std::uint32_t>(i), st);
        }
        if (st != kNoString) {
            if (stage_seen_.size() <= st) {
                stage_seen_.resize(st + 1, false);
            }
            if (!stage_seen_[st]) {
                stage_seen_[st] = true;
                stage_order.push_back(st);
            }
        }
    }
    if (dirty) {
        row_steps.clear();
        for (std::int64_t s : record_step) {
            if (s != kNoStep) {
                row_steps.push_back(s);
            }
        }
        std::sort(row_steps.begin(), row_steps.end());
        row_steps.erase(std::unique(row_steps.begin(), row_steps.end()), row_steps.end());
    }
}

}  // namespace runicorn::storage::series
