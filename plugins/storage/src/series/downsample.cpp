#include "downsample.hpp"

#include <algorithm>

namespace runicorn::storage::series {
namespace {

using Bucket = MinMaxPyramid::Bucket;

// Folds bucket c into the running bucket b; ties keep the smaller index.
inline void fold(Bucket& b, const Bucket& c) {
    if (c.imin == kNoIndex) {
        return;
    }
    if (b.imin == kNoIndex) {
        b = c;
        return;
    }
    if (c.vmin < b.vmin || (c.vmin == b.vmin && c.imin < b.imin)) {
        b.vmin = c.vmin;
        b.imin = c.imin;
    }
    if (c.vmax > b.vmax || (c.vmax == b.vmax && c.imax < b.imax)) {
        b.vmax = c.vmax;
        b.imax = c.imax;
    }
}

// Raw values [a, b) folded into `out` (index order, so ties already keep the first index).
void scan(const double* v, std::size_t a, std::size_t b, Bucket& out) {
    for (std::size_t i = a; i < b; ++i) {
        const double x = v[i];
        if (!std::isfinite(x)) {
            continue;
        }
        const auto idx = static_cast<std::uint32_t>(i);
        if (out.imin == kNoIndex) {
            out = Bucket{idx, idx, x, x};
            continue;
        }
        if (x < out.vmin || (x == out.vmin && idx < out.imin)) {
            out.vmin = x;
            out.imin = idx;
        }
        if (x > out.vmax || (x == out.vmax && idx < out.imax)) {
            out.vmax = x;
            out.imax = idx;
        }
    }
}

}  // namespace

std::vector<std::size_t> even_positions(std::size_t m, std::size_t count) {
    std::vector<std::size_t> out;
    if (count >= m) {
        out.resize(m);
        for (std::size_t i = 0; i < m; ++i) {
            out[i] = i;
        }
        return out;
    }
    if (count == 0) {
        return out;
    }
    if (count == 1) {
        out.push_back(0);
        return out;
    }
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        // Rounded i·(m-1)/(count-1): strictly increasing because count < m.
        out.push_back((i * (m - 1) + (count - 1) / 2) / (count - 1));
    }
    return out;
}

void MinMaxPyramid::clear() {
    for (auto& level : levels_) {
        level.clear();
    }
}

void MinMaxPyramid::update(const double* v, std::size_t n, std::size_t old_n) {
    if (old_n > n) {
        old_n = 0;
    }
    for (unsigned l = 0; l < kLevels; ++l) {
        const unsigned shift = kBaseShift + 2 * l;
        const std::size_t size = std::size_t{1} << shift;
        const std::size_t nb = (n + size - 1) >> shift;
        auto& level = levels_[l];
        // The last bucket of the old size may have been partial: redo it.
        const std::size_t first = std::min(old_n >> shift, level.size());
        level.resize(nb);
        for (std::size_t b = first; b < nb; ++b) {
            Bucket acc;
            if (l == 0) {
                scan(v, b * size, std::min(n, (b + 1) * size), acc);
            } else {
                const auto& child = levels_[l - 1];
                const std::size_t c_end = std::min(child.size(), 4 * b + 4);
                for (std::size_t c = 4 * b; c < c_end; ++c) {
                    fold(acc, child[c]);
                }
            }
            level[b] = acc;
        }
    }
}

Bucket MinMaxPyramid::range_bucket(const double* v, std::size_t a, std::size_t b) const {
    Bucket acc;
    // Iterative form of: whole buckets of the coarsest level that fits, then the two ragged ends
    // at finer levels, then raw values. Each end is a run of < 4 buckets per level.
    struct Piece {
        std::size_t a;
        std::size_t b;
        int level;  // coarsest level still worth trying for this piece
    };
    std::array<Piece, 2 * kLevels + 2> stack{};
    std::size_t top = 0;
    stack[top++] = Piece{a, b, static_cast<int>(kLevels) - 1};
    while (top > 0) {
        const Piece p = stack[--top];
        if (p.b <= p.a) {
            continue;
        }
        bool done = false;
        for (int l = p.level; l >= 0; --l) {
            const unsigned shift = kBaseShift + 2 * static_cast<unsigned>(l);
            const std::size_t fa = (p.a + (std::size_t{1} << shift) - 1) >> shift;
            const std::size_t fb = p.b >> shift;
            if (fa >= fb) {
                continue;
            }
            const auto& level = levels_[static_cast<std::size_t>(l)];
            for (std::size_t k = fa; k < fb && k < level.size(); ++k) {
                fold(acc, level[k]);
            }
            stack[top++] = Piece{p.a, fa << shift, l - 1};
            stack[top++] = Piece{fb << shift, p.b, l - 1};
            done = true;
            break;
        }
        if (!done) {
            Bucket raw;
            scan(v, p.a, p.b, raw);
            fold(acc, raw);
        }
    }
    return acc;
}

std::pair<std::uint32_t, std::uint32_t> MinMaxPyramid::range(const double* v, std::size_t a,
                                                             std::size_t b) const {
    const Bucket r = range_bucket(v, a, b);
    return {r.imin, r.imax};
}

void MinMaxPyramid::block_extremes(const double* v, std::size_t a, std::size_t b,
                                   std::size_t max_block, std::vector<std::uint32_t>& out) const {
    if (b <= a) {
        return;
    }
    unsigned level = 0;
    while (level + 1 < kLevels && (std::size_t{1} << (kBaseShift + 2 * (level + 1))) <= max_block) {
        ++level;
    }
    const unsigned shift = kBaseShift + 2 * level;
    const auto emit = [&](const Bucket& bk) {
        if (bk.imin == kNoIndex) {
            return;
        }
        const std::uint32_t lo = std::min(bk.imin, bk.imax);
        const std::uint32_t hi = std::max(bk.imin, bk.imax);
        if (out.empty() || lo > out.back()) {
            out.push_back(lo);
        }
        if (hi > out.back()) {
            out.push_back(hi);
        }
    };
    const std::size_t fa = (a + (std::size_t{1} << shift) - 1) >> shift;
    const std::size_t fb = b >> shift;
    if (fa >= fb) {
        emit(range_bucket(v, a, b));
        return;
    }
    emit(range_bucket(v, a, fa << shift));
    const auto& lv = levels_[level];
    for (std::size_t k = fa; k < fb && k < lv.size(); ++k) {
        emit(lv[k]);
    }
    emit(range_bucket(v, fb << shift, b));
}

}  // namespace runicorn::storage::series
