#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include <runicorn/export.hpp>
#include <runicorn/result.hpp>

namespace runicorn::plugin {

/// Totals over archive/blobs (hard-linked inodes counted once).
struct BlobStats {
    std::uint64_t blob_count = 0;
    std::uint64_t bytes_stored = 0;
};

/// The content-addressed blob store in Runicorn v0.6's layout: archive/blobs/<aa>/<sha256>.
/// Thread safety: safe for concurrent use.
class RUNICORN_PLUGIN_API BlobStore {
public:
    static constexpr std::string_view kServiceId = "runicorn.blob_store/1";

    virtual ~BlobStore() = default;
    BlobStore(const BlobStore&) = delete;
    BlobStore& operator=(const BlobStore&) = delete;
    BlobStore(BlobStore&&) = delete;
    BlobStore& operator=(BlobStore&&) = delete;

    /// Where the blob named `sha256` lives (whether or not it exists). INVALID_ARGUMENT unless
    /// `sha256` is 64 lower-case hex digits.
    virtual Result<std::filesystem::path> blob_path(std::string_view sha256) const = 0;
    /// True when the blob exists as a regular file.
    virtual Result<bool> contains(std::string_view sha256) const = 0;
    /// Counts the blobs (64-hex names in two-hex shards) and their bytes; an absent store is empty.
    virtual Result<BlobStats> stats() const = 0;

protected:
    BlobStore() = default;
};

}  // namespace runicorn::plugin
