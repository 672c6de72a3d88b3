#include "downsample.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace runicorn::storage::series {
namespace {

using ::testing::ElementsAre;

std::vector<std::uint32_t> lttb_xy(const std::vector<double>& x, const std::vector<double>& y,
                                   std::size_t threshold) {
    return lttb_select(
        x.size(), threshold, [&](std::size_t i) { return x[i]; },
        [&](std::size_t i) { return y[i]; });
}

TEST(LttbTest, KnownShapeOnTenPoints) {
    // Worked by hand: every = 4; bucket 1 = [1, 5) against the average of [5, 9) = (6.5, -1.25)
    // picks the spike at 3; bucket 2 = [5, 9) against (9, 0) ties 5 and 8 at area 40 -> first.
    const std::vector<double> x{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const std::vector<double> y{0, 0, 0, 10, 0, 0, 0, 0, -5, 0};
    EXPECT_THAT(lttb_xy(x, y, 4), ElementsAre(0U, 3U, 5U, 9U));
}

TEST(LttbTest, KeepsFirstLastAndSpikes) {
    std::vector<double> x;
    std::vector<double> y;
    for (int i = 0; i < 10000; ++i) {
        x.push_back(i);
        y.push_back(std::sin(i / 500.0));
    }
    y[4321] = 50.0;   // a spike
    y[7777] = -50.0;  // a dip
    const auto out = lttb_xy(x, y, 200);
    ASSERT_EQ(out.size(), 200U);
    EXPECT_EQ(out.front(), 0U);
    EXPECT_EQ(out.back(), 9999U);
    for (std::size_t i = 1; i < out.size(); ++i) {
        EXPECT_LT(out[i - 1], out[i]);
    }
    EXPECT_THAT(out, ::testing::Contains(4321U));
    EXPECT_THAT(out, ::testing::Contains(7777U));
}

TEST(LttbTest, ReturnsEverythingWhenThresholdIsLarge) {
    const std::vector<double> x{0, 1, 2};
    const std::vector<double> y{1, 2, 3};
    EXPECT_THAT(lttb_xy(x, y, 3), ElementsAre(0U, 1U, 2U));
    EXPECT_THAT(lttb_xy(x, y, 100), ElementsAre(0U, 1U, 2U));
}

TEST(EvenPositionsTest, KeepsEndsAndSpacesEvenly) {
    EXPECT_THAT(even_positions(10, 4), ElementsAre(0U, 3U, 6U, 9U));
    EXPECT_THAT(even_positions(5, 5), ElementsAre(0U, 1U, 2U, 3U, 4U));
    EXPECT_THAT(even_positions(5, 2), ElementsAre(0U, 4U));
    EXPECT_THAT(even_positions(3, 10), ElementsAre(0U, 1U, 2U));
}

TEST(MinMaxPyramidTest, RangesMatchBruteForce) {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> dist(-1000.0, 1000.0);
    std::vector<double> v(300000);
    for (std::size_t i = 0; i < v.size(); ++i) {
        v[i] = dist(rng);
        if (i % 997 == 0) {
            v[i] = std::numeric_limits<double>::quiet_NaN();
        }
        if (i % 1601 == 0) {
            v[i] = std::numeric_limits<double>::infinity();
        }
    }
    // A run of non-finite values longer than a base bucket.
    for (std::size_t i = 1000; i < 1200; ++i) {
        v[i] = std::numeric_limits<double>::quiet_NaN();
    }
    MinMaxPyramid p;
    // Built in two appends, to exercise the incremental path.
    p.update(v.data(), 123457, 0);
    p.update(v.data(), v.size(), 123457);
    std::uniform_int_distribution<std::size_t> pos(0, v.size());
    for (int t = 0; t < 300; ++t) {
        std::size_t a = pos(rng);
        std::size_t b = pos(rng);
        if (t % 3 == 0) {
            b = std::min(v.size(), a + t);  // short ranges too
        }
        if (a > b) {
            std::swap(a, b);
        }
        std::uint32_t mn = kNoIndex;
        std::uint32_t mx = kNoIndex;
        for (std::size_t i = a; i < b; ++i) {
            if (!std::isfinite(v[i])) {
                continue;
            }
            if (mn == kNoIndex || v[i] < v[mn]) {
                mn = static_cast<std::uint32_t>(i);
            }
            if (mx == kNoIndex || v[i] > v[mx]) {
                mx = static_cast<std::uint32_t>(i);
            }
        }
        const auto [pmn, pmx] = p.range(v.data(), a, b);
        EXPECT_EQ(pmn, mn) << "range [" << a << ", " << b << ")";
        EXPECT_EQ(pmx, mx) << "range [" << a << ", " << b << ")";
    }
    EXPECT_EQ(p.range(v.data(), 1000, 1200), std::make_pair(kNoIndex, kNoIndex));

    // Block extremes: every block's true min and max are among the candidates, in order.
    for (const std::size_t max_block : {64UL, 300UL, 5000UL}) {
        const std::size_t a = 777;
        const std::size_t b = 250001;
        std::vector<std::uint32_t> cand;
        p.block_extremes(v.data(), a, b, max_block, cand);
        for (std::size_t i = 1; i < cand.size(); ++i) {
            ASSERT_LT(cand[i - 1], cand[i]);
        }
        const auto [gmn, gmx] = p.range(v.data(), a, b);
        EXPECT_THAT(cand, ::testing::Contains(gmn));
        EXPECT_THAT(cand, ::testing::Contains(gmx));
        EXPECT_GE(cand.front(), a);
        EXPECT_LT(cand.back(), b);
    }
}

}  // namespace
}  // namespace runicorn::storage::series
