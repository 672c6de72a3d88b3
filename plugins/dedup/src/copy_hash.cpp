#include "copy_hash.hpp"

#include <array>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "file_ops.hpp"
#include "sha256.hpp"
#include <fcntl.h>

namespace runicorn::dedup {
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kPipelineThreshold = 4 * kChunkBytes;
constexpr std::size_t kBuffers = 4;
constexpr std::uint64_t kWritebackEvery = 8 * kChunkBytes;

// One reused 1 MiB buffer per thread for the small-file path: allocating 1 MiB per file would
// mmap/munmap it each time.
std::vector<char>& thread_buffer() {
    thread_local std::vector<char> buf(kChunkBytes);
    return buf;
}

Result<std::string> copy_serial(int in_fd, const fs::path& in_path, int out_fd,
                                const fs::path& out_path, std::uint64_t& size) {
    RUNICORN_ASSIGN_OR_RETURN(auto hash, Sha256::create());
    auto& buf = thread_buffer();
    size = 0;
    for (;;) {
        RUNICORN_ASSIGN_OR_RETURN(auto n, read_some(in_fd, buf.data(), buf.size(), in_path));
        if (n == 0) {
            break;
        }
        hash.update(buf.data(), n);
        RUNICORN_RETURN_IF_ERROR(write_all(out_fd, buf.data(), n, out_path));
        size += n;
    }
    return hash.hex_digest();
}

/// Hands filled buffers from the reading/hashing thread to the writer and empty ones back.
/// Thread safety: safe for concurrent use (one producer, one consumer).
class ChunkQueue {
public:
    ChunkQueue() {
        for (std::size_t i = 0; i < kBuffers; ++i) {
            buffers_[i].resize(kChunkBytes);
            free_.push_back(i);
        }
    }

    char* buffer(std::size_t i) { return buffers_[i].data(); }

    /// An empty buffer, or nullopt once the writer failed.
    std::optional<std::size_t> take_free() {
        std::unique_lock lock(mu_);
        free_cv_.wait(lock, [&] { return !free_.empty() || failed_; });
        if (failed_) {
            return std::nullopt;
        }
        const auto i = free_.front();
        free_.pop_front();
        return i;
    }
    void push_filled(std::size_t i, std::size_t n) {
        {
            std::lock_guard lock(mu_);
            filled_.emplace_back(i, n);
        }
        filled_cv_.notify_one();
    }
    void finish() {
        {
            std::lock_guard lock(mu_);
            done_ = true;
        }
        filled_cv_.notify_one();
    }
    /// The next filled buffer, or nullopt at the end.
    std::optional<std::pair<std::size_t, std::size_t>> take_filled() {
        std::unique_lock lock(mu_);
        filled_cv_.wait(lock, [&] { return !filled_.empty() || done_; });
        if (filled_.empty()) {
            return std::nullopt;
        }
        auto f = filled_.front();
        filled_.pop_front();
        return f;
    }
    void give_back(std::size_t i) {
        {
            std::lock_guard lock(mu_);
            free_.push_back(i);
        }
        free_cv_.notify_one();
    }
    void fail(Status s) {
        {
            std::lock_guard lock(mu_);
            failed_ = true;
            error_ = std::move(s);
        }
        free_cv_.notify_one();
    }
    Status error() {
        std::lock_guard lock(mu_);
        return error_;
    }

private:
    std::array<std::vector<char>, kBuffers> buffers_;
    std::mutex mu_;
    std::condition_variable free_cv_;
    std::condition_variable filled_cv_;
    std::deque<std::size_t> free_;
    std::deque<std::pair<std::size_t, std::size_t>> filled_;
    bool done_ = false;
    bool failed_ = false;
    Status error_;
};

Result<std::string> copy_pipelined(int in_fd, const fs::path& in_path, int out_fd,
                                   const fs::path& out_path, std::uint64_t& size) {
    RUNICORN_ASSIGN_OR_RETURN(auto hash, Sha256::create());
    ChunkQueue queue;
    std::jthread writer([&] {
        std::uint64_t written = 0;
        std::uint64_t flushed = 0;
        bool failed = false;
        while (auto f = queue.take_filled()) {
            if (!failed) {
                auto s = write_all(out_fd, queue.buffer(f->first), f->second, out_path);
                if (!s.is_ok()) {
                    failed = true;
                    queue.fail(std::move(s));
                }
                written += f->second;
                if (written - flushed >= kWritebackEvery) {
                    // Start writeback now; the fsync before publishing then waits for little.
                    ::sync_file_range(out_fd, static_cast<off_t>(flushed),
                                      static_cast<off_t>(written - flushed), SYNC_FILE_RANGE_WRITE);
                    flushed = written;
                }
            }
            queue.give_back(f->first);
        }
    });
    size = 0;
    Status read_error;
    for (;;) {
        auto i = queue.take_free();
        if (!i) {
            break;  // the writer failed
        }
        auto n = read_some(in_fd, queue.buffer(*i), kChunkBytes, in_path);
        if (!n || *n == 0) {
            if (!n) {
                read_error = n.error();
            }
            queue.give_back(*i);
            break;
        }
        // Hashed here, written there: the same bytes, and the buffer is not reused until the
        // writer gives it back.
        hash.update(queue.buffer(*i), *n);
        size += *n;
        queue.push_filled(*i, *n);
    }
    queue.finish();
    writer.join();
    RUNICORN_RETURN_IF_ERROR(read_error);
    RUNICORN_RETURN_IF_ERROR(queue.error());
    return hash.hex_digest();
}

}  // namespace

Result<std::string> copy_and_hash(int in_fd, const fs::path& in_path, int out_fd,
                                  const fs::path& out_path, std::uint64_t size_hint,
                                  std::uint64_t& size) {
    if (size_hint > kPipelineThreshold) {
        return copy_pipelined(in_fd, in_path, out_fd, out_path, size);
    }
    return copy_serial(in_fd, in_path, out_fd, out_path, size);
}

}  // namespace runicorn::dedup
