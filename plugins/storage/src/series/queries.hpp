#pragma once

// Queries over one run's SeriesData (internal; RunSeries exposes them with locking).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <runicorn/result.hpp>

#include "series_data.hpp"
#include "series_types.hpp"

namespace runicorn::storage::series {

inline constexpr std::int64_t kMinDownsample = 100;
inline constexpr std::int64_t kMaxDownsample = 50000;
inline constexpr std::uint32_t kMinPoints = 10;
inline constexpr std::uint32_t kMaxPoints = 50000;
inline constexpr std::size_t kMaxDefaultKeys = 100;
inline constexpr std::size_t kMaxNonfinitePerSeries = 1000;
inline constexpr std::size_t kMaxStageChanges = 10000;

/// The COMPAT row view (API.md §2.3). INVALID_ARGUMENT, message "downsample: Input should be
/// greater than or equal to 100" / "... less than or equal to 50000", when downsample is outside
/// 100..50,000 (the route answers 422 with loc ["query", "downsample"]).
Result<CompatTable> build_compat_table(const SeriesData& d, std::optional<std::int64_t> downsample);

/// The NEW series query (API.md §4.3). INVALID_ARGUMENT when points is outside 10..50,000
/// ("points: Input should be ...") or x_min > x_max.
Result<SeriesResult> run_series_query(const SeriesData& d, const SeriesQuery& q);

/// Per-key summaries, keys in first-appearance order (`global_step`/`step` are not keys).
std::vector<KeySummary> summarize_keys(const SeriesData& d);

/// LTTB positions of key `k`'s finite points in [lo, hi) with x = step (exposed for tests and
/// the COMPAT view). Above 2^17 points, when the range holds at least 96 points per output point,
/// LTTB runs on min/max-preselected candidates (MinMaxLTTB: the extremes of pyramid blocks of at
/// most 2n / (3·threshold) points, 64·4^l each); otherwise it is exact.
std::vector<std::uint32_t> lttb_positions_by_step(const KeyData& k, std::size_t lo, std::size_t hi,
                                                  std::size_t threshold);

}  // namespace runicorn::storage::series
