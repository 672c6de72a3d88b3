#pragma once

// Downsampling primitives: LTTB and a multi-resolution min/max index (FORMAT.md §7.5 item 6).

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace runicorn::storage::series {

inline constexpr std::uint32_t kNoIndex = 0xFFFFFFFFU;

/// Largest-Triangle-Three-Buckets (Steinarsson 2013) over the points i = 0..n-1 given by x(i) and
/// y(i) (finite values, x in drawing order). Returns the chosen positions, ascending; the first and
/// the last point are always chosen. When threshold >= n or threshold < 3, returns every position.
template <class XFn, class YFn>
std::vector<std::uint32_t> lttb_select(std::size_t n, std::size_t threshold, XFn&& x, YFn&& y) {
    std::vector<std::uint32_t> out;
    if (threshold >= n || threshold < 3) {
        out.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = static_cast<std::uint32_t>(i);
        }
        return out;
    }
    out.reserve(threshold);
    const double every = static_cast<double>(n - 2) / static_cast<double>(threshold - 2);
    std::size_t a = 0;
    out.push_back(0);
    for (std::size_t i = 0; i + 2 < threshold; ++i) {
        // The average of the next bucket is the third triangle vertex.
        const auto at = [every](std::size_t k) {
            return static_cast<std::size_t>(std::floor(static_cast<double>(k) * every)) + 1;
        };
        const std::size_t avg_start = at(i + 1);
        std::size_t avg_end = at(i + 2);
        if (avg_end > n) {
            avg_end = n;
        }
        double avg_x = 0.0;
        double avg_y = 0.0;
        for (std::size_t j = avg_start; j < avg_end; ++j) {
            avg_x += x(j);
            avg_y += y(j);
        }
        const double len = static_cast<double>(avg_end - avg_start);
        avg_x /= len;
        avg_y /= len;

        const std::size_t range_start = at(i);
        const std::size_t range_end = at(i + 1);
        const double ax = x(a);
        const double ay = y(a);
        // area(j) = |(ax - avg_x) * (y_j - ay) - (ax - x_j) * (avg_y - ay)| / 2, written as
        // |c0 + c1 * x_j + c2 * y_j| so the inner loop is two multiply-adds.
        const double c1 = avg_y - ay;
        const double c2 = ax - avg_x;
        const double c0 = -c2 * ay - ax * c1;
        double best = -1.0;
        std::size_t best_j = range_start;
        for (std::size_t j = range_start; j < range_end; ++j) {
            const double area = std::fabs(c0 + c1 * x(j) + c2 * y(j));
            if (area > best) {
                best = area;
                best_j = j;
            }
        }
        out.push_back(static_cast<std::uint32_t>(best_j));
        a = best_j;
    }
    out.push_back(static_cast<std::uint32_t>(n - 1));
    return out;
}

/// Picks `count` positions evenly spaced over 0..m-1, always keeping 0 and m-1 (API.md §2.3 rule 6
/// thinning). Returns every position when count >= m.
std::vector<std::size_t> even_positions(std::size_t m, std::size_t count);

/// Min/max of the finite values of one column at bucket sizes 2^6, 2^8, ..., 2^16, so the exact
/// minimum and maximum of any index range cost O(levels) bucket reads plus at most 2·63 raw values.
/// Buckets hold indices into the column (kNoIndex: no finite value in the bucket) and the values
/// themselves, so whole buckets are read without touching the column; on ties the smaller index
/// wins.
///
/// Thread safety: externally synchronized (const methods may run concurrently).
class MinMaxPyramid {
public:
    static constexpr unsigned kBaseShift = 6;
    static constexpr unsigned kLevels = 6;

    struct Bucket {
        std::uint32_t imin = kNoIndex;
        std::uint32_t imax = kNoIndex;
        double vmin = 0.0;
        double vmax = 0.0;
    };

    /// Brings the index up to date after the column grew from old_n to n values (values before
    /// old_n unchanged). update(v, n, 0) builds it from scratch.
    void update(const double* v, std::size_t n, std::size_t old_n);

    /// Indices of the finite minimum and maximum in [a, b) of the column `v` the index was built
    /// over; {kNoIndex, kNoIndex} when the range holds no finite value.
    std::pair<std::uint32_t, std::uint32_t> range(const double* v, std::size_t a,
                                                  std::size_t b) const;

    /// MinMaxLTTB candidates: splits [a, b) into consecutive blocks (whole buckets of the
    /// coarsest level whose size is <= max_block, plus the two ragged ends) and appends each
    /// block's min and max index, in index order, without duplicates. Cost O(blocks + levels).
    void block_extremes(const double* v, std::size_t a, std::size_t b, std::size_t max_block,
                        std::vector<std::uint32_t>& out) const;

    void clear();

private:
    Bucket range_bucket(const double* v, std::size_t a, std::size_t b) const;

    std::array<std::vector<Bucket>, kLevels> levels_;
};

}  // namespace runicorn::storage::series
