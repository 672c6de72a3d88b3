#include "queries.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string_view>

namespace runicorn::storage::series {
namespace {

constexpr std::size_t kExactLttbMax = std::size_t{1} << 17;

// ---------------------------------------------------------------------------------------------
// Point selections of one key.

// The points of a key that pass a query's filters: a contiguous range of positions when the
// filters allow it (the fast path, which can use the MinMaxPyramid), else an explicit list.
struct Selection {
    bool is_range = true;
    std::size_t lo = 0;
    std::size_t hi = 0;
    std::vector<std::uint32_t> list;

    std::size_t size() const { return is_range ? hi - lo : list.size(); }
    std::uint32_t at(std::size_t i) const {
        return is_range ? static_cast<std::uint32_t>(lo + i) : list[i];
    }
};

std::vector<std::uint32_t> finite_positions(const KeyData& k, const Selection& sel) {
    std::vector<std::uint32_t> out;
    out.reserve(sel.size());
    for (std::size_t i = 0; i < sel.size(); ++i) {
        const std::uint32_t p = sel.at(i);
        if (std::isfinite(k.value[p])) {
            out.push_back(p);
        }
    }
    return out;
}

// MinMaxLTTB candidates over [lo, hi): the minimum and maximum of blocks of at most max_block
// points, taken from the key's MinMaxPyramid, plus the first and last finite point of the range.
std::vector<std::uint32_t> preselect(const KeyData& k, std::size_t lo, std::size_t hi,
                                     std::size_t max_block) {
    std::vector<std::uint32_t> cand;
    const double* v = k.value.data();
    std::size_t first = lo;
    while (first < hi && !std::isfinite(v[first])) {
        ++first;
    }
    if (first == hi) {
        return cand;
    }
    std::size_t last = hi - 1;
    while (!std::isfinite(v[last])) {
        --last;
    }
    cand.reserve(2 * ((hi - lo) / max_block) + 8);
    cand.push_back(static_cast<std::uint32_t>(first));
    k.pyramid.block_extremes(v, lo, hi, max_block, cand);
    if (last > cand.back()) {
        cand.push_back(static_cast<std::uint32_t>(last));
    }
    return cand;
}

template <class XFn>
std::vector<std::uint32_t> lttb_on_positions(const KeyData& k,
                                             const std::vector<std::uint32_t>& pos,
                                             std::size_t threshold, XFn&& xf) {
    if (threshold >= pos.size()) {
        return pos;
    }
    // Gather once: candidates lie far apart in the columns, and LTTB reads each several times.
    std::vector<double> xs(pos.size());
    std::vector<double> ys(pos.size());
    for (std::size_t j = 0; j < pos.size(); ++j) {
        xs[j] = xf(pos[j]);
        ys[j] = k.value[pos[j]];
    }
    const std::vector<std::uint32_t> chosen = lttb_select(
        pos.size(), threshold, [&](std::size_t j) { return xs[j]; },
        [&](std::size_t j) { return ys[j]; });
    std::vector<std::uint32_t> out;
    out.reserve(chosen.size());
    for (std::uint32_t j : chosen) {
        out.push_back(pos[j]);
    }
    return out;
}

template <class XFn>
std::vector<std::uint32_t> lttb(const KeyData& k, const Selection& sel, std::size_t threshold,
                                XFn&& xf) {
    // MinMaxLTTB when the range is large: about 1.5 pyramid blocks per output point (3 candidates,
    // the MinMaxLTTB paper's ratio), as long as a block holds at least a base bucket.
    if (sel.is_range && sel.size() > kExactLttbMax) {
        const std::size_t max_block = 2 * sel.size() / (3 * threshold);
        if (max_block >= (std::size_t{1} << MinMaxPyramid::kBaseShift)) {
            const auto cand = preselect(k, sel.lo, sel.hi, max_block);
            return lttb_on_positions(k, cand, threshold, xf);
        }
    }
    return lttb_on_positions(k, finite_positions(k, sel), threshold, xf);
}

std::vector<std::uint32_t> minmax(const KeyData& k, const Selection& sel, std::size_t points) {
    const std::size_t n = sel.size();
    std::vector<std::uint32_t> out;
    if (n == 0) {
        return out;
    }
    const std::size_t buckets = std::max<std::size_t>(1, points / 2);
    const double* v = k.value.data();
    out.reserve(2 * buckets);
    for (std::size_t b = 0; b < buckets; ++b) {
        const std::size_t a = n * b / buckets;
        const std::size_t e = n * (b + 1) / buckets;
        if (a >= e) {
            continue;
        }
        std::uint32_t mn = kNoIndex;
        std::uint32_t mx = kNoIndex;
        if (sel.is_range) {
            std::tie(mn, mx) = k.pyramid.range(v, sel.lo + a, sel.lo + e);
        } else {
            for (std::size_t i = a; i < e; ++i) {
                const std::uint32_t p = sel.list[i];
                if (!std::isfinite(v[p])) {
                    continue;
                }
                if (mn == kNoIndex || v[p] < v[mn]) {
                    mn = p;
                }
                if (mx == kNoIndex || v[p] > v[mx]) {
                    mx = p;
                }
            }
        }
        if (mn == kNoIndex) {
            continue;
        }
        out.push_back(std::min(mn, mx));
        if (mn != mx) {
            out.push_back(std::max(mn, mx));
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// COMPAT view helpers.

CompatValue point_value(const KeyData& k, std::size_t p) {
    CompatValue out;
    const double v = k.value[p];
    switch (k.kind_at(p)) {
        case PointKind::kBool:
            out.kind = CompatValue::Kind::kBool;
            out.b = v != 0.0;
            break;
        case PointKind::kInt:
            out.kind = CompatValue::Kind::kInt;
            out.i = static_cast<std::int64_t>(v);
            break;
        case PointKind::kDouble:
            if (std::isfinite(v)) {
                out.kind = CompatValue::Kind::kDouble;
                out.d = v;
            }
            break;
    }
    return out;
}

CompatValue side_value(const SeriesData& d, const SideEntry& e) {
    CompatValue out;
    if (e.str != kNoString) {
        out.kind = CompatValue::Kind::kString;
        out.s = d.strings[e.str];
    }
    return out;
}

// Position of x in the strictly increasing a(0..n-1), or n when absent. An interpolation guess,
// then galloping and a binary search: evenly spaced steps cost O(1) and few cache misses.
template <class Get>
std::size_t find_sorted(std::size_t n, std::int64_t x, Get&& a) {
    if (n == 0) {
        return n;
    }
    const std::int64_t first = a(0);
    const std::int64_t last = a(n - 1);
    if (x < first || x > last) {
        return n;
    }
    std::size_t g = 0;
    if (last > first) {
        const double f = (static_cast<double>(x) - static_cast<double>(first)) /
                         (static_cast<double>(last) - static_cast<double>(first));
        g = std::min(n - 1, static_cast<std::size_t>(f * static_cast<double>(n - 1)));
    }
    // Bracket [lo, hi) with a(lo) <= x < a(hi) (hi may be n).
    std::size_t lo = 0;
    std::size_t hi = n;
    if (a(g) <= x) {
        lo = g;
        std::size_t stride = 1;
        while (lo + stride < n && a(lo + stride) <= x) {
            lo += stride;
            stride *= 2;
        }
        hi = std::min(n, lo + stride);
    } else {
        hi = g;
        std::size_t stride = 1;
        while (hi >= stride && a(hi - stride) > x) {
            hi -= stride;
            stride *= 2;
        }
        lo = hi >= stride ? hi - stride : 0;
    }
    while (hi - lo > 1) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (a(mid) <= x) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    return a(lo) == x ? lo : n;
}

// The merged (last-written-wins) value of key k at `step`, or nullopt when k has none there.
std::optional<std::uint32_t> merged_ref_at(const KeyData& k, std::int64_t step) {
    if (k.strict) {
        const std::size_t n = k.step.size();
        const std::size_t p = find_sorted(n, step, [&](std::size_t i) { return k.step[i]; });
        if (p != n) {
            return static_cast<std::uint32_t>(p);
        }
        const std::size_t sn = k.side.size();
        const std::size_t sp = find_sorted(sn, step, [&](std::size_t i) { return k.side[i].step; });
        if (sp != sn) {
            return static_cast<std::uint32_t>(sp) | KeyData::kSideBit;
        }
        return std::nullopt;
    }
    const std::size_t n = k.merged_step.size();
    const std::size_t p = find_sorted(n, step, [&](std::size_t i) { return k.merged_step[i]; });
    if (p != n) {
        return k.merged_ref[p];
    }
    return std::nullopt;
}

CompatValue ref_value(const SeriesData& d, const KeyData& k, std::uint32_t ref) {
    if ((ref & KeyData::kSideBit) != 0) {
        return side_value(d, k.side[ref & ~KeyData::kSideBit]);
    }
    return point_value(k, ref);
}

bool is_numeric_column(const KeyData& k) {
    if (k.strict) {
        return k.finite_count > 0;
    }
    for (std::uint32_t ref : k.merged_ref) {
        if ((ref & KeyData::kSideBit) == 0 && std::isfinite(k.value[ref])) {
            return true;
        }
    }
    return false;
}

// Steps chosen by LTTB on one merged column (x = step, finite numeric winners only).
void column_lttb_steps(const KeyData& k, std::size_t budget, std::vector<std::int64_t>& out) {
    if (k.strict) {
        for (std::uint32_t p : lttb_positions_by_step(k, 0, k.value.size(), budget)) {
            out.push_back(k.step[p]);
        }
        return;
    }
    std::vector<std::uint32_t> pos;
    std::vector<std::int64_t> steps;
    for (std::size_t i = 0; i < k.merged_ref.size(); ++i) {
        const std::uint32_t ref = k.merged_ref[i];
        if ((ref & KeyData::kSideBit) == 0 && std::isfinite(k.value[ref])) {
            pos.push_back(ref);
            steps.push_back(k.merged_step[i]);
        }
    }
    const auto chosen = lttb_select(
        pos.size(), budget, [&](std::size_t j) { return static_cast<double>(steps[j]); },
        [&](std::size_t j) { return k.value[pos[j]]; });
    for (std::uint32_t j : chosen) {
        out.push_back(steps[j]);
    }
}

}  // namespace

std::vector<std::uint32_t> lttb_positions_by_step(const KeyData& k, std::size_t lo, std::size_t hi,
                                                  std::size_t threshold) {
    Selection sel;
    sel.lo = lo;
    sel.hi = hi;
    return lttb(k, sel, threshold, [&](std::uint32_t p) { return static_cast<double>(k.step[p]); });
}

Result<CompatTable> build_compat_table(const SeriesData& d,
                                       std::optional<std::int64_t> downsample) {
    if (downsample.has_value()) {
        if (*downsample < kMinDownsample) {
            return Status::invalid_argument(
                "downsample: Input should be greater than or equal to 100");
        }
        if (*downsample > kMaxDownsample) {
            return Status::invalid_argument(
                "downsample: Input should be less than or equal to 50000");
        }
    }
    CompatTable t;
    if (d.row_steps.empty()) {
        return t;
    }
    std::vector<std::uint32_t> cols;
    for (std::size_t i = 0; i < d.keys.size(); ++i) {
        if (d.keys[i].entries_with_step > 0) {
            cols.push_back(static_cast<std::uint32_t>(i));
        }
    }
    std::sort(cols.begin(), cols.end(), [&](std::uint32_t a, std::uint32_t b) {
        return d.keys[a].name <
               d.keys[b].name;  // char_traits<char>: bytes as unsigned = code points
    });
    t.columns.reserve(cols.size() + 1);
    t.columns.emplace_back("global_step");
    for (std::uint32_t c : cols) {
        t.columns.push_back(d.keys[c].name);
    }
    t.total = d.row_steps.size();

    // Which steps become rows.
    std::vector<std::int64_t> chosen;
    const bool sampling =
        downsample.has_value() && t.total > static_cast<std::uint64_t>(*downsample);
    if (sampling) {
        const auto ds = static_cast<std::size_t>(*downsample);
        std::vector<const KeyData*> numeric;
        for (std::uint32_t c : cols) {
            if (is_numeric_column(d.keys[c])) {
                numeric.push_back(&d.keys[c]);
            }
        }
        const std::size_t budget =
            numeric.empty() ? ds : std::max<std::size_t>(3, ds / numeric.size());
        chosen.push_back(d.row_steps.front());
        chosen.push_back(d.row_steps.back());
        for (const KeyData* k : numeric) {
            column_lttb_steps(*k, budget, chosen);
        }
        std::sort(chosen.begin(), chosen.end());
        chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
        if (chosen.size() > ds) {
            std::vector<std::int64_t> thinned;
            thinned.reserve(ds);
            for (std::size_t p : even_positions(chosen.size(), ds)) {
                thinned.push_back(chosen[p]);
            }
            chosen.swap(thinned);
        }
    }
    const std::vector<std::int64_t>& steps = sampling ? chosen : d.row_steps;

    t.rows.resize(steps.size());
    for (std::size_t r = 0; r < steps.size(); ++r) {
        auto& row = t.rows[r];
        row.resize(cols.size() + 1);
        row[0].kind = CompatValue::Kind::kInt;
        row[0].i = steps[r];
    }
    // When every record carries a step, in strictly increasing order, a row is one record and a
    // key logged in every record ("dense") holds that record's value at position = ordinal: one
    // lookup per row instead of one per cell.
    std::vector<std::size_t> row_ordinal;
    const std::size_t nrec = d.record_step.size();
    if (d.rows_strict && d.row_steps.size() == nrec) {
        row_ordinal.reserve(steps.size());
        for (const std::int64_t s : steps) {
            row_ordinal.push_back(
                find_sorted(nrec, s, [&](std::size_t i) { return d.record_step[i]; }));
        }
    }
    std::vector<const KeyData*> col_keys;
    std::vector<bool> col_dense;
    for (const std::uint32_t c : cols) {
        const KeyData& k = d.keys[c];
        col_keys.push_back(&k);
        col_dense.push_back(!row_ordinal.empty() && k.dense && k.value.size() == nrec);
    }
    // Row by row: a row's cells are contiguous, and the columns' loads for one row are
    // independent, so their cache misses overlap; prefetch a few rows ahead as well.
    constexpr std::size_t kAhead = 8;
    for (std::size_t r = 0; r < steps.size(); ++r) {
        auto& row = t.rows[r];
        for (std::size_t c = 0; c < col_keys.size(); ++c) {
            const KeyData& k = *col_keys[c];
            if (col_dense[c]) {
                if (r + kAhead < steps.size()) {
                    __builtin_prefetch(k.value.data() + row_ordinal[r + kAhead]);
                }
                row[c + 1] = point_value(k, row_ordinal[r]);
            } else if (auto ref = merged_ref_at(k, steps[r])) {
                row[c + 1] = ref_value(d, k, *ref);
            }
        }
    }
    t.sampled = downsample.has_value() ? t.rows.size() : t.total;
    t.last_step = steps.back();
    return t;
}

std::vector<KeySummary> summarize_keys(const SeriesData& d) {
    std::vector<KeySummary> out;
    out.reserve(d.keys.size());
    for (const KeyData& k : d.keys) {
        KeySummary s;
        s.key = k.name;
        s.count = k.value.size() + k.side.size();
        s.numeric_count = k.value.size();
        s.nonfinite_count = k.nonfinite_count;
        if (s.count == 0) {
            continue;
        }
        // First and last step in log order over points and side entries (each in ordinal order).
        std::int64_t first = kNoStep;
        std::int64_t last = kNoStep;
        std::uint32_t first_ord = kNoIndex;
        std::uint32_t last_ord = 0;
        bool have_last = false;
        for (std::size_t i = 0; i < k.value.size(); ++i) {
            if (k.step[i] != kNoStep) {
                first = k.step[i];
                first_ord = k.ordinal[i];
                break;
            }
        }
        for (const SideEntry& e : k.side) {
            if (e.step != kNoStep) {
                if (first_ord == kNoIndex || e.ordinal < first_ord) {
                    first = e.step;
                }
                break;
            }
        }
        for (std::size_t i = k.value.size(); i-- > 0;) {
            if (k.step[i] != kNoStep) {
                last = k.step[i];
                last_ord = k.ordinal[i];
                have_last = true;
                break;
            }
        }
        for (std::size_t i = k.side.size(); i-- > 0;) {
            if (k.side[i].step != kNoStep) {
                if (!have_last || k.side[i].ordinal > last_ord) {
                    last = k.side[i].step;
                }
                break;
            }
        }
        if (first != kNoStep) {
            s.first_step = first;
        }
        if (last != kNoStep) {
            s.last_step = last;
        }
        if (!k.value.empty()) {
            s.last = k.value.back();
        }
        if (k.finite_count > 0) {
            s.min = k.min;
            s.max = k.max;
        }
        out.push_back(std::move(s));
    }
    return out;
}

Result<SeriesResult> run_series_query(const SeriesData& d, const SeriesQuery& q) {
    if (q.points < kMinPoints) {
        return Status::invalid_argument("points: Input should be greater than or equal to 10");
    }
    if (q.points > kMaxPoints) {
        return Status::invalid_argument("points: Input should be less than or equal to 50000");
    }
    if (q.x_min && q.x_max && *q.x_min > *q.x_max) {
        return Status::invalid_argument("x_min must not be greater than x_max");
    }
    SeriesResult res;
    if (d.last_record_step != kNoStep) {
        res.last_step = d.last_record_step;
    }
    if (!d.record_time.empty()) {
        res.last_time = d.record_time.back();
    }

    const double origin =
        q.x == XAxis::kRelativeTime
            ? q.time_origin.value_or(d.record_time.empty() ? 0.0 : d.record_time[0])
            : 0.0;
    // x of record `ord`; NaN when the record has no x on this axis.
    auto record_x = [&](std::uint32_t ord) -> double {
        if (q.x == XAxis::kStep) {
            const std::int64_t s = d.record_step[ord];
            return s == kNoStep ? std::numeric_limits<double>::quiet_NaN() : static_cast<double>(s);
        }
        return d.record_time[ord] - origin;
    };
    const double x_lo = q.x_min.value_or(-std::numeric_limits<double>::infinity());
    const double x_hi = q.x_max.value_or(std::numeric_limits<double>::infinity());
    const bool has_range = q.x_min.has_value() || q.x_max.has_value();

    std::uint32_t stage_id = kNoString;
    if (q.stage) {
        stage_id = d.find_string(*q.stage);
    }

    // Which keys.
    std::vector<std::string> keys = q.keys;
    if (keys.empty()) {
        for (const KeyData& k : d.keys) {
            if (!k.value.empty() && k.name != "time") {
                keys.push_back(k.name);
            }
        }
        std::sort(keys.begin(), keys.end());
        if (keys.size() > kMaxDefaultKeys) {
            keys.resize(kMaxDefaultKeys);
        }
    }

    for (const std::string& name : keys) {
        Series s;
        s.key = name;
        const std::uint32_t id = d.find_key(name);
        if (id == kNoIndex || d.keys[id].value.empty()) {
            res.series.push_back(std::move(s));
            continue;
        }
        s.found = true;
        const KeyData& k = d.keys[id];
        auto point_x = [&](std::uint32_t p) -> double {
            if (q.x == XAxis::kStep) {
                return static_cast<double>(k.step[p]);
            }
            return d.record_time[k.ordinal[p]] - origin;
        };
        const bool monotone = q.x == XAxis::kStep ? k.step_sorted : k.time_sorted;
        const bool need_list =
            (q.x == XAxis::kStep && k.no_step_points > 0) || q.stage || (has_range && !monotone);
        Selection sel;
        if (!need_list) {
            sel.lo = 0;
            sel.hi = k.value.size();
            if (has_range) {
                // x is non-decreasing over positions: binary search both ends.
                std::size_t lo = 0;
                std::size_t hi = k.value.size();
                while (lo < hi) {
                    const std::size_t mid = (lo + hi) / 2;
                    if (point_x(static_cast<std::uint32_t>(mid)) < x_lo) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                sel.lo = lo;
                hi = k.value.size();
                while (lo < hi) {
                    const std::size_t mid = (lo + hi) / 2;
                    if (point_x(static_cast<std::uint32_t>(mid)) <= x_hi) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                sel.hi = lo;
            }
        } else {
            sel.is_range = false;
            for (std::size_t p = 0; p < k.value.size(); ++p) {
                const auto pos = static_cast<std::uint32_t>(p);
                if (q.stage && d.record_stage[k.ordinal[p]] != stage_id) {
                    continue;
                }
                if (q.x == XAxis::kStep && k.step[p] == kNoStep) {
                    continue;
                }
                const double x = point_x(pos);
                if (has_range && !(x >= x_lo && x <= x_hi)) {
                    continue;
                }
                sel.list.push_back(pos);
            }
            if (stage_id == kNoString && q.stage) {
                sel.list.clear();  // an unknown stage matches nothing
            }
        }
        s.total = sel.size();

        // Non-finite points of the selection.
        std::vector<std::uint32_t> nonfinite;
        if (sel.is_range) {
            auto b = std::lower_bound(k.nonfinite.begin(), k.nonfinite.end(), sel.lo);
            auto e = std::lower_bound(k.nonfinite.begin(), k.nonfinite.end(), sel.hi);
            s.nonfinite_total = static_cast<std::uint64_t>(e - b);
            const auto keep = std::min<std::ptrdiff_t>(e - b, kMaxNonfinitePerSeries);
            nonfinite.assign(b, b + keep);
        } else {
            for (std::uint32_t p : sel.list) {
                if (!std::isfinite(k.value[p])) {
                    ++s.nonfinite_total;
                    if (nonfinite.size() < kMaxNonfinitePerSeries) {
                        nonfinite.push_back(p);
                    }
                }
            }
        }

        std::vector<std::uint32_t> chosen;
        switch (q.method) {
            case Method::kNone: {
                const std::size_t n = std::min<std::size_t>(sel.size(), q.points);
                s.truncated = sel.size() > q.points;
                chosen.reserve(n);
                for (std::size_t i = 0; i < n; ++i) {
                    chosen.push_back(sel.at(i));
                }
                nonfinite.clear();  // already in place
                break;
            }
            case Method::kLttb:
                chosen = lttb(k, sel, q.points, point_x);
                break;
            case Method::kMinMax:
                chosen = minmax(k, sel, q.points);
                break;
        }
        if (!nonfinite.empty()) {
            std::vector<std::uint32_t> merged;
            merged.reserve(chosen.size() + nonfinite.size());
            std::merge(chosen.begin(), chosen.end(), nonfinite.begin(), nonfinite.end(),
                       std::back_inserter(merged));
            merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
            chosen.swap(merged);
        }
        s.x.reserve(chosen.size());
        s.y.reserve(chosen.size());
        for (std::uint32_t p : chosen) {
            s.x.push_back(point_x(p));
            s.y.push_back(k.value[p]);
        }
        s.returned = chosen.size();
        res.series.push_back(std::move(s));
    }

    // Stage changes in x units, restricted to the range; the stage in force at the range start
    // is reported at x_min.
    std::optional<StageChange> before;
    for (const auto& [ord, st] : d.stage_changes) {
        const double x = record_x(ord);
        if (std::isnan(x)) {
            continue;
        }
        StageChange c{x, st == kNoString ? std::string() : d.strings[st]};
        if (x < x_lo) {
            c.x = x_lo;
            before = std::move(c);
            continue;
        }
        if (x > x_hi) {
            continue;
        }
        if (before) {
            res.stages.push_back(std::move(*before));
            before.reset();
        }
        if (res.stages.size() >= kMaxStageChanges) {
            res.stages_truncated = true;
            break;
        }
        res.stages.push_back(std::move(c));
    }
    if (before && res.stages.size() < kMaxStageChanges) {
        res.stages.push_back(std::move(*before));
    }
    return res;
}

}  // namespace runicorn::storage::series
