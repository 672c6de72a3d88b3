#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <runicorn/result.hpp>

// OpenSSL's context type, forward-declared so <openssl/evp.h> stays out of headers (rule 12).
struct evp_md_ctx_st;

namespace runicorn::dedup {

/// The buffer size of every streaming read in the blob store (1 MiB).
inline constexpr std::size_t kChunkBytes = 1 << 20;

/// Streaming SHA-256 over OpenSSL EVP (SHA-NI where the CPU has it).
/// Thread safety: externally synchronized.
class Sha256 {
public:
    /// A fresh context; INTERNAL when OpenSSL cannot make one.
    static Result<Sha256> create();

    /// Feeds `n` bytes.
    void update(const void* data, std::size_t n);
    /// Finishes and returns the 64 lower-case hex digits; the object is reset for reuse.
    std::string hex_digest();

private:
    struct CtxDeleter {
        void operator()(evp_md_ctx_st* ctx) const noexcept;
    };
    explicit Sha256(std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx) : ctx_(std::move(ctx)) {}

    std::unique_ptr<evp_md_ctx_st, CtxDeleter> ctx_;
};

/// SHA-256 of `bytes` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

/// Hashes what `fd` reads from its current offset to the end, in 1 MiB chunks; `path` names it in
/// errors. Returns the hex digest; `size` (if given) receives the byte count.
Result<std::string> sha256_fd(int fd, const std::filesystem::path& path,
                              std::uint64_t* size = nullptr);

/// Opens `path` (symlinks followed) and hashes it; errors name the file.
Result<std::string> sha256_file(const std::filesystem::path& path, std::uint64_t* size = nullptr);

}  // namespace runicorn::dedup
